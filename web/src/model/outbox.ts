import { Code } from "@connectrpc/connect";
import { Backoff } from "../../../src/client/backoff.ts";
import { sendRetry } from "../../../src/client/retry-policy.ts";
import type { SendAck } from "../../../src/gen/chat_pb.js";
import { type ChatClient, failure } from "../api.ts";

/** A message the user wrote that the server has not stored yet. */
export interface Outgoing {
  readonly room: string;
  readonly text: string;
  /** The message this one answers (0: none). */
  readonly replyTo: number;
  /** The idempotency key: every retry repeats it, so the server stores the message once. */
  readonly clientMsgId: string;
  status: "pending" | "failed";
  /** Why it failed, for the user. */
  error: string;
}

export interface OutboxHost {
  readonly client: ChatClient;
  /**
   * Whether the subscription is welcomed: only then does the server know a
   * guest's name (a restarted server forgets it until the next Subscribe).
   */
  ready(): boolean;
  stored(item: Outgoing, ack: SendAck): void;
  changed(): void;
  notice(room: string, text: string): void;
  /** The server has forgotten who we are: a new subscription tells it again. */
  renew(): void;
  signedOut(reason: string): void;
}

const SEND_TIMEOUT_MS = 15_000;

/**
 * Sends one message at a time, oldest first, so the room gets them in the
 * order they were written, and nothing is lost: a send that failed for a
 * reason a retry can fix stays at the head and goes again (same
 * clientMsgId) after a pause or once the subscription is back.
 */
export class Outbox {
  readonly items: Outgoing[] = [];
  readonly #host: OutboxHost;
  readonly #backoff = new Backoff({ initialMs: 500, maxMs: 5_000 });
  /** Sends that met FAILED_PRECONDITION once: a second time is final. */
  readonly #renewed = new Set<string>();
  #busy = false;
  /** Told the user the server slows us down; not again until the queue empties. */
  #slowedTold = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(host: OutboxHost) {
    this.#host = host;
  }

  add(
    room: string,
    text: string,
    replyTo = 0,
    clientMsgId: string = crypto.randomUUID(),
  ): Outgoing {
    const item: Outgoing = { room, text, replyTo, clientMsgId, status: "pending", error: "" };
    this.items.push(item);
    this.#host.changed();
    this.pump();
    return item;
  }

  /** Our message came on the stream (its ack was lost, or is still coming): it is stored. */
  settle(room: string, clientMsgId: string): boolean {
    const item = this.items.find((i) => i.room === room && i.clientMsgId === clientMsgId);
    return item !== undefined && this.#remove(item);
  }

  retry(item: Outgoing): void {
    item.status = "pending";
    item.error = "";
    this.#renewed.delete(item.clientMsgId);
    this.#host.changed();
    this.pump();
  }

  discard(item: Outgoing): void {
    this.#remove(item);
  }

  /** Sends the next waiting message now if it can go: call when the subscription is welcomed. */
  wake(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.pump();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  pump(): void {
    if (this.#stopped || this.#busy || this.#timer !== undefined || !this.#host.ready()) return;
    const item = this.items.find((i) => i.status === "pending");
    if (item === undefined) return;
    this.#busy = true;
    void this.#send(item).then((waitMs) => {
      this.#busy = false;
      if (waitMs > 0) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.pump();
        }, waitMs);
      } else {
        this.pump();
      }
    });
  }

  /** Sends one message; resolves to how long to wait before the next try. */
  async #send(item: Outgoing): Promise<number> {
    const { room, text, clientMsgId, replyTo } = item;
    try {
      const response = await this.#host.client.send(
        { room, text, clientMsgId, replyTo: BigInt(replyTo) },
        { timeoutMs: SEND_TIMEOUT_MS },
      );
      this.#backoff.reset();
      if (this.#remove(item) && response.ack) this.#host.stored(item, response.ack);
      return 0;
    } catch (error) {
      // Settled from the stream or discarded meanwhile: nothing more to do.
      if (!this.items.includes(item) || this.#stopped) return 0;
      return this.#failed(item, error);
    }
  }

  #failed(item: Outgoing, error: unknown): number {
    const { code, text, retryAfterMs } = failure(error);
    if (code === Code.Unauthenticated) {
      this.#host.signedOut(text);
      return 0;
    }
    const retry = sendRetry(code, retryAfterMs);
    if (retry.action === "wait") {
      if (!this.#slowedTold) this.#host.notice(item.room, text);
      this.#slowedTold = true;
      return Math.max(retry.ms, 50);
    }
    if (code === Code.FailedPrecondition && !this.#renewed.has(item.clientMsgId)) {
      // A guest's name is gone after a server restart; the next welcome wakes us.
      this.#renewed.add(item.clientMsgId);
      this.#host.renew();
      return 0;
    }
    if (retry.action === "retry") return this.#backoff.next();
    item.status = "failed";
    item.error = text;
    this.#host.changed();
    return 0;
  }

  #remove(item: Outgoing): boolean {
    const index = this.items.indexOf(item);
    if (index < 0) return false;
    this.items.splice(index, 1);
    this.#renewed.delete(item.clientMsgId);
    if (!this.items.some((i) => i.status === "pending")) this.#slowedTold = false;
    this.#host.changed();
    return true;
  }
}
