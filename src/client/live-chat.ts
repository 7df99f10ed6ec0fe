import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { AsyncQueue } from "./async-queue.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import type { ChatClient, ChatSession, RoomStart } from "./chat-client.ts";
import { ChatClientError, type ChatLine, type SendAck, type SessionEvent } from "./events.ts";

/** Where a LiveChat's connection is. */
export type ConnectionState =
  | { readonly kind: "connecting" }
  | { readonly kind: "live" }
  | {
      readonly kind: "reconnecting";
      /** How many tries since the connection was last healthy. */
      readonly attempt: number;
      readonly inMs: number;
      readonly reason: string;
    }
  /** Given up: retrying cannot fix `reason`. */
  | { readonly kind: "offline"; readonly reason: string };

export type LiveEvent = SessionEvent | { readonly type: "state"; readonly state: ConnectionState };

export interface LiveChatOptions {
  /** The rooms to be in, each with where it starts (default: live at its head). */
  readonly rooms: readonly RoomStart[];
  readonly backoff?: Partial<BackoffOptions>;
  /** A connection live this long resets the backoff. Default 10,000 ms. */
  readonly healthyAfterMs?: number;
  /** Most sends waiting for the server at once; past it send() refuses. Default 1000. */
  readonly maxPending?: number;
}

/** Codes a new connection can fix; anything else is final. */
const RETRYABLE = new Set<status>([
  status.UNAVAILABLE,
  status.RESOURCE_EXHAUSTED,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
  status.CANCELLED,
]);

interface Pending {
  readonly room: string;
  readonly text: string;
  readonly clientMsgId: string;
  resolve(ack: SendAck): void;
  reject(error: Error): void;
}

interface RoomPosition {
  /** Undefined until the first join says where the room's head is. */
  lastId: number | undefined;
  epoch: string;
  caughtUp: boolean;
  /** Our own acknowledged ids above lastId: the stream may still bring them (resume), not to be shown twice. */
  readonly own: Set<number>;
}

/**
 * A chat session that outlives its connections. After any connection loss or
 * retryable end it reconnects by itself (exponential backoff with jitter,
 * reset after a healthy period), resumes every room from the last id it
 * delivered, and re-sends unacknowledged sends in order with their original
 * client_msg_id, so nothing is lost or shown twice. Its events are the
 * server's (messages in order, each once), plus its own state changes.
 */
export class LiveChat implements AsyncIterable<LiveEvent> {
  readonly #client: ChatClient;
  readonly #options: LiveChatOptions;
  readonly #rooms = new Map<string, RoomPosition>();
  readonly #outbox: Pending[] = [];
  /** Sends refused as too fast, waiting out the pause together. */
  readonly #held = new Set<Pending>();
  /** Called when the outbox empties. */
  readonly #emptied = new Set<() => void>();
  readonly #events = new AsyncQueue<LiveEvent>();
  readonly #backoff: Backoff;
  /** The session once the server has welcomed it: sends and joins go here. */
  #session: ChatSession | undefined;
  /** The session being opened or served, welcomed or not: close() ends it. */
  #current: ChatSession | undefined;
  #state: ConnectionState = { kind: "connecting" };
  /** Our public id, from the server's welcome: what our own messages carry. */
  #selfId: string | undefined;
  #closing = false;
  #renewing = false;
  #wake: (() => void) | undefined;
  /** Resolves when this LiveChat has stopped: closed, or offline for good. */
  readonly done: Promise<void>;
  /**
   * Counts for tests and diagnostics: connections lost, and messages the
   * server sent again that this client had already delivered (a server that
   * keeps its promises sends none).
   */
  readonly stats = { reconnects: 0, duplicatesDropped: 0 };

  constructor(client: ChatClient, options: LiveChatOptions) {
    this.#client = client;
    this.#options = options;
    this.#backoff = new Backoff(options.backoff);
    for (const start of options.rooms) this.#track(start);
    this.done = this.#run();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The last id delivered in a room and its epoch: where a later session would resume. */
  position(room: string): { lastId: number | undefined; epoch: string } | undefined {
    const at = this.#rooms.get(room);
    return at && { lastId: at.lastId, epoch: at.epoch };
  }

  /**
   * Sends a message: at once when connected, else as soon as it is again.
   * Resolves when the server has stored it; rejects only when it never will
   * be (refused as it is, or this LiveChat closed first).
   */
  send(text: string, room = "lobby"): Promise<SendAck> {
    return new Promise((resolve, reject) => {
      if (this.#closing || this.#state.kind === "offline") {
        reject(new ChatClientError(status.CANCELLED, "The chat is closed; nothing was sent."));
        return;
      }
      if (this.#outbox.length >= (this.#options.maxPending ?? 1000)) {
        reject(
          new ChatClientError(
            status.RESOURCE_EXHAUSTED,
            "Too many messages are waiting for the server; wait until it is reachable again.",
          ),
        );
        return;
      }
      const pending = { room, text, clientMsgId: randomUUID(), resolve, reject };
      this.#outbox.push(pending);
      if (this.#session) this.#transmit(this.#session, pending);
    });
  }

  /** Waits up to `ms` for every waiting send to be stored; resolves to how many still wait. */
  settle(ms: number): Promise<number> {
    if (this.#outbox.length === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(0);
      };
      const timer = setTimeout(() => {
        this.#emptied.delete(done);
        resolve(this.#outbox.length);
      }, ms);
      this.#emptied.add(done);
    });
  }

  /** Enters a room (now, and after every reconnect). */
  join(start: RoomStart): void {
    this.#track(start);
    void this.#session?.join(start.room, this.#startOf(start.room)).catch(() => {});
  }

  /** Leaves a room; its position is forgotten. */
  leave(room: string): void {
    this.#rooms.delete(room);
    void this.#session?.leave(room).catch(() => {});
  }

  /**
   * Ends the current session and opens a new one at once, resuming every
   * room: after a login, so the chat goes on as the new user. Settle sends
   * first: one acknowledged under the old user could be stored again under
   * the new one.
   */
  renew(): void {
    if (this.#current === undefined) return;
    this.#renewing = true;
    this.#current.close();
  }

  /** Leaves every room and ends the connection; sends still waiting are refused. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    this.#current?.close();
    // A server that is gone never confirms; closing the client then cancels the call.
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.#refuseAll(
      new ChatClientError(status.CANCELLED, "The chat was closed before this was sent."),
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<LiveEvent> {
    return this.#events[Symbol.asyncIterator]();
  }

  async #run(): Promise<void> {
    while (!this.#closing) {
      const session = this.#client.openSession();
      this.#current = session;
      let liveSince: number | undefined;
      const iterator = session[Symbol.asyncIterator]();
      for (;;) {
        // Our reader's pace sets the stream's: the server feeds a slow reader from history.
        await this.#events.ready();
        const next = await iterator.next();
        if (next.done) break;
        this.#handle(session, next.value);
        if (liveSince === undefined && this.#state.kind === "live") liveSince = Date.now();
      }
      const error = await session.ended;
      this.#session = undefined;
      this.#current = undefined;
      if (this.#closing) break;
      if (this.#renewing) {
        this.#renewing = false;
        continue;
      }
      if (error && !RETRYABLE.has(error.code)) {
        this.#setState({ kind: "offline", reason: error.message });
        this.#refuseAll(error);
        break;
      }
      const healthyAfter = this.#options.healthyAfterMs ?? 10_000;
      if (liveSince !== undefined && Date.now() - liveSince >= healthyAfter) this.#backoff.reset();
      const inMs = this.#backoff.next();
      this.stats.reconnects += 1;
      this.#setState({
        kind: "reconnecting",
        attempt: this.#backoff.attempt,
        inMs,
        reason: error?.message ?? "The server ended the session.",
      });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, inMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    this.#events.end();
  }

  #handle(session: ChatSession, event: SessionEvent): void {
    switch (event.type) {
      case "welcome":
        this.#session = session;
        this.#selfId = event.userId;
        this.#held.clear();
        for (const [room, at] of this.#rooms) {
          at.caughtUp = false;
          void session.join(room, this.#startOf(room)).catch(() => {});
        }
        for (const pending of this.#outbox) this.#transmit(session, pending);
        this.#checkLive();
        break;
      case "joined": {
        // A room the server brought us into (a direct message): kept from
        // now on, and resumed like any other after a reconnect.
        if (!this.#rooms.has(event.room)) this.#track({ room: event.room });
        const at = this.#rooms.get(event.room);
        if (!at) return;
        at.epoch = event.epoch;
        if (event.resume !== "resumed") at.lastId = event.lastId;
        break;
      }
      case "message": {
        const at = this.#rooms.get(event.message.room);
        if (!at) return;
        if (event.message.id <= (at.lastId ?? 0)) {
          this.stats.duplicatesDropped += 1;
          return;
        }
        const ours = at.own.delete(event.message.id);
        this.#advance(at, event.message.id);
        if (ours || this.#settleFromHistory(event.message)) return;
        break;
      }
      case "caught_up": {
        const at = this.#rooms.get(event.room);
        if (!at) return;
        this.#advance(at, event.lastId);
        at.caughtUp = true;
        this.#events.push(event);
        this.#checkLive();
        return;
      }
      case "gap": {
        const at = this.#rooms.get(event.room);
        if (at) this.#advance(at, event.toId);
        break;
      }
      case "left":
        if (event.code !== status.OK && this.#rooms.has(event.room)) {
          if (RETRYABLE.has(event.code)) this.#retryJoin(session, event.room);
          else this.#rooms.delete(event.room);
        }
        break;
    }
    this.#events.push(event);
  }

  /**
   * A message of ours seen in the stream before its ack (the ack was lost
   * with a connection): it settles the send, and the send's promise shows it.
   */
  #settleFromHistory(message: ChatLine): boolean {
    if (message.userId !== this.#selfId || message.clientMsgId === "") return false;
    const index = this.#outbox.findIndex(
      (p) => p.clientMsgId === message.clientMsgId && p.room === message.room,
    );
    if (index < 0) return false;
    const pending = this.#outbox[index] as Pending;
    this.#remove(pending);
    pending.resolve({ room: message.room, id: message.id, timeMs: message.timeMs });
    return true;
  }

  #transmit(session: ChatSession, pending: Pending): void {
    session.send(pending.text, { room: pending.room, clientMsgId: pending.clientMsgId }).then(
      (ack) => {
        if (!this.#remove(pending)) return;
        const at = this.#rooms.get(ack.room);
        if (at && ack.id > (at.lastId ?? 0)) at.own.add(ack.id);
        pending.resolve(ack);
      },
      (error: ChatClientError) => {
        if (!this.#outbox.includes(pending)) return;
        if (error.retryAfterMs !== undefined) {
          this.#holdForRate(session, pending, error);
          return;
        }
        if (RETRYABLE.has(error.code)) {
          // Kept: sent again on this connection after a pause, or on the next one.
          setTimeout(() => {
            if (this.#session === session && this.#outbox.includes(pending)) {
              this.#transmit(session, pending);
            }
          }, this.#retryDelay()).unref();
          return;
        }
        this.#remove(pending);
        pending.reject(error);
      },
    );
  }

  /**
   * The server refused a send as too fast: it and every send refused with it
   * wait out the pause together and go again in the order they were written,
   * so a rate limit never reorders or drops what the user typed. The user is
   * told once per pause.
   */
  #holdForRate(session: ChatSession, pending: Pending, error: ChatClientError): void {
    this.#held.add(pending);
    if (this.#held.size > 1) return;
    this.#events.push({ type: "notice", text: error.message, timeMs: Date.now() });
    setTimeout(() => {
      const held = this.#outbox.filter((p) => this.#held.has(p));
      this.#held.clear();
      if (this.#session !== session) return;
      for (const p of held) this.#transmit(session, p);
    }, error.retryAfterMs).unref();
  }

  #retryJoin(session: ChatSession, room: string): void {
    setTimeout(() => {
      if (this.#session === session && this.#rooms.has(room)) {
        void session.join(room, this.#startOf(room)).catch(() => {});
      }
    }, this.#retryDelay()).unref();
  }

  #retryDelay(): number {
    return 500 + Math.round(Math.random() * 500);
  }

  #track(start: RoomStart): void {
    if (this.#rooms.has(start.room)) return;
    this.#rooms.set(start.room, {
      lastId: start.resumeAfterId,
      epoch: start.epoch ?? "",
      caughtUp: false,
      own: new Set(),
    });
  }

  #startOf(room: string): { resumeAfterId: number | undefined; epoch: string } {
    const at = this.#rooms.get(room);
    return { resumeAfterId: at?.lastId, epoch: at?.epoch ?? "" };
  }

  #advance(at: RoomPosition, id: number): void {
    if (at.lastId !== undefined && id <= at.lastId) return;
    at.lastId = id;
    for (const own of at.own) if (own <= id) at.own.delete(own);
  }

  #checkLive(): void {
    if (this.#state.kind === "live") return;
    for (const at of this.#rooms.values()) if (!at.caughtUp) return;
    this.#setState({ kind: "live" });
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.#events.push({ type: "state", state });
  }

  #refuseAll(error: Error): void {
    for (const pending of [...this.#outbox]) {
      this.#remove(pending);
      pending.reject(error);
    }
  }

  /** Takes a send out of the outbox; false when it was not there (settled already). */
  #remove(pending: Pending): boolean {
    const index = this.#outbox.indexOf(pending);
    if (index < 0) return false;
    this.#outbox.splice(index, 1);
    if (this.#outbox.length === 0) {
      for (const done of [...this.#emptied]) done();
      this.#emptied.clear();
    }
    return true;
  }
}
