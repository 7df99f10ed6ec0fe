import type { Access } from "../core/access.ts";
import { isBotToken } from "../core/bots.ts";
import type { Caller } from "../core/caller.ts";
import type { Chat } from "../core/chat.ts";
import { ChatError } from "../core/chat-error.ts";
import { USER_ID_METADATA } from "../wire/grpc-service.ts";

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,256})$/;

/**
 * Who a call is: the one place this is decided, from the call's headers
 * only. A bearer token is an account (or UNAUTHENTICATED); else the
 * `user_id` header is a guest's secret (open mode); else the caller is
 * anonymous: on a server that requires accounts only methods open to
 * `anyone` take that; in open mode a call that needs a user says so itself
 * (the seed's ChatStream and SendMessages may name it in their first message).
 * A method open to `anyone` (Register, Login) ignores a token, so a stale one
 * never stands in the way of a new one.
 */
export async function authenticate(
  chat: Chat,
  header: (key: string) => string | undefined,
  access: Access,
): Promise<Caller> {
  const open = access === "anyone";
  const authorization = header("authorization");
  if (open && (authorization !== undefined || chat.accounts.mode === "required")) {
    return { kind: "anonymous" };
  }
  if (authorization !== undefined) {
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      chat.stats.authFailed("bad_token");
      throw new ChatError(
        "unauthenticated",
        'The authorization metadata must be "Bearer <token>", with the token from Login or Register.',
      );
    }
    if (isBotToken(token)) return authenticateBot(chat, token);
    return chat.accounts.authenticate(token);
  }
  const secret = header(USER_ID_METADATA);
  if (secret !== undefined && secret !== "") return chat.identities.guest(secret);
  if (open) return { kind: "anonymous" };
  if (chat.accounts.mode === "required") {
    chat.stats.authFailed("account_required");
    throw new ChatError(
      "unauthenticated",
      "This server requires an account: log in (or register) and send the token as authorization: Bearer <token>.",
    );
  }
  return { kind: "anonymous" };
}

/** A bot's token: an account whose every room check also asks the token's scope. */
async function authenticateBot(chat: Chat, token: string): Promise<Caller> {
  const identity = await chat.bots.authenticate(token);
  if (!identity) {
    chat.stats.authFailed("bad_token");
    throw new ChatError(
      "unauthenticated",
      "The bot's token is not valid (unknown or revoked); its owner can make a new one with RevokeBot and renew.",
    );
  }
  chat.identities.seen(identity);
  // A bot's token lasts until revoked.
  return { kind: "account", identity, tokenHash: "", expiresMs: 0 };
}
