import { directMembers, isDirectRoom, isPublicRoomName, roomNameRule } from "../wire/room-names.ts";
import { ChatError } from "./chat-error.ts";
import { excerpt } from "./names.ts";
import type { RoomId, UserId } from "./types.ts";

export { directMembers, directRoom } from "../wire/room-names.ts";

/**
 * Throws unless `room` is a name a room can have, within `maxChars` (a
 * direct-message room is as long as its two ids make it).
 */
export function checkRoom(room: RoomId, maxChars: number): RoomId {
  if (isDirectRoom(room)) {
    if (directMembers(room)) return room;
    throw new ChatError(
      "invalid_argument",
      'Room names starting with "dm:" are direct messages; open one with OpenDirect (or /msg name).',
    );
  }
  if (!isPublicRoomName(room, maxChars))
    throw new ChatError("invalid_argument", roomNameRule(maxChars));
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
export function noSuchRoom(room: RoomId): ChatError {
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
