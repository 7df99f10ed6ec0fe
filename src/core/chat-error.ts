import { StoreUnavailableError } from "../store/store.ts";

/**
 * What went wrong, in terms a transport can map to its own status. The names
 * follow gRPC's codes because they are the best-known vocabulary for this; the
 * mapping to a wire status happens in exactly one place per transport.
 */
export type ChatErrorCode =
  | "invalid_argument"
  | "not_found"
  | "permission_denied"
  | "resource_exhausted"
  | "failed_precondition"
  | "already_exists"
  | "unauthenticated"
  | "unavailable"
  | "internal";

/**
 * The one error type the core throws. `message` is written for a person and
 * goes over the wire; `cause` is for the log only.
 */
export class ChatError extends Error {
  readonly code: ChatErrorCode;
  /** For a limit that will pass: how long until trying again can succeed. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ChatErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = "ChatError";
    this.code = code;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * Normalises anything caught into a ChatError, keeping the original as
 * `cause`. A store that cannot serve for now is `unavailable` (retry later);
 * anything unexpected is `internal`, and its details stay in the log.
 */
export function toChatError(error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  if (error instanceof StoreUnavailableError) {
    return new ChatError("unavailable", `${error.message} Try again shortly.`, { cause: error });
  }
  return new ChatError("internal", "The server failed to handle this request.", { cause: error });
}

/** Awaits `work` (a store call), so that its failure reads as a ChatError. */
export async function asChatError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw toChatError(error);
  }
}
