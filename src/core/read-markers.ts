import type { Store } from "../store/store.ts";
import { mentions } from "../wire/mentions.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import type { Limits } from "./limits.ts";
import { checkAccess } from "./rooms.ts";
import type { Identity, MessageId, RoomId, UserId } from "./types.ts";

/** Unread messages are counted up to this many per room; a client shows "999+". */
export const UNREAD_CAP = 1000;

export interface RoomUnread {
  readonly lastReadId: MessageId;
  readonly unread: number;
  readonly mentions: number;
}

export interface ReadMarkersOptions {
  readonly store: Store;
  readonly limits: Limits;
  /** Tells every stream of the user, on every node, where the marker is now. */
  readonly announce: (userId: UserId, room: RoomId, lastReadId: MessageId) => void;
}

/**
 * Each user's read position per room: stored, only ever moved forward, and
 * told to all of that user's sessions so they agree on what is unread.
 */
export class ReadMarkers {
  readonly #options: ReadMarkersOptions;

  constructor(options: ReadMarkersOptions) {
    this.#options = options;
  }

  /** Moves the reader's marker to `lastReadId` if that is further; resolves to the marker now. */
  async markRead(
    reader: UserId | undefined,
    room: RoomId,
    lastReadId: MessageId,
  ): Promise<MessageId> {
    const { store, limits, announce } = this.#options;
    if (reader === undefined) {
      throw new ChatError("unauthenticated", "Say who you are to keep a read marker.");
    }
    const checked = checkAccess(reader, room, limits.maxRoomChars);
    const newest = await asChatError(store.lastId(checked));
    if (!Number.isSafeInteger(lastReadId) || lastReadId > newest) {
      throw new ChatError(
        "invalid_argument",
        `${checked}'s newest message is ${newest}; a read marker cannot be past it (got ${lastReadId}).`,
      );
    }
    const marker = await asChatError(store.markRead(reader, checked, lastReadId));
    if (marker === lastReadId) announce(reader, checked, marker);
    return marker;
  }

  /** Where the reader's marker is in a room (0: none). */
  marker(reader: UserId, room: RoomId): Promise<MessageId> {
    return asChatError(this.#options.store.readMarker(reader, room));
  }

  /** Unread and mention counts for each room, from the reader's markers. */
  async unread(reader: Identity, rooms: readonly RoomId[]): Promise<Map<RoomId, RoomUnread>> {
    const counts = await asChatError(
      this.#options.store.unread(reader.userId, rooms, {
        cap: UNREAD_CAP,
        mentionNames: reader.username ? [reader.username.toLowerCase()] : [],
        fromStart: new Set(rooms.filter(isDirectRoom)),
      }),
    );
    return new Map(
      counts.map((c) => [
        c.room,
        {
          lastReadId: c.lastReadId,
          unread: c.unread,
          // In a direct-message room every message is meant for the reader.
          mentions: isDirectRoom(c.room)
            ? c.unread
            : c.mentionCandidates.filter((text) => mentions(text, reader.username)).length,
        },
      ]),
    );
  }
}
