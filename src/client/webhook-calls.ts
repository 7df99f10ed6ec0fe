// The RPCs of incoming webhooks: a room's moderators make, list and revoke
// them; the posts themselves go to the HTTP port, not through this client.
import { create } from "@bufbuild/protobuf";
import {
  CreateWebhookRequestSchema,
  ListWebhooksRequestSchema,
  type ListWebhooksResponse,
  RevokeWebhookRequestSchema,
  type Webhook,
} from "../gen/chat_pb.js";
import type { GrpcChannel } from "./grpc-channel.ts";

export interface WebhookInfo {
  readonly room: string;
  readonly name: string;
  /** The user id its messages carry. */
  readonly userId: string;
  /** Only from `create`: the path to POST to on the HTTP port (/hooks/<secret>). */
  readonly path: string;
  readonly createdBy: string;
  readonly createdMs: number;
  /** 0 while it works. */
  readonly revokedMs: number;
}

const webhookInfo = (w: Webhook): WebhookInfo => ({
  room: w.room,
  name: w.name,
  userId: w.userId,
  path: w.path,
  createdBy: w.createdBy,
  createdMs: Number(w.createdAtMs),
  revokedMs: Number(w.revokedAtMs),
});

export class WebhookCalls {
  readonly #channel: () => GrpcChannel;

  constructor(channel: () => GrpcChannel) {
    this.#channel = channel;
  }

  /** A new hook named `name`; its `path` (with the secret) is in this answer only. */
  async create(room: string, name: string): Promise<WebhookInfo> {
    const request = create(CreateWebhookRequestSchema, { room, name });
    return webhookInfo(await this.#channel().unary<Webhook>("createWebhook", request));
  }

  /** The room's hooks, revoked ones too, without their secrets. */
  async list(room: string): Promise<WebhookInfo[]> {
    const request = create(ListWebhooksRequestSchema, { room });
    const answer = await this.#channel().unary<ListWebhooksResponse>("listWebhooks", request);
    return answer.webhooks.map(webhookInfo);
  }

  /** Its address stops working at once. */
  async revoke(room: string, name: string): Promise<WebhookInfo> {
    const request = create(RevokeWebhookRequestSchema, { room, name });
    return webhookInfo(await this.#channel().unary<Webhook>("revokeWebhook", request));
  }
}
