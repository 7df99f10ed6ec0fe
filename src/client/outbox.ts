import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { ChatClientError, type ChatLine, type SendAck } from "./events.ts";
import { sendRetry } from "./retry-policy.ts";
import type { ChatSession } from "./session-call.ts";
import { settleWithin } from "./waits.ts";

interface Pending {
  readonly room: string;
  readonly text: string;
  /** The message this one answers (0: none). */
  readonly replyTo: number;
  /** The idempotency key: every re-send repeats it, so the server stores the message once. */
  readonly clientMsgId: string;
  resolve(ack: SendAck): void;
  reject(error: Error): void;
}

/** What the outbox needs of the LiveChat around it. */
export interface OutboxHost {
  /** The session sends go on now; undefined while there is none (they wait). */
  session(): ChatSession | undefined;
  /** The server stored a send of ours as `ack.id`. */
  acknowledged(ack: SendAck): void;
  /** Something to tell the user (sends slowed by the server's rate limit). */
  notice(text: string): void;
}

/**
 * LiveChat's unacknowledged sends, in the order they were written, each with
 * its client_msg_id: sent at once when there is a session, all again on each
 * new one, settled by their ack or by the message itself arriving on the
 * stream (the ack was lost with a connection).
 */
export class Outbox {
  readonly #host: OutboxHost;
  readonly #maxPending: number;
  readonly #pending: Pending[] = [];
  /** Sends refused as too fast, waiting out the pause together. */
  readonly #held = new Set<Pending>();
  /** Called when the outbox empties. */
  readonly #emptied = new Set<() => void>();

  constructor(host: OutboxHost, maxPending: number) {
    this.#host = host;
    this.#maxPending = maxPending;
  }

  /** Queues a send; resolves when the server has stored it. */
  add(room: string, text: string, replyTo = 0): Promise<SendAck> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length >= this.#maxPending) {
        reject(
          new ChatClientError(
            status.RESOURCE_EXHAUSTED,
            "Too many messages are waiting for the server; wait until it is reachable again.",
          ),
        );
        return;
      }
      const pending = { room, text, replyTo, clientMsgId: randomUUID(), resolve, reject };
      this.#pending.push(pending);
      const session = this.#host.session();
      if (session) this.#transmit(session, pending);
    });
  }

  /** A new session was welcomed: every waiting send goes on it, in order. */
  resend(session: ChatSession): void {
    this.#held.clear();
    for (const pending of this.#pending) this.#transmit(session, pending);
  }

  /**
   * A message of ours seen in the stream before its ack (the ack was lost
   * with a connection): it settles the send, and the send's promise shows it.
   */
  settleFromStream(message: ChatLine): boolean {
    if (message.clientMsgId === "") return false;
    const pending = this.#pending.find(
      (p) => p.clientMsgId === message.clientMsgId && p.room === message.room,
    );
    if (pending === undefined) return false;
    this.#remove(pending);
    pending.resolve({ room: message.room, id: message.id, timeMs: message.timeMs });
    return true;
  }

  /** Waits up to `ms` for every waiting send to be stored; resolves to how many still wait. */
  settle(ms: number): Promise<number> {
    return settleWithin(ms, () => this.#pending.length, this.#emptied);
  }

  /** Every waiting send will never be stored: each is rejected with `error`. */
  refuseAll(error: Error): void {
    for (const pending of [...this.#pending]) {
      this.#remove(pending);
      pending.reject(error);
    }
  }

  #transmit(session: ChatSession, pending: Pending): void {
    const { room, clientMsgId, replyTo } = pending;
    session.send(pending.text, { room, clientMsgId, replyTo }).then(
      (ack) => {
        if (!this.#remove(pending)) return;
        this.#host.acknowledged(ack);
        pending.resolve(ack);
      },
      (error: ChatClientError) => {
        if (!this.#pending.includes(pending)) return;
        const retry = sendRetry(error.code, error.retryAfterMs);
        if (retry.action === "wait") {
          this.#holdForRate(session, pending, error.message, retry.ms);
        } else if (retry.action === "retry") {
          // Kept: sent again on this connection after a pause, or on the next one.
          setTimeout(() => {
            if (this.#host.session() === session && this.#pending.includes(pending)) {
              this.#transmit(session, pending);
            }
          }, retryDelay()).unref();
        } else {
          this.#remove(pending);
          pending.reject(error);
        }
      },
    );
  }

  /**
   * The server refused a send as too fast: it and every send refused with it
   * wait out the pause together and go again in the order they were written,
   * so a rate limit never reorders or drops what the user typed. The user is
   * told once per pause.
   */
  #holdForRate(session: ChatSession, pending: Pending, why: string, ms: number): void {
    this.#held.add(pending);
    if (this.#held.size > 1) return;
    this.#host.notice(why);
    setTimeout(() => {
      const held = this.#pending.filter((p) => this.#held.has(p));
      this.#held.clear();
      if (this.#host.session() !== session) return;
      for (const p of held) this.#transmit(session, p);
    }, ms).unref();
  }

  /** Takes a send out; false when it was not there (settled already). */
  #remove(pending: Pending): boolean {
    const index = this.#pending.indexOf(pending);
    if (index < 0) return false;
    this.#pending.splice(index, 1);
    if (this.#pending.length === 0) {
      for (const done of [...this.#emptied]) done();
      this.#emptied.clear();
    }
    return true;
  }
}

/** A short pause before a retry on the same connection, jittered so clients do not retry together. */
export function retryDelay(): number {
  return 500 + Math.round(Math.random() * 500);
}
