/**
 * Room names, as every part of the system reads them: the core (who may use
 * a room), both stores (a direct-message room is skipped in room lists by its
 * prefix), and both clients (what a user may type, and which rooms are
 * direct). Nothing here imports anything, so the web client bundles it as is.
 *
 * A room anyone may enter is 1 to the server's --max-room-chars (default 64)
 * letters, digits and `_ . -`, starting with a letter or digit. Names with `:`
 * are the server's: `dm:<userId>:<userId>` is the direct-message room of
 * exactly those two users (ids sorted).
 */

/** The room the seed's RPCs use, and the one an empty room name means. */
export const DEFAULT_ROOM = "lobby";

/** What every direct-message room's name starts with. */
export const DM_PREFIX = "dm:";

const PUBLIC_ROOM = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Whether `room` is a name a public room can have, within `maxChars`. */
export function isPublicRoomName(room: string, maxChars: number): boolean {
  return room.length <= maxChars && PUBLIC_ROOM.test(room);
}

/** The rule for a public room's name, as a sentence a person can act on. */
export function roomNameRule(maxChars: number): string {
  return `A room name is 1-${maxChars} characters: letters, digits and _ . -, starting with a letter or digit.`;
}

/** Whether `room` is a direct-message room's name (its two users are not checked). */
export function isDirectRoom(room: string): boolean {
  return room.startsWith(DM_PREFIX);
}

/** The direct-message room of two users: the same name whoever opens it. */
export function directRoom(a: string, b: string): string {
  return a < b ? `${DM_PREFIX}${a}:${b}` : `${DM_PREFIX}${b}:${a}`;
}

/** The two users of a direct-message room; undefined for any other room. */
export function directMembers(room: string): readonly [string, string] | undefined {
  if (!isDirectRoom(room)) return undefined;
  const parts = room.slice(DM_PREFIX.length).split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1] || parts[0] >= parts[1]) return undefined;
  return [parts[0], parts[1]];
}
