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
  | "unavailable"
  | "internal";

/**
 * The one error type the core throws. `message` is written for a person and
 * goes over the wire; `cause` is for the log only.
 */
export class ChatError extends Error {
  readonly code: ChatErrorCode;

  constructor(code: ChatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ChatError";
    this.code = code;
  }
}

/** Normalises anything caught into a ChatError, keeping the original as `cause`. */
export function toChatError(error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  return new ChatError("internal", "The server failed to handle this request.", { cause: error });
}
