import { type ChatErrorCode, toChatError } from "../core/chat-error.ts";

/**
 * gRPC's status codes (google.rpc.Code), which Connect and gRPC-Web share by
 * number: what both transports answer with. Only the ones the server uses.
 */
export const STATUS = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const CODES: Record<ChatErrorCode, number> = {
  invalid_argument: STATUS.INVALID_ARGUMENT,
  not_found: STATUS.NOT_FOUND,
  permission_denied: STATUS.PERMISSION_DENIED,
  resource_exhausted: STATUS.RESOURCE_EXHAUSTED,
  failed_precondition: STATUS.FAILED_PRECONDITION,
  already_exists: STATUS.ALREADY_EXISTS,
  unauthenticated: STATUS.UNAUTHENTICATED,
  unavailable: STATUS.UNAVAILABLE,
  internal: STATUS.INTERNAL,
};

export interface StatusLogger {
  error(details: object, message: string): void;
}

/** A failure as a status, on any transport. */
export interface FailureStatus {
  readonly code: number;
  readonly details: string;
  /** For a limit that will pass: ms until a retry can succeed (sent as `retry-after-ms`). */
  readonly retryAfterMs: number | undefined;
}

/**
 * The one place a failure becomes a status. The status carries the error's
 * sentence for a person; an unexpected error's cause goes to the log only,
 * never over the wire.
 */
export function failureStatus(error: unknown, logger: StatusLogger): FailureStatus {
  const chatError = toChatError(error);
  if (chatError.code === "internal")
    logger.error({ err: chatError.cause ?? chatError }, "request failed");
  return {
    code: CODES[chatError.code],
    details: statusDetails(chatError.message),
    retryAfterMs: chatError.retryAfterMs,
  };
}

/** The most characters a status's details carry; a sentence never needs more. */
export const MAX_DETAILS_CHARS = 200;

/**
 * Details as they may go on the wire: cut to MAX_DETAILS_CHARS, so a sentence
 * that quotes what a client sent never carries it whole (details over 64 KiB
 * make the client's HTTP/2 layer drop its whole connection), and well-formed
 * (grpc-js puts details through encodeURI, which throws on a lone surrogate).
 */
export function statusDetails(details: string): string {
  const short =
    details.length > MAX_DETAILS_CHARS ? `${details.slice(0, MAX_DETAILS_CHARS - 1)}…` : details;
  return short.toWellFormed();
}

export function grpcCode(code: ChatErrorCode): number {
  return CODES[code];
}
