import type { BotInfo, NewBot } from "../client/bot-calls.ts";
import { type ChatClient, ChatClientError } from "../client/chat-client.ts";

/** What a line typed about the user's bots, or their email address, asks for. */
export type BotCommand =
  | { readonly kind: "bot-new"; readonly bot: NewBot }
  | { readonly kind: "bots" }
  | { readonly kind: "bot-revoke"; readonly name: string; readonly renew: boolean }
  | { readonly kind: "email"; readonly address: string | undefined };

export type BotParse = BotCommand | { readonly kind: "usage"; readonly text: string };

export const BOT_HELP: readonly string[] = [
  "/bot new name room[,room] [read] [url [all|mentions|words w1 w2]]  a bot: prints its token once",
  "/bots  your bots and their hooks' last errors; /bot revoke name, /bot renew name (a new token)",
  "/email [address|off]  where unread mentions and DMs are emailed, if the server sends email",
];

const USAGE =
  "Usage: /bot new name room[,room] [read] [url [all|mentions|words w1 w2 ...]], /bot revoke name, /bot renew name, or /bots";

/** `/bot new` as typed: a name, its rooms, then any of read, a URL and a trigger. */
function parseNewBot(words: readonly string[]): NewBot | undefined {
  const [name, rooms, ...rest] = words;
  if (!name || !rooms) return undefined;
  let read = false;
  let outgoingUrl: string | undefined;
  let trigger: NewBot["trigger"];
  let triggerWords: string[] = [];
  for (let i = 0; i < rest.length; i += 1) {
    const word = rest[i] ?? "";
    if (word === "read") read = true;
    else if (/^https?:\/\//i.test(word)) outgoingUrl = word;
    else if (word === "all" || word === "mentions") trigger = word;
    else if (word === "words") {
      trigger = "words";
      triggerWords = rest.slice(i + 1);
      break;
    } else return undefined;
  }
  return {
    name,
    rooms: rooms
      .split(",")
      .map((room) => room.trim().replace(/^#/, ""))
      .filter((room) => room !== ""),
    read,
    ...(outgoingUrl ? { outgoingUrl } : {}),
    ...(trigger ? { trigger } : {}),
    ...(triggerWords.length > 0 ? { triggerWords } : {}),
  };
}

/** The bot and email commands; undefined for any other command name. */
export function parseBotCommand(name: string, line: string): BotParse | undefined {
  const args = line.trim().slice(name.length).trim();
  const words = args === "" ? [] : args.split(/\s+/);
  switch (name) {
    case "/email":
      if (words.length > 1) return { kind: "usage", text: "Usage: /email [address|off]" };
      return { kind: "email", address: words[0] === "off" ? "" : words[0] };
    case "/bots":
      return words.length === 0 ? { kind: "bots" } : { kind: "usage", text: USAGE };
    case "/bot": {
      const [verb, ...rest] = words;
      if (verb === "new") {
        const bot = parseNewBot(rest);
        return bot ? { kind: "bot-new", bot } : { kind: "usage", text: USAGE };
      }
      if ((verb === "revoke" || verb === "renew") && rest.length === 1 && rest[0]) {
        return { kind: "bot-revoke", name: rest[0], renew: verb === "renew" };
      }
      return { kind: "usage", text: USAGE };
    }
    default:
      return undefined;
  }
}

/** What the bot commands need of the controller. */
export interface BotContext {
  readonly client: ChatClient;
  info(text: string): void;
  error(text: string): void;
}

function describe(bot: BotInfo): string {
  const state = bot.revokedMs === 0 ? "works" : "revoked";
  const access = bot.read ? "reads and posts" : "posts";
  const hook = bot.outgoingUrl
    ? `, POSTs ${bot.trigger === "words" ? `words ${bot.triggerWords.join(" ")}` : bot.trigger} to ${bot.outgoingUrl} (${bot.delivered} delivered, ${bot.failed} failed here)`
    : "";
  const failure = bot.lastError
    ? `; last error ${new Date(bot.lastErrorMs).toISOString().slice(0, 19)}Z: ${bot.lastError}`
    : "";
  return `${bot.name}  ${state}, ${access} in ${bot.rooms.map((r) => `#${r}`).join(", ")}${hook}${failure}`;
}

/** The terminal client's /bot new, /bots, /bot revoke|renew and /email. */
export class BotCommands {
  readonly #ctx: BotContext;

  constructor(ctx: BotContext) {
    this.#ctx = ctx;
  }

  async run(command: BotCommand): Promise<void> {
    const ctx = this.#ctx;
    const { bots, notify } = ctx.client;
    try {
      switch (command.kind) {
        case "bot-new": {
          const bot = await bots.create(command.bot);
          ctx.info(`Bot "${bot.name}" made. ${describe(bot)}`);
          ctx.info(`Its token, shown only now: ${bot.token}`);
          if (bot.signingSecret) {
            ctx.info(`Its hook's signing secret, shown only now: ${bot.signingSecret}`);
          }
          ctx.info(`/bot revoke ${bot.name} stops it; /bot renew ${bot.name} gives a new token.`);
          return;
        }
        case "bots": {
          const mine = await bots.list();
          if (mine.length === 0) ctx.info("You have no bots; /bot new makes one.");
          for (const bot of mine) ctx.info(describe(bot));
          return;
        }
        case "bot-revoke": {
          const bot = await bots.revoke(command.name, { renew: command.renew });
          if (command.renew) {
            ctx.info(`Bot "${bot.name}" has a new token, shown only now: ${bot.token}`);
            ctx.info("The old one no longer works.");
          } else ctx.info(`Bot "${bot.name}" revoked: its token no longer works.`);
          return;
        }
        case "email": {
          if (command.address === undefined) {
            const { email } = await ctx.client.whoAmI();
            ctx.info(
              email
                ? `Unread mentions and DMs are emailed to ${email}, if this server sends email; /email off stops it.`
                : "No email address set; /email address sets one.",
            );
            return;
          }
          const email = await notify.setEmail(command.address);
          ctx.info(
            email
              ? `Unread mentions and DMs will be emailed to ${email}, if this server sends email.`
              : "No more emails.",
          );
          return;
        }
      }
    } catch (error) {
      ctx.error(error instanceof ChatClientError ? error.message : String(error));
    }
  }
}
