import { applyChange, type ChatLine } from "../client/chat-client.ts";

/** How many messages per room the client remembers for edits, replies and reactions. */
const KEPT_PER_ROOM = 5_000;

/**
 * The messages the terminal client has shown, by room and id, in their
 * current state: what /edit last, /react and replies look up, and what
 * change entries apply to.
 */
export class MessageIndex {
  readonly #rooms = new Map<string, Map<number, ChatLine>>();

  /** A message shown (from the stream, history, or our own acknowledged send). */
  record(line: ChatLine): void {
    if (line.id <= 0 || line.system || line.change) return;
    let room = this.#rooms.get(line.room);
    if (!room) {
      room = new Map();
      this.#rooms.set(line.room, room);
    }
    // What came last is the newest state: a History page says what is now.
    room.set(line.id, line);
    if (room.size > KEPT_PER_ROOM) {
      const first = room.keys().next();
      if (!first.done) room.delete(first.value);
    }
  }

  get(room: string, id: number): ChatLine | undefined {
    return this.#rooms.get(room)?.get(id);
  }

  /** Applies a change entry; the changed message, or undefined when it is not held. */
  apply(entry: ChatLine, selfId: string): ChatLine | undefined {
    const target = entry.change && this.get(entry.room, entry.change.targetId);
    if (!target) return undefined;
    const changed = applyChange(target, entry, selfId);
    this.#rooms.get(entry.room)?.set(changed.id, changed);
    return changed;
  }

  /** The name a user's messages carry, from any room held; undefined when none is held. */
  username(userId: string): string | undefined {
    for (const room of this.#rooms.values()) {
      for (const line of room.values()) if (line.userId === userId) return line.username;
    }
    return undefined;
  }

  /** The newest message in `room` (by `userId` when given) that is not deleted. */
  newest(room: string, userId?: string): ChatLine | undefined {
    let newest: ChatLine | undefined;
    for (const line of this.#rooms.get(room)?.values() ?? []) {
      if (line.deleted || (userId !== undefined && line.userId !== userId)) continue;
      if (!newest || line.id > newest.id) newest = line;
    }
    return newest;
  }
}
