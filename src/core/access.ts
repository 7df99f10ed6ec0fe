import { type Caller, callerId } from "./caller.ts";
import { ChatError } from "./chat-error.ts";
import type { RoomRules } from "./room-rules.ts";
import { checkAccess } from "./rooms.ts";
import type { Identity, RoomId } from "./types.ts";

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

/** The identity a caller acts as, for the rules (a guest's name is not known here). */
export function callerIdentity(caller: Caller): Identity | undefined {
  if (caller.kind === "account") return caller.identity;
  return caller.kind === "guest" ? { userId: caller.userId, username: "" } : undefined;
}

/**
 * Throws unless `caller` (already authenticated) may make a call that needs
 * `access`, for `room` when the call names one. A room the caller may not
 * read answers NOT_FOUND, exactly as one that does not exist; a ban says
 * why and until when.
 */
export async function authorize(
  caller: Caller,
  access: Access,
  room: RoomId | undefined,
  rules: RoomRules,
  maxRoomChars: number,
  posting = false,
): Promise<void> {
  const who = callerIdentity(caller);
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
    case "admin":
      if (who !== undefined && rules.isAdmin(who)) return;
      throw new ChatError(
        "permission_denied",
        "Only a server admin can do this (an account named by --admin, or granted with `grpc-chat admin grant`).",
      );
    default: {
      if (room === undefined) {
        if (access === "member")
          throw new Error("A method open to room members must name its room.");
        // A call about the whole server rather than one room: only admins.
        return authorize(caller, "admin", undefined, rules, maxRoomChars);
      }
      checkAccess(callerId(caller), room, maxRoomChars);
      // A call that posts asks what posting needs (a bot's token may post
      // where it may not read; a muted member may read but not post).
      if (access === "member" && posting && who) await rules.checkAct(who, room, "post");
      else if (access === "member") await rules.checkRead(who, room);
      else if (who === undefined) throw new ChatError("permission_denied", "Sign in first.");
      else await rules.checkRank(who, room, access);
    }
  }
}
