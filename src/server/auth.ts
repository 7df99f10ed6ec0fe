import type { Metadata, UntypedHandleCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import type { Caller } from "../core/caller.ts";
import type { Chat } from "../core/chat.ts";
import { ChatError } from "../core/chat-error.ts";
import { USER_ID_METADATA } from "../wire/grpc-service.ts";
import { type StatusLogger, toServiceError } from "./status.ts";
import { UndecodableRequest } from "./undecodable.ts";

/** Calls anyone may make, even on a server that requires accounts. */
const PUBLIC_METHODS = new Set(["register", "login", "getServerInfo"]);

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,256})$/;

/** A handler that is told who is calling; otherwise a grpc-js handler. */
export type AuthedHandler = (call: never, caller: Caller, callback: never) => unknown;

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : undefined;
}

/**
 * Who a call is: the one place this is decided, from the call's metadata
 * only. A bearer token is an account (or UNAUTHENTICATED); else the
 * `user_id` metadata is a guest's secret (open mode); else the caller is
 * anonymous: on a server that requires accounts only Register and Login
 * take that; in open mode a call that needs a user says so itself (the
 * seed's ChatStream and SendMessages may name it in their first message).
 */
export async function authenticate(
  chat: Chat,
  header: (key: string) => string | undefined,
  method: string,
): Promise<Caller> {
  const authorization = header("authorization");
  // Register and Login need no one: a stale token must not stand in the way of a new one.
  if (
    PUBLIC_METHODS.has(method) &&
    (authorization !== undefined || chat.accounts.mode === "required")
  ) {
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
    return chat.accounts.authenticate(token);
  }
  const secret = header(USER_ID_METADATA);
  if (secret !== undefined && secret !== "") return chat.identities.guest(secret);
  if (PUBLIC_METHODS.has(method)) return { kind: "anonymous" };
  if (chat.accounts.mode === "required") {
    chat.stats.authFailed("account_required");
    throw new ChatError(
      "unauthenticated",
      "This server requires an account: log in (or register) and send the token as authorization: Bearer <token>.",
    );
  }
  return { kind: "anonymous" };
}

/**
 * Puts {@link authenticate} in front of every handler of a service: a
 * handler runs only once its caller is known, and is handed it. A call that
 * cannot be authenticated, or whose one request did not decode, ends with its
 * status before any handler sees it.
 */
export function withCallers(
  chat: Chat,
  logger: StatusLogger,
  handlers: Record<string, AuthedHandler>,
): UntypedServiceImplementation {
  const wrapped: Record<string, UntypedHandleCall> = {};
  for (const [method, handler] of Object.entries(handlers)) {
    wrapped[method] = ((
      call: { metadata: Metadata; request?: unknown; emit(e: string, v: unknown): void },
      callback?: (e: unknown) => void,
    ) => {
      const refuse = (error: unknown) => {
        const status = toServiceError(error, logger);
        if (callback) callback(status);
        else call.emit("error", status);
      };
      // A call's one request that did not decode: nothing is written yet, so its status is safe.
      if (call.request instanceof UndecodableRequest) {
        refuse(call.request.toChatError());
        return;
      }
      authenticate(chat, (key) => first(call.metadata, key), method).then(
        (caller) =>
          (handler as (c: unknown, who: Caller, cb?: unknown) => unknown)(call, caller, callback),
        refuse,
      );
    }) as UntypedHandleCall;
  }
  return wrapped;
}
