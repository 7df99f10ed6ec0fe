import { status } from "@grpc/grpc-js";
import { DEFAULT_ROOM } from "../wire/room-names.ts";
import { AsyncQueue } from "./async-queue.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import type { ChatClient, ChatSession, RoomStart } from "./chat-client.ts";
import { ChatClientError, type SendAck, type SessionEvent } from "./events.ts";
import { Outbox, retryDelay } from "./outbox.ts";
import { ResumeLedger } from "./resume-ledger.ts";
import { isRetryable } from "./retry-policy.ts";
import { wakeableDelay } from "./waits.ts";

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

/** A live chat as a client's views use it, whichever protocol carries it (LiveChat, SeedChat). */
export interface LiveFeed extends AsyncIterable<LiveEvent> {
  readonly state: ConnectionState;
  /**
   * Resolves when the message is stored (or, on the seed's protocol,
   * written). `replyTo`: the id of the message in the room it answers.
   */
  send(text: string, room?: string, options?: { replyTo?: number }): Promise<SendAck>;
  /** Waits up to `ms` for waiting sends; resolves to how many still wait. */
  settle(ms: number): Promise<number>;
  close(): Promise<void>;
}

export interface LiveChatOptions {
  /** The rooms to be in, each with where it starts (default: live at its head). */
  readonly rooms: readonly RoomStart[];
  readonly backoff?: Partial<BackoffOptions>;
  /**
   * A connection live (welcomed, every room resumed) this long resets the
   * backoff. Default 0: live is healthy, so a link that drops often is
   * rejoined after a short wait each time; a server that refuses or fails
   * the resume never goes live, and the waits grow.
   */
  readonly healthyAfterMs?: number;
  /** Most sends waiting for the server at once; past it send() refuses. Default 1000. */
  readonly maxPending?: number;
}

/**
 * A chat session that outlives its connections. After any connection loss or
 * retryable end it reconnects by itself (exponential backoff with jitter,
 * reset after a healthy period), resumes every room from the last id it
 * delivered (ResumeLedger), and re-sends unacknowledged sends in order with
 * their original client_msg_id (Outbox), so nothing is lost or shown twice.
 * Its events are the server's (messages in order, each once), plus its own
 * state changes. Change entries (edits, deletes, reactions) are log entries
 * with ids of their own: they advance a room's resume point like messages,
 * so a resume neither repeats nor misses one; the reader applies each to the
 * message it names (applyChange).
 */
export class LiveChat implements LiveFeed {
  readonly #client: ChatClient;
  readonly #options: LiveChatOptions;
  readonly #rooms = new ResumeLedger();
  readonly #outbox: Outbox;
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
    this.#outbox = new Outbox(
      {
        session: () => this.#session,
        acknowledged: (ack) => this.#rooms.acknowledged(ack.room, ack.id),
        notice: (text) => this.#events.push({ type: "notice", text, timeMs: Date.now() }),
      },
      options.maxPending ?? 1000,
    );
    for (const start of options.rooms) this.#rooms.track(start);
    this.done = this.#run();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The last id delivered in a room and its epoch: where a later session would resume. */
  position(room: string): { lastId: number | undefined; epoch: string } | undefined {
    return this.#rooms.position(room);
  }

  /**
   * Sends a message: at once when connected, else as soon as it is again.
   * Resolves when the server has stored it; rejects only when it never will
   * be (refused as it is, or this LiveChat closed first).
   */
  send(text: string, room = DEFAULT_ROOM, options: { replyTo?: number } = {}): Promise<SendAck> {
    if (this.#closing || this.#state.kind === "offline") {
      return Promise.reject(
        new ChatClientError(status.CANCELLED, "The chat is closed; nothing was sent."),
      );
    }
    return this.#outbox.add(room, text, options.replyTo ?? 0);
  }

  /** Waits up to `ms` for every waiting send to be stored; resolves to how many still wait. */
  settle(ms: number): Promise<number> {
    return this.#outbox.settle(ms);
  }

  /** Enters a room (now, and after every reconnect). */
  join(start: RoomStart): void {
    this.#rooms.track(start);
    void this.#session?.join(start.room, this.#rooms.start(start.room)).catch(() => {});
  }

  /** Leaves a room; its position is forgotten. */
  leave(room: string): void {
    this.#rooms.forget(room);
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
    this.#outbox.refuseAll(
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
      if (error && !isRetryable(error.code)) {
        this.#setState({ kind: "offline", reason: error.message });
        this.#outbox.refuseAll(error);
        break;
      }
      const healthyAfter = this.#options.healthyAfterMs ?? 0;
      this.#backoff.resetIfHealthy(liveSince, healthyAfter);
      const inMs = this.#backoff.next();
      this.stats.reconnects += 1;
      this.#setState({
        kind: "reconnecting",
        attempt: this.#backoff.attempt,
        inMs,
        reason: error?.message ?? "The server ended the session.",
      });
      const delay = wakeableDelay(inMs);
      this.#wake = delay.wake;
      await delay.done;
      this.#wake = undefined;
    }
    this.#events.end();
  }

  #handle(session: ChatSession, event: SessionEvent): void {
    switch (event.type) {
      case "welcome":
        this.#session = session;
        this.#selfId = event.userId;
        for (const { room, ...start } of this.#rooms.rejoin()) {
          void session.join(room, start).catch(() => {});
        }
        this.#outbox.resend(session);
        this.#checkLive();
        break;
      case "joined":
        // A room the server brought us into (a direct message) is followed
        // from now on, and resumed like any other after a reconnect.
        this.#rooms.joined(event.room, event.epoch, event.resume === "resumed", event.lastId);
        break;
      case "message": {
        const arrival = this.#rooms.arrival(event.message.room, event.message.id);
        if (arrival === "duplicate") this.stats.duplicatesDropped += 1;
        if (arrival !== "new") return;
        const ours = event.message.userId === this.#selfId;
        if (ours && this.#outbox.settleFromStream(event.message)) return;
        break;
      }
      case "caught_up":
        if (!this.#rooms.caughtUp(event.room, event.lastId)) return;
        this.#events.push(event);
        this.#checkLive();
        return;
      case "gap":
        this.#rooms.gap(event.room, event.toId);
        break;
      case "moderated":
        // Left follows; forgotten now too, so a connection lost in between
        // does not take us back into the room on the next rejoin.
        if (event.kind === "kick" || event.kind === "ban") this.#rooms.forget(event.room);
        break;
      case "left":
        if (event.code !== status.OK && this.#rooms.has(event.room)) {
          if (isRetryable(event.code)) this.#retryJoin(session, event.room);
          else this.#rooms.forget(event.room);
        }
        break;
    }
    this.#events.push(event);
  }

  #retryJoin(session: ChatSession, room: string): void {
    setTimeout(() => {
      if (this.#session === session && this.#rooms.has(room)) {
        void session.join(room, this.#rooms.start(room)).catch(() => {});
      }
    }, retryDelay()).unref();
  }

  #checkLive(): void {
    if (this.#state.kind === "live" || !this.#rooms.allCaughtUp()) return;
    this.#setState({ kind: "live" });
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.#events.push({ type: "state", state });
  }
}
