import { type ChatClient, ChatClientError, type ChatLine } from "../client/chat-client.ts";
import { plainSnippet } from "../client/markup.ts";
import type { DisplayItem, Quote } from "./chat-view.ts";
import type { Command, MessageTarget } from "./commands.ts";
import { MessageIndex } from "./message-index.ts";

/** What the message commands need of the controller. */
export interface MessageContext {
  readonly client: ChatClient;
  /** The room shown. */
  current(): string;
  /** Our public id: whose messages are ours. */
  selfId(): string;
  /** True when a room is shown; else says so and is false. */
  inRoom(): boolean;
  /** Sends a message to the room shown, as an answer to `replyTo`. */
  send(text: string, replyTo: number): void;
  show(item: DisplayItem): void;
  info(text: string): void;
  error(text: string): void;
}

type MessageCommand = Extract<Command, { kind: "edit" | "delete" | "react" | "reply" | "ids" }>;

const SNIPPET_CHARS = 60;

/**
 * The commands about messages already sent (/edit, /delete, /react, /reply,
 * /ids), and what they look up: the messages shown, each in its current
 * state, and the messages replies answer.
 */
export class MessageCommands {
  readonly #ctx: MessageContext;
  readonly index = new MessageIndex();
  /** Replies' originals asked of the server, by "room id": each is asked once. */
  readonly #asked = new Set<string>();
  #showIds = false;

  constructor(ctx: MessageContext) {
    this.#ctx = ctx;
  }

  get showIds(): boolean {
    return this.#showIds;
  }

  async run(command: MessageCommand): Promise<void> {
    const ctx = this.#ctx;
    if (command.kind === "ids") {
      this.#showIds = !this.#showIds;
      ctx.info(this.#showIds ? "Message numbers are shown." : "Message numbers are hidden.");
      return;
    }
    if (!ctx.inRoom()) return;
    const room = ctx.current();
    if (command.kind === "reply") {
      if (!this.index.get(room, command.id) && !(await this.#lookUp(room, command.id))) {
        return ctx.error(`There is no message #${command.id} in this room to reply to.`);
      }
      return ctx.send(command.text, command.id);
    }
    const target = this.#resolve(room, command.target, command.kind !== "react");
    if (target === undefined) return;
    try {
      if (command.kind === "edit") {
        await ctx.client.edit(room, target, command.text);
      } else if (command.kind === "delete") {
        const { id } = await ctx.client.delete(room, target);
        if (id === 0) ctx.info(`Message #${target} was deleted already.`);
      } else {
        const mine = this.index
          .get(room, target)
          ?.reactions?.some((r) => r.emoji === command.emoji && r.mine);
        await ctx.client.react(room, target, command.emoji, mine === true);
      }
    } catch (error) {
      const verb = { edit: "Not edited", delete: "Not deleted", react: "No reaction" }[
        command.kind
      ];
      ctx.error(`${verb}: ${ChatClientError.from(error).message}`);
    }
  }

  /** The input line that edits our newest message here (Up on an empty line); undefined when none. */
  recallEdit(): string | undefined {
    const line = this.index.newest(this.#ctx.current(), this.#ctx.selfId());
    return line && `/edit ${line.id} ${line.text}`;
  }

  /** How a reply shows what it answers: from what is held, else asked of the server once. */
  quoteFor(line: ChatLine): Quote | undefined {
    const replyTo = line.replyTo ?? 0;
    if (replyTo <= 0) return undefined;
    const original = this.index.get(line.room, replyTo);
    if (original) return quoteOf(original);
    void this.#lookUp(line.room, replyTo).then((found) => {
      if (found) {
        this.#ctx.show({ kind: "quote", room: line.room, id: replyTo, quote: quoteOf(found) });
      }
    });
    return undefined;
  }

  /** `target` as an id; "last" is our newest message here (or, for a reaction, the newest). */
  #resolve(room: string, target: MessageTarget, ours: boolean): number | undefined {
    if (typeof target === "number") return target;
    const newest = this.index.newest(room, ours ? this.#ctx.selfId() : undefined);
    if (!newest) {
      this.#ctx.error(
        ours
          ? "You have no message in this room yet; name one by its number (/ids shows them)."
          : "There is no message in this room yet.",
      );
    }
    return newest?.id;
  }

  /** A message of the room by id, from the server, held from now on; undefined when there is none. */
  async #lookUp(room: string, id: number): Promise<ChatLine | undefined> {
    const key = `${room} ${id}`;
    if (this.#asked.has(key)) return this.index.get(room, id);
    this.#asked.add(key);
    try {
      const page = await this.#ctx.client.history({ room, afterId: id - 1, limit: 1 });
      const found = page.messages.find((m) => m.id === id && !m.system);
      if (found) this.index.record(found);
      return found;
    } catch {
      return undefined;
    }
  }
}

function quoteOf(line: ChatLine): Quote {
  return {
    username: line.username,
    snippet: line.deleted ? "" : plainSnippet(line.text, SNIPPET_CHARS),
    deleted: line.deleted === true,
  };
}
