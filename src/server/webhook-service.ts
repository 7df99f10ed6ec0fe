import { create } from "@bufbuild/protobuf";
import { DEFAULT_ROOM } from "../core/types.ts";
import { WEBHOOK_PATH_PREFIX } from "../core/webhooks.ts";
import { ListWebhooksResponseSchema, type Webhook, WebhookSchema } from "../gen/chat_pb.js";
import type { WebhookRecord } from "../store/governance-store.ts";
import type { HandlerContext } from "./context.ts";
import type { ChatServicePart } from "./service-impl.ts";

function webhookReply(hook: WebhookRecord, secret?: string): Webhook {
  return create(WebhookSchema, {
    room: hook.room,
    name: hook.name,
    userId: hook.id,
    path: secret === undefined ? "" : `${WEBHOOK_PATH_PREFIX}${secret}`,
    createdBy: hook.createdBy,
    createdAtMs: BigInt(hook.createdMs),
    revokedAtMs: BigInt(hook.revokedMs),
  });
}

/** CreateWebhook, ListWebhooks, RevokeWebhook; the posts themselves arrive on the HTTP port. */
export function webhookService(
  context: HandlerContext,
): ChatServicePart<"createWebhook" | "listWebhooks" | "revokeWebhook"> {
  const { chat } = context;
  const speaker = (caller: Parameters<typeof chat.identities.speaker>[0]) =>
    chat.identities.speaker(caller);
  return {
    createWebhook: async (request, { caller }) => {
      const { hook, secret } = await chat.webhooks.create(
        await speaker(caller),
        request.room || DEFAULT_ROOM,
        request.name,
      );
      return webhookReply(hook, secret);
    },

    listWebhooks: async (request, { caller }) => {
      const hooks = await chat.webhooks.list(await speaker(caller), request.room || DEFAULT_ROOM);
      return create(ListWebhooksResponseSchema, {
        webhooks: hooks.map((hook) => webhookReply(hook)),
      });
    },

    revokeWebhook: async (request, { caller }) => {
      const hook = await chat.webhooks.revoke(
        await speaker(caller),
        request.room || DEFAULT_ROOM,
        request.name,
      );
      return webhookReply(hook);
    },
  };
}
