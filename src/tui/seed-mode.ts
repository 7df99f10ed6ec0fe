import type { Command } from "./commands.ts";
import { MODERATION_KINDS } from "./moderation-parse.ts";

// What the terminal client says on a server that speaks only the seed's
// protocol (JoinChat, ChatStream, GetChatHistory, SendMessages): our Session
// and the rest of our API answer UNIMPLEMENTED there.

/** Said once, when the client falls back to the seed's protocol. */
export const SEED_NOTICE =
  "This server speaks only the original chat protocol: everyone is in one room, and rooms, direct messages and accounts are unavailable. Chat, /history, /batch and /ping work.";

/** The seed keeps its last 1000 messages: no /history can show more. */
export const SEED_HISTORY_KEPT = 1000;

/** What each command the seed's protocol cannot carry would need. */
const NEEDS: Partial<Record<Command["kind"], readonly [command: string, needs: string]>> = {
  join: ["/join", "rooms"],
  leave: ["/leave", "rooms"],
  rooms: ["/rooms", "rooms"],
  topic: ["/topic", "room topics"],
  who: ["/who", "a list of who is online"],
  msg: ["/msg", "direct messages"],
  register: ["/register", "accounts"],
  login: ["/login", "accounts"],
  logout: ["/logout", "accounts"],
  whoami: ["/whoami", "accounts"],
  edit: ["/edit", "editing of messages"],
  delete: ["/delete", "deleting of messages"],
  react: ["/react", "reactions"],
  reply: ["/reply", "replies"],
  ids: ["/ids", "message numbers"],
  "webhook-new": ["/webhook", "webhooks"],
  webhooks: ["/webhooks", "webhooks"],
  "webhook-revoke": ["/webhook", "webhooks"],
  notify: ["/notify", "notification settings"],
  "bot-new": ["/bot", "bots"],
  bots: ["/bots", "bots"],
  "bot-revoke": ["/bot", "bots"],
  email: ["/email", "email"],
};

/** Why `command` cannot be done on a seed-only server; undefined when it can. */
export function seedRefusal(command: Command): string | undefined {
  const needs = MODERATION_KINDS.has(command.kind)
    ? ([`/${command.kind}`, "moderation"] as const)
    : NEEDS[command.kind];
  if (needs === undefined) return undefined;
  return `${needs[0]} is not available: this server speaks only the original chat protocol, which has no ${needs[1]}.`;
}
