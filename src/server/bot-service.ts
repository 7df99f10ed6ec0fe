import { create } from "@bufbuild/protobuf";
import type { DeliveryState } from "../core/outgoing-hooks.ts";
import type { Identity } from "../core/types.ts";
import {
  type Bot,
  BotSchema,
  BotTrigger,
  ListBotsResponseSchema,
  SetEmailResponseSchema,
  SetNotifyResponseSchema,
} from "../gen/chat_pb.js";
import type { BotRecord, BotTrigger as TriggerName } from "../store/integration-store.ts";
import type { HandlerContext } from "./context.ts";
import { levelName, notifyLevel } from "./encoders.ts";
import type { ChatServicePart } from "./service-impl.ts";

const TRIGGERS: Record<TriggerName, BotTrigger> = {
  mentions: BotTrigger.MENTIONS,
  all: BotTrigger.ALL,
  words: BotTrigger.WORDS,
};

function triggerName(trigger: BotTrigger): TriggerName {
  if (trigger === BotTrigger.ALL) return "all";
  return trigger === BotTrigger.WORDS ? "words" : "mentions";
}

function botReply(
  bot: BotRecord,
  state: DeliveryState | undefined,
  secrets: { token?: string; signingSecret?: string } = {},
): Bot {
  return create(BotSchema, {
    name: bot.username,
    userId: bot.userId,
    ownerId: bot.ownerId,
    rooms: [...bot.rooms],
    read: bot.canRead,
    createdAtMs: BigInt(bot.createdMs),
    revokedAtMs: BigInt(bot.revokedMs),
    token: secrets.token ?? "",
    outgoingUrl: bot.outgoing?.url ?? "",
    trigger: bot.outgoing ? TRIGGERS[bot.outgoing.trigger] : BotTrigger.UNSPECIFIED,
    triggerWords: [...(bot.outgoing?.words ?? [])],
    signingSecret: secrets.signingSecret ?? "",
    // The store's, written by whichever node delivers; this node's own may be newer.
    ...(state && state.lastErrorMs > bot.lastErrorMs
      ? { lastError: state.lastError, lastErrorAtMs: BigInt(state.lastErrorMs) }
      : { lastError: bot.lastError, lastErrorAtMs: BigInt(bot.lastErrorMs) }),
    delivered: BigInt(state?.delivered ?? 0),
    failed: BigInt(state?.failed ?? 0),
  });
}

/** CreateBot, ListBots, RevokeBot, SetNotify, SetEmail. */
export function botService(
  context: HandlerContext,
): ChatServicePart<"createBot" | "listBots" | "revokeBot" | "setNotify" | "setEmail"> {
  const { chat } = context;
  const speaker = (caller: Parameters<typeof chat.identities.speaker>[0]): Promise<Identity> =>
    chat.identities.speaker(caller);
  const state = (bot: BotRecord) => chat.outgoing?.state(bot.userId);

  return {
    createBot: async (request, { caller }) => {
      const { bot, token, signingSecret } = await chat.bots.create(await speaker(caller), {
        name: request.name,
        rooms: request.rooms,
        read: request.read,
        outgoingUrl: request.outgoingUrl,
        trigger: triggerName(request.trigger),
        words: request.triggerWords,
      });
      return botReply(bot, state(bot), { token, signingSecret });
    },

    listBots: async (_request, { caller }) => {
      const bots = await chat.bots.list(await speaker(caller));
      return create(ListBotsResponseSchema, { bots: bots.map((bot) => botReply(bot, state(bot))) });
    },

    revokeBot: async (request, { caller }) => {
      const { bot, token } = await chat.bots.revoke(
        await speaker(caller),
        request.name,
        request.renew,
      );
      return botReply(bot, state(bot), { token });
    },

    setNotify: async (request, { caller }) => {
      const level = await chat.notify.set(
        await speaker(caller),
        request.room || "lobby",
        levelName(request.level),
      );
      return create(SetNotifyResponseSchema, { level: notifyLevel(level) });
    },

    setEmail: async (request, { caller }) => {
      const email = await chat.notify.setEmail(await speaker(caller), request.email);
      return create(SetEmailResponseSchema, { email });
    },
  };
}
