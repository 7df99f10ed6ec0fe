import { type ChatClient, ChatClientError, type ChatLine } from "../client/chat-client.ts";
import type { LiveFeed } from "../client/live-chat.ts";
import type { DisplayItem } from "./chat-view.ts";

/** What sending needs of the controller. */
export interface SendContext {
  readonly client: ChatClient;
  feed(): LiveFeed | undefined;
  /** The room shown. */
  current(): string;
  /** The room the seed's SendMessages writes to. */
  defaultRoom(): string;
  /** The server speaks only the seed's protocol (no Ping). */
  seedOnly(): boolean;
  /** Our public id and name: what our own lines carry. */
  self(): { userId: string; username: string };
  /** True when a room is shown; else says so and is false. */
  inRoom(): boolean;
  show(item: DisplayItem): void;
  info(text: string): void;
  error(text: string): void;
}

/** The terminal client's ways out: a message, a /batch, and /ping's round trip. */
export class SendCommands {
  readonly #ctx: SendContext;
  #sentCount = 0;

  constructor(ctx: SendContext) {
    this.#ctx = ctx;
  }

  /** Queued with the live chat, which sends it now or once reconnected; shown pending until stored. */
  send(text: string, room = this.#ctx.current(), replyTo = 0): void {
    const ctx = this.#ctx;
    const feed = ctx.feed();
    if (!feed || !ctx.inRoom()) return;
    const key = `sent-${this.#sentCount++}`;
    const line = (id: number, timeMs: number): ChatLine => ({
      room,
      id,
      timeMs,
      userId: ctx.self().userId,
      username: ctx.self().username || ctx.client.username,
      text,
      system: false,
      clientMsgId: "",
      replyTo,
    });
    ctx.show({ kind: "sent", key, line: line(0, Date.now()), pending: true });
    feed.send(text, room, { replyTo }).then(
      (ack) => ctx.show({ kind: "sent", key, line: line(ack.id, ack.timeMs), pending: false }),
      (error) => ctx.error(`Not sent: ${ChatClientError.from(error).message}`),
    );
  }

  async batch(texts: string[]): Promise<void> {
    const ctx = this.#ctx;
    if (texts.length === 0) {
      ctx.info("Batch closed: nothing to send.");
      return;
    }
    // The seed's SendMessages writes to the default room only; elsewhere the lines go one by one, in order.
    if (ctx.current() !== ctx.defaultRoom()) {
      for (const text of texts) this.send(text);
      return;
    }
    try {
      const { summary } = await ctx.client.sendBatch(texts);
      ctx.info(`Server: ${summary}`);
    } catch (error) {
      ctx.error(`Batch not sent: ${ChatClientError.from(error).message}`);
    }
  }

  async ping(): Promise<void> {
    const ctx = this.#ctx;
    try {
      // The seed has no Ping: its client times a JoinChat, which a server that knows us answers "PONG".
      const ms = ctx.seedOnly() ? await this.#timeJoin() : await ctx.client.ping();
      ctx.info(`Pong in ${ms.toFixed(1)} ms`);
    } catch (error) {
      ctx.error(`Ping failed: ${ChatClientError.from(error).message}`);
    }
  }

  async #timeJoin(): Promise<number> {
    const started = performance.now();
    await this.#ctx.client.join();
    return performance.now() - started;
  }
}
