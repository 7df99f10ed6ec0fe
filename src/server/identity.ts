import type { Caller } from "../core/caller.ts";
import type { Chat } from "../core/chat.ts";
import { ChatError } from "../core/chat-error.ts";
import type { Identity } from "../core/types.ts";

/** The client's address without its port, for limits per address. */
export function clientAddress(call: { getPeer(): string }): string {
  const peer = call.getPeer();
  const ipv6 = /^\[(.*)\]:\d+$/.exec(peer);
  if (ipv6?.[1] !== undefined) return ipv6[1];
  return peer.replace(/:\d+$/, "");
}

/**
 * The seed's ChatStream and SendMessages: who the call is, and the name it
 * chats under. A caller with no credentials in its metadata is the guest its
 * first message's user_id names (the seed's wire allows that); the name is
 * the one it joined with, else the one the message carries.
 */
export async function seedIdentity(
  chat: Chat,
  caller: Caller,
  secret: string,
  first: { userId: string; username: string },
  address: string,
): Promise<{ identity: Identity; secret: string }> {
  let who = caller;
  let ownSecret = secret;
  if (who.kind === "anonymous") {
    who = chat.identities.guest(first.userId);
    ownSecret = first.userId;
  }
  const { identity } = await chat.identities.nameFor(
    who,
    chat.identities.nameOf(who) ? "" : first.username,
    address,
  );
  checkClaim(first.userId, ownSecret, identity.userId);
  return { identity, secret: ownSecret };
}

/**
 * Refuses a message that claims to come from someone else. The user_id a
 * seed message carries may be empty or one of the caller's own ids (its
 * secret, or its public id); the error never repeats what was claimed.
 */
export function checkClaim(claimedUserId: string, ...own: string[]): void {
  if (claimedUserId === "" || own.includes(claimedUserId)) return;
  throw new ChatError(
    "invalid_argument",
    "A message on this call claims a user_id other than the caller's own; a call speaks for one user only.",
  );
}
