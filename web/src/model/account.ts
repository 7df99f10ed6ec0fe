import { type Bot, BotTrigger } from "../../../src/gen/chat_pb.js";
import { call } from "./actions.ts";
import type { ChatModel } from "./chat-model.ts";

/**
 * The calls of the account settings: the digest email address and the
 * user's bots. Each throws an Error with the server's sentence when refused.
 * Only accounts may make them; the view asks `isAccount` first so a guest
 * is told why without a round trip.
 */

export function isAccount(model: ChatModel): boolean {
  return model.session.kind === "account";
}

/** The address unread mentions and DMs are emailed to ("" for none). */
export async function currentEmail(model: ChatModel): Promise<string> {
  return (await call(model.client.whoAmI({}))).email;
}

/** Sets the address ("" stops the emails); resolves to the one now set. */
export async function setEmail(model: ChatModel, email: string): Promise<string> {
  return (await call(model.client.setEmail({ email: email.trim() }))).email;
}

export type TriggerName = "mentions" | "all" | "words";

const TRIGGERS: Record<TriggerName, BotTrigger> = {
  mentions: BotTrigger.MENTIONS,
  all: BotTrigger.ALL,
  words: BotTrigger.WORDS,
};

/** A bot as the settings show it; never its token, which only the answer that makes it holds. */
export interface BotView {
  readonly name: string;
  readonly rooms: readonly string[];
  readonly read: boolean;
  readonly outgoingUrl: string;
  readonly trigger: TriggerName;
  readonly triggerWords: readonly string[];
  readonly revoked: boolean;
  readonly lastError: string;
  readonly lastErrorAtMs: number;
  readonly delivered: number;
  readonly failed: number;
}

const triggerName = (trigger: BotTrigger): TriggerName =>
  trigger === BotTrigger.ALL ? "all" : trigger === BotTrigger.WORDS ? "words" : "mentions";

const botView = (bot: Bot): BotView => ({
  name: bot.name,
  rooms: bot.rooms,
  read: bot.read,
  outgoingUrl: bot.outgoingUrl,
  trigger: triggerName(bot.trigger),
  triggerWords: bot.triggerWords,
  revoked: bot.revokedAtMs > 0n,
  lastError: bot.lastError,
  lastErrorAtMs: Number(bot.lastErrorAtMs),
  delivered: Number(bot.delivered),
  failed: Number(bot.failed),
});

/** Splits a typed list on commas and spaces, dropping empties and a room's leading "#". */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((item) => item.replace(/^#/, ""))
    .filter((item) => item !== "");
}

export interface NewBot {
  readonly name: string;
  readonly rooms: string;
  readonly read: boolean;
  readonly outgoingUrl: string;
  readonly trigger: TriggerName;
  readonly triggerWords: string;
}

/** The new bot, and its token and signing secret ("" without an outgoing URL): shown only now. */
export async function createBot(
  model: ChatModel,
  form: NewBot,
): Promise<{ bot: BotView; token: string; signingSecret: string }> {
  const name = form.name.trim();
  const rooms = splitList(form.rooms);
  if (name === "") throw new Error("Give the bot a name.");
  if (rooms.length === 0) throw new Error("Name at least one room the bot may post in.");
  const outgoingUrl = form.outgoingUrl.trim();
  const words = form.trigger === "words" ? splitList(form.triggerWords) : [];
  if (outgoingUrl !== "" && form.trigger === "words" && words.length === 0) {
    throw new Error("Type the words that trigger the bot, or pick another trigger.");
  }
  const bot = await call(
    model.client.createBot({
      name,
      rooms,
      read: form.read,
      outgoingUrl,
      // A trigger means nothing without an address to POST to.
      trigger: outgoingUrl === "" ? BotTrigger.UNSPECIFIED : TRIGGERS[form.trigger],
      triggerWords: outgoingUrl === "" ? [] : words,
    }),
  );
  return { bot: botView(bot), token: bot.token, signingSecret: bot.signingSecret };
}

export async function listBots(model: ChatModel): Promise<BotView[]> {
  return (await call(model.client.listBots({}))).bots.map(botView);
}

export async function revokeBot(model: ChatModel, name: string): Promise<void> {
  await call(model.client.revokeBot({ name, renew: false }));
}

/** A new token for the bot (the old one stops at once), shown only now. */
export async function renewBotToken(model: ChatModel, name: string): Promise<string> {
  return (await call(model.client.revokeBot({ name, renew: true }))).token;
}
