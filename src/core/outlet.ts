import type { AfterPage, Store } from "../store/store.ts";
import type { ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { Encoder, Envelope, Outbound } from "./envelope.ts";
import type { DeliveryOptions, RoomCursor, StreamSink } from "./room-cursor.ts";
import type { RoomTails } from "./room-tails.ts";
import type { ChatStats } from "./stats.ts";
import type { MessageId, RoomId, UserId } from "./types.ts";

interface Queued {
  readonly bytes: Uint8Array;
  readonly cursor: RoomCursor | undefined;
  /** The message id this item carries, or 0. */
  readonly id: MessageId;
  /** Live fan-out items, which history can replace; everything else is kept. */
  readonly droppable: boolean;
}

export interface OutletOptions {
  readonly sink: StreamSink;
  readonly store: Store;
  /** Recent messages in memory: catching up near the head skips the store. */
  readonly tails?: RoomTails | undefined;
  readonly clock: Clock;
  readonly delivery: DeliveryOptions;
  readonly stats: ChatStats;
  /** What to tell the stream when a room is at the head again. */
  readonly caughtUp: (room: RoomId, lastId: MessageId) => Outbound;
  /** Reading history failed: the stream cannot be fed, so it must end. */
  readonly onPageError: (error: unknown) => void;
  /**
   * Messages by this user are not written, live or replayed (the seed's
   * streams: "never back to its sender", whichever call it sent with).
   */
  readonly skipUserId?: UserId;
}

/**
 * Delivery to one live stream, by cursor. The fan-out calls `offer`, which
 * never waits: an item is written at once, or queued (bounded in items and
 * bytes) while the transport is full. When the queue would pass its bound the
 * stream's queued live items are dropped and each affected room is fed from
 * the store, a page at a time, each page only once the stream has drained,
 * until a page comes back short at the head; then it is live again. Nothing
 * is written twice or skipped, whatever order items arrive in.
 */
export class Outlet {
  readonly #sink: StreamSink;
  // Read on every offer: kept here rather than behind #sink and #options.
  readonly #encoder: Encoder;
  readonly #skipUserId: UserId | undefined;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #delivery: DeliveryOptions;
  readonly #stats: ChatStats;
  readonly #options: OutletOptions;
  #queue: Queued[] = [];
  #head = 0;
  #queuedBytes = 0;
  #blockedSince: number | undefined;
  readonly #catchingUp = new Set<RoomCursor>();
  #reading = false;
  #ended = false;
  #endWhenFlushed: { error: ChatError | undefined } | undefined;
  #drained: Array<() => void> = [];

  constructor(options: OutletOptions) {
    this.#options = options;
    this.#sink = options.sink;
    this.#encoder = options.sink.encoder;
    this.#skipUserId = options.skipUserId;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#delivery = options.delivery;
    this.#stats = options.stats;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** What waits in this stream's queue (for tests and metrics). */
  get queued(): { items: number; bytes: number } {
    return { items: this.#queue.length - this.#head, bytes: this.#queuedBytes };
  }

  /** Since when the transport has taken nothing (ms), or undefined when it is taking. */
  get blockedSince(): number | undefined {
    return this.#blockedSince;
  }

  /** The fan-out's entry: must return at once. */
  offer(cursor: RoomCursor, envelope: Envelope): void {
    if (this.#ended || this.#endWhenFlushed) return;
    const { payload } = envelope;
    if (payload.type !== "message") {
      // Presence: ephemeral, so a cursor that is not live simply misses it.
      if (cursor.mode !== "live") return;
      const bytes = withoutSelf(payload, cursor.userId, envelope, this.#encoder);
      if (bytes && !this.#push(bytes, cursor, 0, true)) this.#overflow(cursor);
      return;
    }
    const id = payload.message.id;
    if (cursor.mode !== "live") {
      if (id > cursor.latestSeen) cursor.latestSeen = id;
      return;
    }
    if (id <= cursor.cursor) return;
    if (id > cursor.cursor + 1) {
      // Something before it has not reached us (yet): the store has it.
      cursor.latestSeen = id;
      this.#catchUp(cursor);
      return;
    }
    const skip = envelope.origin === this || payload.message.userId === this.#skipUserId;
    const bytes = skip ? null : envelope.encode(this.#encoder);
    if (bytes === null) {
      // Our own message (the sender gets an ack instead), or one this wire
      // shape cannot carry: the cursor moves on all the same.
      this.#skipTo(cursor, id);
      return;
    }
    if (!this.#push(bytes, cursor, id, true)) {
      cursor.latestSeen = id;
      this.#overflow(cursor);
    }
  }

  /**
   * The room's newest stored id, learnt from the store rather than the
   * fan-out (the bus lost events): a cursor behind it catches up.
   */
  headAt(cursor: RoomCursor, id: MessageId): void {
    if (this.#ended || this.#endWhenFlushed || cursor.closed) return;
    if (cursor.mode !== "live") {
      if (id > cursor.latestSeen) cursor.latestSeen = id;
      return;
    }
    if (id <= cursor.cursor) return;
    cursor.latestSeen = id;
    this.#catchUp(cursor);
  }

  /** Starts delivery of a room: live when `latestSeen` shows nothing after `from`, else from the store. */
  start(cursor: RoomCursor, from: MessageId, resume: boolean): void {
    cursor.cursor = from;
    cursor.safe = from;
    if (resume || cursor.latestSeen > from) this.#catchUp(cursor);
    else this.#goLive(cursor);
  }

  /** Queues an item for this stream alone (a welcome, an ack); never dropped. */
  notify(payload: Outbound, cursor?: RoomCursor): void {
    if (this.#ended) return;
    const bytes = this.#encoder(payload);
    if (bytes) this.#push(bytes, cursor, 0, false);
  }

  /** Stops delivering a room: its queued items go, and nothing more of it is written. */
  remove(cursor: RoomCursor): void {
    cursor.closed = true;
    this.#catchingUp.delete(cursor);
    if (this.#queue.length > this.#head) {
      this.#retain((item) => item.cursor !== cursor);
    }
  }

  /** Resolves once the queue is under its bound again, so a client's requests wait for its reading. */
  writable(): Promise<void> {
    if (this.#ended || !this.#full()) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Ends the stream once everything queued is written, with `error`'s status if given. */
  end(error?: ChatError): void {
    if (this.#ended || this.#endWhenFlushed) return;
    this.#catchingUp.clear();
    if (this.#blockedSince === undefined && this.#queue.length === this.#head) this.#finish(error);
    else this.#endWhenFlushed = { error };
  }

  /** Ends the stream now, dropping what is queued (a reader that takes nothing). */
  abort(error: ChatError): void {
    this.#finish(error);
  }

  /** The call is gone: forget everything; the transport needs no end. */
  close(): void {
    this.#ended = true;
    this.#release();
  }

  #finish(error: ChatError | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#release();
    this.#sink.end(error);
  }

  #release(): void {
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#catchingUp.clear();
    this.#blockedSince = undefined;
    for (const resolve of this.#drained.splice(0)) resolve();
  }

  #full(): boolean {
    return (
      this.#queue.length - this.#head >= this.#delivery.maxQueuedMessages ||
      this.#queuedBytes >= this.#delivery.maxQueuedBytes
    );
  }

  /**
   * Writes or queues one item. A droppable item that would pass the bound is
   * refused (false); the caller then switches to the store.
   */
  #push(bytes: Uint8Array, cursor: RoomCursor | undefined, id: MessageId, droppable: boolean) {
    if (this.#blockedSince === undefined && this.#queue.length === this.#head) {
      if (cursor && id) {
        cursor.cursor = id;
        cursor.safe = id;
      }
      this.#stats.deliveries += 1;
      if (!this.#sink.write(bytes)) this.#block();
      return true;
    }
    if (
      droppable &&
      (this.#queue.length - this.#head >= this.#delivery.maxQueuedMessages ||
        this.#queuedBytes + bytes.byteLength > this.#delivery.maxQueuedBytes)
    ) {
      return false;
    }
    this.#queue.push({ bytes, cursor, id, droppable });
    this.#queuedBytes += bytes.byteLength;
    if (cursor) {
      if (id) cursor.cursor = id;
      if (droppable) cursor.queued += 1;
    }
    return true;
  }

  #block(): void {
    this.#blockedSince = this.#clock.now();
    this.#sink.onDrain(() => this.#flush());
  }

  #flush(): void {
    this.#blockedSince = undefined;
    if (this.#ended) return;
    while (this.#head < this.#queue.length) {
      const item = this.#queue[this.#head] as Queued;
      this.#head += 1;
      this.#queuedBytes -= item.bytes.byteLength;
      if (item.cursor) {
        if (item.droppable) item.cursor.queued -= 1;
        if (item.id) item.cursor.safe = item.id;
      }
      this.#stats.deliveries += 1;
      if (!this.#sink.write(item.bytes)) {
        // A reader that drains a little at a time never empties the queue;
        // drop the written prefix so the array does not keep growing.
        if (this.#head >= 1024) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        this.#block();
        if (!this.#full()) this.#wakeWriters();
        return;
      }
    }
    this.#queue = [];
    this.#head = 0;
    if (this.#endWhenFlushed) {
      this.#finish(this.#endWhenFlushed.error);
      return;
    }
    this.#wakeWriters();
    void this.#readPages();
  }

  #wakeWriters(): void {
    for (const resolve of this.#drained.splice(0)) resolve();
  }

  /** Keeps the queued items `keep` accepts, with the byte and per-room counts right. */
  #retain(keep: (item: Queued) => boolean): Queued[] {
    const kept: Queued[] = [];
    const dropped: Queued[] = [];
    for (let i = this.#head; i < this.#queue.length; i++) {
      const item = this.#queue[i] as Queued;
      if (keep(item)) kept.push(item);
      else {
        dropped.push(item);
        this.#queuedBytes -= item.bytes.byteLength;
        if (item.cursor && item.droppable) item.cursor.queued -= 1;
      }
    }
    this.#queue = kept;
    this.#head = 0;
    return dropped;
  }

  /**
   * The queue is past its bound: drop every live item in it and let each room
   * they belonged to (and `cause`'s) catch up from the store instead.
   */
  #overflow(cause: RoomCursor): void {
    this.#stats.readersCutOff += 1;
    const dropped = this.#retain((item) => !item.droppable);
    const affected = new Set<RoomCursor>([cause]);
    for (const item of dropped) if (item.cursor) affected.add(item.cursor);
    // The newest kept id of each room: replay continues after it.
    const kept = new Map<RoomCursor, MessageId>();
    for (let i = this.#head; i < this.#queue.length; i++) {
      const item = this.#queue[i] as Queued;
      if (item.cursor && item.id) kept.set(item.cursor, item.id);
    }
    for (const cursor of affected) {
      if (cursor.closed) continue;
      cursor.latestSeen = Math.max(cursor.latestSeen, cursor.cursor);
      cursor.cursor = Math.max(cursor.safe, kept.get(cursor) ?? 0);
      this.#catchUp(cursor);
    }
  }

  #catchUp(cursor: RoomCursor): void {
    cursor.mode = "catching_up";
    this.#catchingUp.add(cursor);
    void this.#readPages();
  }

  #goLive(cursor: RoomCursor): void {
    cursor.mode = "live";
    this.#catchingUp.delete(cursor);
    this.notify(this.#options.caughtUp(cursor.room, cursor.cursor), cursor);
  }

  /**
   * Feeds catching-up rooms from the store, one page at a time and only while
   * the stream has nothing queued, taking the rooms in turn.
   */
  async #readPages(): Promise<void> {
    while (
      !this.#reading &&
      !this.#ended &&
      !this.#endWhenFlushed &&
      this.#blockedSince === undefined
    ) {
      if (this.#queue.length > this.#head) return;
      const cursor = this.#catchingUp.values().next().value;
      if (!cursor) return;
      this.#reading = true;
      let page: AfterPage;
      try {
        const cached = this.#options.tails?.after(
          cursor.room,
          cursor.cursor,
          this.#delivery.pageSize,
        );
        // An empty page from memory is not trusted to end a catch-up: the store decides.
        page =
          cached && cached.messages.length > 0
            ? cached
            : await this.#store.after(cursor.room, cursor.cursor, this.#delivery.pageSize);
      } catch (error) {
        this.#reading = false;
        this.#options.onPageError(error);
        return;
      }
      this.#reading = false;
      if (this.#endWhenFlushed) return;
      if (this.#ended || cursor.closed || cursor.mode !== "catching_up") continue;
      this.#applyPage(cursor, page);
    }
  }

  #applyPage(cursor: RoomCursor, page: AfterPage): void {
    this.#stats.replayPages += 1;
    this.#stats.replayedMessages += page.messages.length;
    if (page.prunedThrough > cursor.cursor) {
      const gap: Outbound = {
        type: "gap",
        room: cursor.room,
        fromId: cursor.cursor + 1,
        toId: page.prunedThrough,
      };
      this.#deliverOwn(cursor, gap, page.prunedThrough);
    }
    for (const message of page.messages) {
      if (message.id <= cursor.cursor) continue;
      if (message.userId === this.#skipUserId) this.#skipTo(cursor, message.id);
      else this.#deliverOwn(cursor, { type: "message", message }, message.id);
    }
    // Rooms take turns: this one goes to the back of the line.
    this.#catchingUp.delete(cursor);
    if (page.messages.length < this.#delivery.pageSize && cursor.cursor >= cursor.latestSeen) {
      this.#goLive(cursor);
    } else {
      this.#catchingUp.add(cursor);
    }
  }

  /** Writes a replayed item for one room, moving its cursor even when this wire shape skips it. */
  #deliverOwn(cursor: RoomCursor, payload: Outbound, id: MessageId): void {
    const bytes = this.#encoder(payload);
    if (bytes) this.#push(bytes, cursor, id, false);
    else this.#skipTo(cursor, id);
  }

  /** Moves a cursor past an id that is not written to this stream. */
  #skipTo(cursor: RoomCursor, id: MessageId): void {
    cursor.cursor = id;
    if (cursor.queued === 0) cursor.safe = id;
  }
}

/**
 * A presence item's bytes for one stream. Nobody is told that they
 * themselves came or went: a stream whose user is in the list gets its own
 * encoding without them (or nothing); everyone else shares one encoding.
 */
function withoutSelf(
  payload: Outbound,
  userId: UserId,
  envelope: Envelope,
  encoder: Encoder,
): Uint8Array | null {
  if (payload.type !== "presence" || !payload.users.some((u) => u.userId === userId)) {
    return envelope.encode(encoder);
  }
  const users = payload.users.filter((u) => u.userId !== userId);
  return users.length === 0 ? null : encoder({ ...payload, users });
}
