// Bots, and how their owner is told about rooms: the calls an account makes
// about itself rather than about a conversation.
import { create } from "@bufbuild/protobuf";
import {
  type Bot,
  BotTrigger,
  CreateBotRequestSchema,
  ListBotsRequestSchema,
  type ListBotsResponse,
  NotifyLevel,
  RevokeBotRequestSchema,
  SetEmailRequestSchema,
  type SetEmailResponse,
  SetNotifyRequestSchema,
  type SetNotifyResponse,
} from "../gen/chat_pb.js";
import type { GrpcChannel } from "./grpc-channel.ts";

export type BotTriggerName = "mentions" | "all" | "words";
export type NotifyLevelName = "all" | "mentions" | "off";

export interface BotInfo {
  readonly name: string;
  readonly userId: string;
  readonly ownerId: string;
  readonly rooms: readonly string[];
  readonly read: boolean;
  readonly createdMs: number;
  /** 0 while its token works. */
  readonly revokedMs: number;
  /** Only from `create` and `revoke(name, { renew: true })`. */
  readonly token: string;
  readonly outgoingUrl: string;
  readonly trigger: BotTriggerName;
  readonly triggerWords: readonly string[];
  /** Only from `create`: the key of the X-Chat-Signature header's HMAC. */
  readonly signingSecret: string;
  readonly lastError: string;
  readonly lastErrorMs: number;
  readonly delivered: number;
  readonly failed: number;
}

const TRIGGERS: Record<BotTriggerName, BotTrigger> = {
  mentions: BotTrigger.MENTIONS,
  all: BotTrigger.ALL,
  words: BotTrigger.WORDS,
};

const LEVELS: Record<NotifyLevelName, NotifyLevel> = {
  all: NotifyLevel.ALL,
  mentions: NotifyLevel.MENTIONS,
  off: NotifyLevel.OFF,
};

/** A level from the wire; unspecified is the default, mentions. */
export function notifyLevelName(level: NotifyLevel): NotifyLevelName {
  if (level === NotifyLevel.ALL) return "all";
  return level === NotifyLevel.OFF ? "off" : "mentions";
}

const botInfo = (b: Bot): BotInfo => ({
  name: b.name,
  userId: b.userId,
  ownerId: b.ownerId,
  rooms: b.rooms,
  read: b.read,
  createdMs: Number(b.createdAtMs),
  revokedMs: Number(b.revokedAtMs),
  token: b.token,
  outgoingUrl: b.outgoingUrl,
  trigger:
    b.trigger === BotTrigger.ALL ? "all" : b.trigger === BotTrigger.WORDS ? "words" : "mentions",
  triggerWords: b.triggerWords,
  signingSecret: b.signingSecret,
  lastError: b.lastError,
  lastErrorMs: Number(b.lastErrorAtMs),
  delivered: Number(b.delivered),
  failed: Number(b.failed),
});

export interface NewBot {
  readonly name: string;
  readonly rooms: readonly string[];
  /** Whether it may read the rooms too (default: post only). */
  readonly read?: boolean;
  /** Where the server POSTs the rooms' messages. */
  readonly outgoingUrl?: string;
  readonly trigger?: BotTriggerName;
  readonly triggerWords?: readonly string[];
}

export class BotCalls {
  readonly #channel: () => GrpcChannel;

  constructor(channel: () => GrpcChannel) {
    this.#channel = channel;
  }

  /** A new bot; its token (and signing secret) are in this answer only. */
  async create(bot: NewBot): Promise<BotInfo> {
    const request = create(CreateBotRequestSchema, {
      name: bot.name,
      rooms: [...bot.rooms],
      read: bot.read ?? false,
      outgoingUrl: bot.outgoingUrl ?? "",
      trigger: TRIGGERS[bot.trigger ?? "mentions"],
      triggerWords: [...(bot.triggerWords ?? [])],
    });
    return botInfo(await this.#channel().unary<Bot>("createBot", request));
  }

  /** Our bots (an admin's: every bot), with their outgoing delivery state. */
  async list(): Promise<BotInfo[]> {
    const answer = await this.#channel().unary<ListBotsResponse>(
      "listBots",
      create(ListBotsRequestSchema, {}),
    );
    return answer.bots.map(botInfo);
  }

  /** Its token stops working at once; with `renew`, the answer holds a new one. */
  async revoke(name: string, options: { renew?: boolean } = {}): Promise<BotInfo> {
    const request = create(RevokeBotRequestSchema, { name, renew: options.renew ?? false });
    return botInfo(await this.#channel().unary<Bot>("revokeBot", request));
  }
}

/** How the signed-in user is told about rooms, and where unread mentions are emailed. */
export class NotifyCalls {
  readonly #channel: () => GrpcChannel;

  constructor(channel: () => GrpcChannel) {
    this.#channel = channel;
  }

  /** Every message, mentions (and DMs), or nothing, for `room`; answers the level now set. */
  async set(room: string, level: NotifyLevelName): Promise<NotifyLevelName> {
    const request = create(SetNotifyRequestSchema, { room, level: LEVELS[level] });
    const answer = await this.#channel().unary<SetNotifyResponse>("setNotify", request);
    return notifyLevelName(answer.level);
  }

  /** Where unread mentions and DMs are emailed; "" stops the emails. */
  async setEmail(email: string): Promise<string> {
    const request = create(SetEmailRequestSchema, { email });
    return (await this.#channel().unary<SetEmailResponse>("setEmail", request)).email;
  }
}
