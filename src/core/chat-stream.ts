import type { AppendResult, Store } from "../store/store.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import type { Outbound, ResumeOutcome } from "./envelope.ts";
import type { Limits } from "./limits.ts";
import type { Outlet } from "./outlet.ts";
import type { Presence } from "./presence.ts";
import { RoomCursor } from "./room-cursor.ts";
import { checkAccess } from "./rooms.ts";
import type { SendPacer } from "./send-pacer.ts";
import type { Identity, MessageId, RoomId } from "./types.ts";

export interface SendInput {
  readonly room: RoomId;
  readonly text: string;
  readonly clientMsgId?: string;
  /** The message in the same room this one answers; absent or 0: none. */
  readonly replyTo?: MessageId;
}

/** What a stream needs of the Chat that made it. */
export interface StreamHub {
  readonly store: Store;
  readonly limits: Limits;
  readonly presence: Presence;
  /** Adds the cursor to its room's fan-out. */
  register(cursor: RoomCursor): void;
  /** Throws unless the user may enter the room (its kind, bans); a first join may create it. */
  admitToRoom(identity: Identity, room: RoomId): Promise<void>;
  unregister(cursor: RoomCursor): void;
  /** Stores and delivers a message of this stream's; `pacer`: the stream's sends are paced. */
  send(
    sender: Identity,
    input: SendInput,
    origin: Outlet,
    pacer: SendPacer | undefined,
    address: string | undefined,
  ): Promise<AppendResult>;
  /** The stream has ended; forget it. */
  forget(stream: ChatStream): void;
}

/**
 * One live stream of one user, in any number of rooms: what a transport
 * drives for Session, Subscribe and the seed's ChatStream. Every room event
 * it produces goes through its Outlet, in order.
 */
export class ChatStream {
  readonly identity: Identity;
  readonly #outlet: Outlet;
  readonly #hub: StreamHub;
  readonly #pacer: SendPacer | undefined;
  readonly #rooms = new Map<RoomId, RoomCursor>();
  /** Cursors whose user is counted in the room's presence. */
  readonly #present = new Set<RoomCursor>();

  /** On a one-room wire a removal from the room ends the stream. */
  readonly oneRoom: boolean;
  /** The client's address, for the limits guests share per address. */
  readonly address: string | undefined;

  /** With `pacer`, a send over the rate waits for its turn instead of being refused. */
  constructor(
    identity: Identity,
    outlet: Outlet,
    hub: StreamHub,
    pacer?: SendPacer,
    oneRoom = false,
    address?: string,
  ) {
    this.identity = identity;
    this.#outlet = outlet;
    this.#hub = hub;
    this.#pacer = pacer;
    this.oneRoom = oneRoom;
    this.address = address;
  }

  /** The outlet this stream delivers through: what its own sends name as their origin. */
  get outlet(): Outlet {
    return this.#outlet;
  }

  /** Whether the stream is in `room` (joined, or joining). */
  inRoom(room: RoomId): boolean {
    return this.#rooms.has(room);
  }

  get ended(): boolean {
    return this.#outlet.ended;
  }

  /**
   * Enters a room: answers `joined`, then (resuming) the messages after
   * `resumeAfterId`, then `caught_up`, then live items. Without
   * `resumeAfterId` delivery starts live at the room's head. Entering a room the
   * stream is already in starts that room over from the new point. Throws a
   * ChatError, leaving nothing behind (no member, no presence), when the room
   * cannot be entered.
   */
  async joinRoom(room: RoomId, resumeAfterId?: MessageId, epoch = ""): Promise<void> {
    checkAccess(this.identity.userId, room, this.#hub.limits.maxRoomChars);
    await this.#hub.admitToRoom(this.identity, room);
    const existing = this.#rooms.get(room);
    if (existing) this.#drop(existing);
    else if (this.#rooms.size >= this.#hub.limits.maxRooms) {
      throw new ChatError(
        "resource_exhausted",
        `A session can be in at most ${this.#hub.limits.maxRooms} rooms at once; leave one first.`,
      );
    }
    if (this.ended) return;
    const cursor = new RoomCursor(this.#outlet, room, this.identity.userId);
    this.#rooms.set(room, cursor);
    // In the fan-out before the head is read, so nothing published meanwhile
    // is missed: it is noted and then read from the store.
    this.#hub.register(cursor);
    const { store } = this.#hub;
    let lastId: MessageId;
    let topic: string;
    let lastReadId: MessageId;
    try {
      [lastId, topic, lastReadId] = await Promise.all([
        store.lastId(room),
        store.topic(room),
        store.readMarker(this.identity.userId, room),
      ]);
    } catch (error) {
      if (this.#rooms.get(room) === cursor) this.#drop(cursor);
      throw toChatError(error);
    }
    // Left, joined again, or ended while the head was read.
    if (cursor.closed) return;
    const resume: ResumeOutcome =
      resumeAfterId === undefined
        ? "live"
        : (epoch !== "" && epoch !== store.epoch) || resumeAfterId > lastId
          ? "reset"
          : "resumed";
    this.#hub.presence.add(room, this.identity);
    this.#present.add(cursor);
    this.#outlet.notify(
      { type: "joined", room, lastId, epoch: store.epoch, resume, topic, lastReadId },
      cursor,
    );
    if (resume === "resumed") this.#outlet.start(cursor, resumeAfterId ?? 0, true);
    else this.#outlet.start(cursor, lastId, false);
  }

  /**
   * Leaves a room (a no-op when not in it) and answers `left`: asked for, or
   * with `error` when the server took the stream out (a kick, a ban).
   */
  leaveRoom(room: RoomId, error?: ChatError): void {
    const cursor = this.#rooms.get(room);
    if (cursor) this.#drop(cursor);
    this.#outlet.notify(
      error
        ? { type: "left", room, code: error.code, reason: error.message }
        : { type: "left", room, reason: "" },
    );
  }

  /**
   * Stores a message and fans it out; this stream's cursor skips it (it gets
   * an ack instead). Over the send rate it is refused (RESOURCE_EXHAUSTED),
   * or on a paced stream waits for its turn: a paced stream's sends are
   * stored in the order they were made.
   */
  send(input: SendInput): Promise<AppendResult> {
    return this.#hub.send(this.identity, input, this.#outlet, this.#pacer, this.address);
  }

  /** An item for this stream alone: a welcome, an ack, a refusal. */
  notify(payload: Outbound): void {
    this.#outlet.notify(payload);
  }

  /** Resolves once this stream's queue is under its bound: read the client's next request then. */
  writable(): Promise<void> {
    return this.#outlet.writable();
  }

  /**
   * Leaves every room now (so leaves are announced now, and the rooms'
   * queued items go), then ends the stream once the rest (a notice, acks) is
   * written.
   */
  end(error?: ChatError): void {
    this.#leaveAll();
    this.#outlet.end(error);
  }

  /** Ends the stream now, dropping what is queued: its reader takes nothing. */
  abort(error: ChatError): void {
    this.#leaveAll();
    this.#outlet.abort(error);
  }

  /** The call is gone (cancelled, or its connection died). */
  close(): void {
    this.#leaveAll();
    this.#outlet.close();
  }

  /** What waits in this stream's queue (for tests and metrics). */
  get queued(): { items: number; bytes: number } {
    return this.#outlet.queued;
  }

  /** Since when this stream's transport has taken nothing, if it is stuck. */
  get blockedSince(): number | undefined {
    return this.#outlet.blockedSince;
  }

  #leaveAll(): void {
    for (const cursor of this.#rooms.values()) this.#drop(cursor);
    this.#hub.forget(this);
  }

  #drop(cursor: RoomCursor): void {
    this.#rooms.delete(cursor.room);
    this.#hub.unregister(cursor);
    this.#outlet.remove(cursor);
    if (this.#present.delete(cursor)) this.#hub.presence.remove(cursor.room, this.identity);
  }
}
