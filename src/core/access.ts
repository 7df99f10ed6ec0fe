import { type Caller, callerId } from "./caller.ts";
import { ChatError } from "./chat-error.ts";
import { checkAccess } from "./rooms.ts";
import type { RoomId } from "./types.ts";

/**
 * Who may call a method, from least to most trusted. `anyone`: no
 * credentials, in any auth mode. `guest`: whoever the server lets in (in open
 * mode anyone, who may name themselves in the call; with accounts required,
 * an account: authentication has refused everyone else). `account`: an
 * account's token. `member`: a guest who may use the room the call names.
 * `moderator`, `owner`: a member with that role in the room. `admin`: a
 * server admin.
 */
export type Access = "anyone" | "guest" | "account" | "member" | "moderator" | "owner" | "admin";

/**
 * Throws unless `caller` (already authenticated) may make a call that needs
 * `access`, for `room` when the call names one. A room the caller may not use
 * answers NOT_FOUND, exactly as one that does not exist.
 */
export function authorize(
  caller: Caller,
  access: Access,
  room: RoomId | undefined,
  maxRoomChars: number,
): void {
  switch (access) {
    case "anyone":
    case "guest":
      return;
    case "account":
      if (caller.kind === "account") return;
      throw new ChatError(
        "failed_precondition",
        "Only a call made with an account's token can do this: log in (or register) and send the token as authorization: Bearer <token>.",
      );
    case "member":
      if (room === undefined) throw new Error("A method open to room members must name its room.");
      checkAccess(callerId(caller), room, maxRoomChars);
      return;
    default:
      // Room roles and server admins come with moderation; until then no one holds them.
      throw new ChatError("permission_denied", "You do not have the role this call needs.");
  }
}
