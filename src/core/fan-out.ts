import { toChatError } from "./chat-error.ts";
import type { ChatStream } from "./chat-stream.ts";
import type { Envelope, Outbound } from "./envelope.ts";
import type { RoomCursor } from "./room-cursor.ts";
import type { RoomTails } from "./room-tails.ts";
import { directMembers } from "./rooms.ts";
import type { ChatStats } from "./stats.ts";
import type { MessageId, RoomId, UserId } from "./types.ts";
import type { Typing } from "./typing.ts";

/**
 * Who is in which room on this node, and handing each event to them. Every
 * event reaches a room's cursors here, whether this node stored it or another
 * node's did; each cursor's Outlet decides what its stream still needs.
 */
export class RoomFanOut {
  readonly #members = new Map<RoomId, Set<RoomCursor>>();
  /** The streams that take direct messages, by user: they enter a DM room when one arrives. */
  readonly #direct = new Map<UserId, Set<ChatStream>>();
  readonly #tails: RoomTails | undefined;
  readonly #stats: ChatStats;
  readonly #typing: Typing | undefined;

  /** Told of each message delivered here, from this node or another (bots' hooks wake on it). */
  onStored: ((room: RoomId) => void) | undefined;

  constructor(tails: RoomTails | undefined, stats: ChatStats, typing?: Typing) {
    this.#tails = tails;
    this.#stats = stats;
    this.#typing = typing;
  }

  /** Rooms with a stream in them. */
  get roomCount(): number {
    return this.#members.size;
  }

  enter(cursor: RoomCursor): void {
    let members = this.#members.get(cursor.room);
    if (!members) {
      members = new Set();
      this.#members.set(cursor.room, members);
    }
    members.add(cursor);
  }

  leave(cursor: RoomCursor): void {
    const members = this.#members.get(cursor.room);
    if (members?.delete(cursor) && members.size === 0) this.#members.delete(cursor.room);
  }

  takeDirectMessages(stream: ChatStream): void {
    const userId = stream.identity.userId;
    let direct = this.#direct.get(userId);
    if (!direct) {
      direct = new Set();
      this.#direct.set(userId, direct);
    }
    direct.add(stream);
  }

  forget(stream: ChatStream): void {
    const userId = stream.identity.userId;
    const direct = this.#direct.get(userId);
    if (direct?.delete(stream) && direct.size === 0) this.#direct.delete(userId);
  }

  /** An item for every stream of one user on this node that takes direct messages (Session, Subscribe). */
  toUser(userId: UserId, payload: Outbound): void {
    for (const stream of this.#direct.get(userId) ?? []) if (!stream.ended) stream.notify(payload);
  }

  deliver(room: RoomId, envelope: Envelope): void {
    // Before any stream sees it: a stream that falls behind reads it from the tail.
    if (envelope.payload.type === "message") {
      const { message } = envelope.payload;
      this.#tails?.record(message);
      // Whoever just wrote has stopped typing; a room nobody types in costs one lookup.
      if (message.kind === "chat") this.#typing?.note(room, message, true, 0);
    }
    const members = this.#members.get(room);
    if (members) for (const cursor of members) cursor.outlet.offer(cursor, envelope);
    const { payload } = envelope;
    if (payload.type === "message") {
      this.#stats.messagesFannedOut += 1;
      this.#bringIntoDirect(room, payload.message.id, envelope.origin);
      this.onStored?.(room);
    }
  }

  /**
   * Events were lost (the bus was away): every room with a stream here learns
   * its newest id from `lastId`, and the streams behind it catch up from the
   * store.
   */
  async catchUp(lastId: (room: RoomId) => Promise<MessageId>): Promise<void> {
    for (const [room, members] of [...this.#members]) {
      const id = await lastId(room);
      for (const cursor of members) cursor.outlet.headAt(cursor, id);
    }
  }

  /**
   * A direct message reaches every stream of both users, joined or not: a
   * stream not yet in the room enters it from just before this message (its
   * cursor then reads it from the store, once). The stream that sent it
   * enters after it: it has its ack.
   */
  #bringIntoDirect(room: RoomId, id: MessageId, origin: object | undefined): void {
    const users = directMembers(room);
    if (!users) return;
    for (const userId of users) {
      for (const stream of this.#direct.get(userId) ?? []) {
        if (stream.inRoom(room) || stream.ended) continue;
        const after = stream.outlet === origin ? id : id - 1;
        stream.joinRoom(room, after).catch((error: unknown) => {
          const { code, message } = toChatError(error);
          stream.notify({ type: "left", room, code, reason: message });
        });
      }
    }
  }
}
