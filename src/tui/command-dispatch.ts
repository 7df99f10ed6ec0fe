import type { AccountCommands } from "./account-commands.ts";
import { BotCommands } from "./bot-commands.ts";
import { helpLines, parseCommand } from "./commands.ts";
import type { HistoryReader } from "./history-reader.ts";
import type { MessageCommands } from "./message-commands.ts";
import type { ModerationCommands } from "./moderation-commands.ts";
import type { Notifier } from "./notify.ts";
import { NotifyCommands } from "./notify-commands.ts";
import type { RoomCommands } from "./room-commands.ts";
import { SearchCommands, type SearchContext } from "./search-commands.ts";
import { SEED_NOTICE, seedRefusal } from "./seed-mode.ts";
import type { SendCommands } from "./send-commands.ts";
import { WebhookCommands } from "./webhook-commands.ts";

/** What a typed line needs of the controller: the commands' handlers and a few facts. */
export interface DispatchContext extends SearchContext {
  readonly rooms: RoomCommands;
  readonly sends: SendCommands;
  readonly messages: MessageCommands;
  readonly moderation: ModerationCommands;
  readonly accounts: AccountCommands;
  readonly history: HistoryReader;
  readonly notifier: Notifier;
  /** The room shown. */
  current(): string;
  /** The most messages /history may ask for, on this server. */
  maxHistory(): number;
  /** The server speaks only the seed's protocol. */
  seedOnly(): boolean;
  /** True when a room is shown; else says so and is false. */
  inRoom(): boolean;
  /** /ids turned message numbers on or off. */
  showIds(on: boolean): void;
  info(text: string): void;
  error(text: string): void;
}

/**
 * A typed line to the handler of its command. It holds /batch's lines,
 * since while a batch is open every line but /end is one of them.
 */
export class CommandDispatch {
  readonly #ctx: DispatchContext;
  readonly #search: SearchCommands;
  readonly #webhooks: WebhookCommands;
  readonly #notify: NotifyCommands;
  readonly #bots: BotCommands;
  #batch: string[] | undefined;

  constructor(ctx: DispatchContext) {
    this.#ctx = ctx;
    this.#search = new SearchCommands(ctx);
    this.#webhooks = new WebhookCommands(ctx);
    this.#notify = new NotifyCommands(ctx);
    this.#bots = new BotCommands(ctx);
  }

  /** Handles one typed line. Resolves to false when the user asked to leave. */
  async input(line: string): Promise<boolean> {
    const ctx = this.#ctx;
    const command = parseCommand(line, ctx.maxHistory());
    if (this.#batch !== undefined) {
      if (command.kind === "end") {
        await ctx.sends.batch(this.#batch);
        this.#batch = undefined;
      } else if (command.kind !== "empty") {
        this.#batch.push(command.kind === "message" ? command.text : line);
      }
      return true;
    }
    const refusal = ctx.seedOnly() ? seedRefusal(command) : undefined;
    if (refusal !== undefined) {
      ctx.error(refusal);
      return true;
    }
    switch (command.kind) {
      case "empty":
        return true;
      case "message":
        ctx.sends.send(command.text);
        return true;
      case "history":
        if (ctx.inRoom()) await ctx.history.show(ctx.current(), command.count);
        return true;
      case "join":
      case "leave":
      case "switch":
      case "rooms":
      case "who":
      case "topic":
      case "msg":
        await ctx.rooms.run(command);
        return true;
      case "search":
      case "more":
      case "goto":
        await this.#search.run(command);
        return true;
      case "batch":
        this.#batch = [];
        ctx.info("Batch mode: type messages, then /end to send them in one call.");
        return true;
      case "end":
        ctx.info("/end closes a /batch; there is none open.");
        return true;
      case "ping":
        await ctx.sends.ping();
        return true;
      case "edit":
      case "delete":
      case "react":
      case "reply":
      case "ids":
        await ctx.messages.run(command);
        if (command.kind === "ids") ctx.showIds(ctx.messages.showIds);
        return true;
      case "register":
      case "login":
      case "logout":
      case "whoami":
        await ctx.accounts.run(command);
        return true;
      case "invite":
      case "unban":
      case "unmute":
      case "op":
      case "deop":
      case "kick":
      case "ban":
      case "mute":
      case "private":
      case "readonly":
      case "report":
      case "reports":
      case "resolve":
      case "audit":
      case "bans":
      case "invite-code":
        await ctx.moderation.run(command);
        return true;
      case "webhook-new":
      case "webhooks":
      case "webhook-revoke":
        await this.#webhooks.run(command);
        return true;
      case "notify":
        await this.#notify.run(command);
        return true;
      case "bot-new":
      case "bots":
      case "bot-revoke":
      case "email":
        await this.#bots.run(command);
        return true;
      case "help":
        for (const text of helpLines(ctx.maxHistory())) ctx.info(text);
        if (ctx.seedOnly()) ctx.info(SEED_NOTICE);
        return true;
      case "usage":
        ctx.info(command.text);
        return true;
      case "quit":
        return false;
    }
  }
}
