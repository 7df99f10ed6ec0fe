import { type AfterPage, CHANGE_KINDS, type HistoryOptions } from "../store/store.ts";
import type { MessageId, RoomId, StoredMessage } from "./types.ts";

export interface RoomTailsOptions {
  /** Newest messages kept per room. Default 1,024 (a full history page, and more). */
  readonly perRoom: number;
  /** Rough bytes kept across all rooms; the least recently used rooms go first. Default 64 MiB. */
  readonly maxBytes: number;
}

export const DEFAULT_ROOM_TAILS: RoomTailsOptions = { perRoom: 1024, maxBytes: 64 * 1024 * 1024 };

/** What a store read started from; see `ticket` and `seed`. */
export interface TailTicket {
  readonly room: RoomId;
  readonly tail: Tail | undefined;
  readonly evictions: number;
}

/**
 * The newest messages of one room, oldest first, with no id missing between
 * the first and the last, and the last the newest the room has.
 */
class Tail {
  messages: StoredMessage[] = [];
  start = 0;
  bytes = 0;
  /** Seeded from a read that found the room's very first message. */
  complete = false;

  get first(): MessageId {
    return (this.messages[this.start] as StoredMessage).id;
  }

  get last(): MessageId {
    return (this.messages[this.messages.length - 1] as StoredMessage).id;
  }

  get size(): number {
    return this.messages.length - this.start;
  }
}

/**
 * A change entry just added to `tail` applied to its target, when the tail
 * holds it, the way the store applies it: so the tail answers as the store
 * would, an edit entry reading its target's text now and a deleted
 * message's text gone.
 */
function applyChange(tail: Tail, change: StoredMessage): number {
  const targetId = change.refId ?? 0;
  if (targetId < tail.first) return 0;
  const at = tail.start + (targetId - tail.first);
  const target = tail.messages[at];
  if (!target || target.id !== targetId) return 0;
  let grown = 0;
  const replace = (i: number, next: StoredMessage) => {
    grown += sizeOf(next) - sizeOf(tail.messages[i] as StoredMessage);
    tail.messages[i] = next;
  };
  let updated: StoredMessage;
  switch (change.kind) {
    case "edit":
      updated = { ...target, text: change.text, editedMs: change.timeMs };
      break;
    case "delete":
      updated = { ...target, text: "", deleted: true, reactions: [] };
      break;
    default: {
      const others = (target.reactions ?? []).filter((r) => r.emoji !== change.text);
      const count = change.count ?? 0;
      const reactions =
        count > 0
          ? (target.reactions ?? []).some((r) => r.emoji === change.text)
            ? (target.reactions ?? []).map((r) => (r.emoji === change.text ? { ...r, count } : r))
            : [...others, { emoji: change.text, count, mine: false }]
          : others;
      updated = { ...target, reactions };
    }
  }
  replace(at, updated);
  if (change.kind === "react" || change.kind === "unreact") return grown;
  // Earlier edit entries read the target's text now, as they do from the store.
  for (let i = at + 1; i < tail.messages.length; i++) {
    const entry = tail.messages[i] as StoredMessage;
    if (entry.kind === "edit" && entry.refId === targetId)
      replace(i, { ...entry, text: updated.text });
  }
  return grown;
}

const sizeOf = (m: StoredMessage) =>
  96 + 2 * (m.text.length + m.username.length + m.userId.length + m.clientMsgId.length);

/**
 * The newest messages of recently used rooms, kept in memory so that the
 * reads a chat makes most (the newest page of history, a reconnect resuming
 * near the head, a slow reader catching up) skip the store. It is only right
 * while this node hears of every stored message as soon as the store has it
 * (one process), so the core keeps one only then. A read it cannot answer
 * exactly is left to the store (undefined), and what the store answers can
 * seed it.
 */
export class RoomTails {
  readonly #options: RoomTailsOptions;
  // In order of use: the first entry is the least recently used room.
  readonly #rooms = new Map<RoomId, Tail>();
  #bytes = 0;
  #evictions = 0;

  constructor(options: Partial<RoomTailsOptions> = {}) {
    this.#options = { ...DEFAULT_ROOM_TAILS, ...options };
  }

  /** Rough bytes held now (for tests and metrics). */
  get bytes(): number {
    return this.#bytes;
  }

  /** A message was stored: called for each, in id order per room, before any read can see it. */
  record(message: StoredMessage): void {
    const tail = this.#rooms.get(message.room);
    if (tail && message.id <= tail.last) return;
    if (!tail || message.id !== tail.last + 1) {
      // New, or something was missed: this message starts the room's tail afresh.
      if (tail) this.#drop(message.room, tail);
      const fresh = new Tail();
      this.#rooms.set(message.room, fresh);
      this.#add(fresh, message);
    } else {
      this.#touch(message.room, tail);
      this.#add(tail, message);
      if (CHANGE_KINDS.has(message.kind)) {
        const grown = applyChange(tail, message);
        tail.bytes += grown;
        this.#bytes += grown;
      }
      if (tail.size > this.#options.perRoom)
        this.#trimFront(tail, tail.size - this.#options.perRoom);
    }
    this.#evictOver(message.room);
  }

  /**
   * The newest `limit` messages before `beforeId` (all when absent), newest
   * first, as `Store.history` answers; undefined when this cannot be told
   * without the store.
   */
  history(room: RoomId, options: HistoryOptions): StoredMessage[] | undefined {
    const tail = this.#rooms.get(room);
    if (!tail) return undefined;
    const before = options.beforeId && options.beforeId > 0 ? options.beforeId : Infinity;
    const page: StoredMessage[] = [];
    for (let i = tail.messages.length - 1; i >= tail.start && page.length < options.limit; i--) {
      const message = tail.messages[i] as StoredMessage;
      if (message.id >= before || CHANGE_KINDS.has(message.kind)) continue;
      // Who reacted is not kept here, so whether the reader is one of them is the store's to say.
      if (message.reactions && message.reactions.length > 0) return undefined;
      if (options.includeSystem || message.kind !== "system") page.push(message);
    }
    if (page.length < options.limit && !tail.complete) return undefined;
    this.#touch(room, tail);
    return page;
  }

  /** Up to `limit` messages after `afterId`, oldest first, as `Store.after` answers; or undefined. */
  after(
    room: RoomId,
    afterId: MessageId,
    limit: number,
    includeSystem = true,
  ): AfterPage | undefined {
    const tail = this.#rooms.get(room);
    // Below the tail the store may have pruned ids, which only it can report.
    if (!tail || afterId < tail.first - 1) return undefined;
    const messages: StoredMessage[] = [];
    const from = tail.start + Math.max(0, afterId - tail.first + 1);
    for (let i = from; i < tail.messages.length && messages.length < limit; i++) {
      const message = tail.messages[i] as StoredMessage;
      if (!includeSystem && message.kind === "system") continue;
      // Reactions travel as their own entries; a page read forwards carries none, as from the store.
      messages.push(message.reactions ? { ...message, reactions: undefined } : message);
    }
    this.#touch(room, tail);
    return { messages, prunedThrough: 0 };
  }

  /** Taken just before reading a room's newest messages from the store, to `seed` with them. */
  ticket(room: RoomId): TailTicket {
    return { room, tail: this.#rooms.get(room), evictions: this.#evictions };
  }

  /**
   * `newest` is what the store answered, newest first, to a read of the
   * newest `limit` messages of every kind taken after `ticket`. It extends
   * the room's tail backwards when nothing it holds could be missing from it.
   */
  seed(ticket: TailTicket, newest: readonly StoredMessage[], limit: number): void {
    const { room } = ticket;
    const current = this.#rooms.get(room);
    // A tail dropped while the store read ran may have held newer messages.
    if (ticket.evictions !== this.#evictions || (ticket.tail && current !== ticket.tail)) return;
    if (newest.length === 0) return;
    const newestId = (newest[0] as StoredMessage).id;
    if (current && current.first > newestId + 1) return;
    const older = newest.filter((m) => m.id < (current ? current.first : Infinity)).reverse();
    // Reads by id step through the tail by position, so ids must follow on.
    const ids = [...older.map((m) => m.id), ...(current ? [current.first] : [])];
    if (ids.some((id, i) => i > 0 && id !== (ids[i - 1] as MessageId) + 1)) return;
    const tail = current ?? new Tail();
    if (!current) this.#rooms.set(room, tail);
    for (const message of older) {
      tail.bytes += sizeOf(message);
      this.#bytes += sizeOf(message);
    }
    tail.messages = [...older, ...tail.messages.slice(tail.start)];
    tail.start = 0;
    tail.complete = newest.length < limit;
    if (tail.size > this.#options.perRoom) this.#trimFront(tail, tail.size - this.#options.perRoom);
    this.#touch(room, tail);
    this.#evictOver(room);
  }

  /** Forgets everything (messages were removed from the store). */
  clear(): void {
    this.#rooms.clear();
    this.#bytes = 0;
    this.#evictions += 1;
  }

  #add(tail: Tail, message: StoredMessage): void {
    tail.messages.push(message);
    const size = sizeOf(message);
    tail.bytes += size;
    this.#bytes += size;
  }

  #trimFront(tail: Tail, count: number): void {
    for (let i = 0; i < count; i++) {
      const size = sizeOf(tail.messages[tail.start] as StoredMessage);
      tail.bytes -= size;
      this.#bytes -= size;
      tail.start += 1;
    }
    tail.complete = false;
    // Compact now and then rather than shifting the array on every message.
    if (tail.start >= this.#options.perRoom) {
      tail.messages = tail.messages.slice(tail.start);
      tail.start = 0;
    }
  }

  #touch(room: RoomId, tail: Tail): void {
    this.#rooms.delete(room);
    this.#rooms.set(room, tail);
  }

  #drop(room: RoomId, tail: Tail): void {
    this.#rooms.delete(room);
    this.#bytes -= tail.bytes;
    this.#evictions += 1;
  }

  /** Drops the least recently used rooms (never `keep`) until under the byte bound. */
  #evictOver(keep: RoomId): void {
    for (const [room, tail] of this.#rooms) {
      if (this.#bytes <= this.#options.maxBytes) return;
      if (room !== keep) this.#drop(room, tail);
    }
  }
}
