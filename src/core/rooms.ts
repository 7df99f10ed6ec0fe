import { ChatError } from "./chat-error.ts";
import { excerpt } from "./names.ts";
import type { RoomId, UserId } from "./types.ts";

/**
 * Room names. A room anyone may enter is 1-64 letters, digits and `_ . -`,
 * starting with a letter or digit (the seed's RPCs use `lobby`). Names with
 * `:` are the server's: `dm:<userId>:<userId>` is the direct-message room of
 * exactly those two users (ids sorted), which no one else can join, list,
 * read or resume.
 */
const DM_PREFIX = "dm:";
const PUBLIC_ROOM = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The direct-message room of two users: the same name whoever opens it. */
export function directRoom(a: UserId, b: UserId): RoomId {
  return a < b ? `${DM_PREFIX}${a}:${b}` : `${DM_PREFIX}${b}:${a}`;
}

/** The two users of a direct-message room; undefined for any other room. */
export function directMembers(room: RoomId): readonly [UserId, UserId] | undefined {
  if (!room.startsWith(DM_PREFIX)) return undefined;
  const parts = room.slice(DM_PREFIX.length).split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1] || parts[0] >= parts[1]) return undefined;
  return [parts[0], parts[1]];
}

/**
 * Throws unless `room` is a name a room can have, within `maxChars` (a
 * direct-message room is as long as its two ids make it).
 */
export function checkRoom(room: RoomId, maxChars: number): RoomId {
  if (room.startsWith(DM_PREFIX)) {
    if (directMembers(room)) return room;
    throw new ChatError(
      "invalid_argument",
      'Room names starting with "dm:" are direct messages; open one with OpenDirect (or /msg name).',
    );
  }
  if (room.length > maxChars || !PUBLIC_ROOM.test(room)) {
    throw new ChatError(
      "invalid_argument",
      `A room name is 1-${maxChars} characters: letters, digits and _ . -, starting with a letter or digit.`,
    );
  }
  return room;
}

/** Whether `reader` (undefined: a caller with no identity) may read and write `room`. */
function mayUse(reader: UserId | undefined, room: RoomId): boolean {
  const members = directMembers(room);
  return members === undefined || (reader !== undefined && members.includes(reader));
}

/**
 * The one answer for a room the caller may not use, the same whether it
 * exists or not, so a private room cannot be probed by its error.
 */
function noSuchRoom(room: RoomId): ChatError {
  return new ChatError(
    "not_found",
    `There is no room "${excerpt(room, 64)}" that you can use. Direct messages are only for their two users.`,
  );
}

/** Throws NOT_FOUND unless `reader` may use `room` (after checking its name). */
export function checkAccess(reader: UserId | undefined, room: RoomId, maxChars: number): RoomId {
  checkRoom(room, maxChars);
  if (!mayUse(reader, room)) throw noSuchRoom(room);
  return room;
}
