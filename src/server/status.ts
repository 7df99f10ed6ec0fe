import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { type ChatErrorCode, toChatError } from "../core/chat-error.ts";
import { RETRY_AFTER_METADATA } from "../wire/grpc-service.ts";

const CODES: Record<ChatErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  permission_denied: status.PERMISSION_DENIED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  failed_precondition: status.FAILED_PRECONDITION,
  already_exists: status.ALREADY_EXISTS,
  unauthenticated: status.UNAUTHENTICATED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

export interface StatusLogger {
  error(details: object, message: string): void;
}

/**
 * The one place a failure becomes a gRPC status. The status carries the
 * error's sentence for a person; an unexpected error's cause goes to the log
 * only, never over the wire.
 */
export function toServiceError(error: unknown, logger: StatusLogger): Partial<ServiceError> {
  const chatError = toChatError(error);
  if (chatError.code === "internal")
    logger.error({ err: chatError.cause ?? chatError }, "request failed");
  const metadata = new Metadata();
  if (chatError.retryAfterMs !== undefined) {
    metadata.set(RETRY_AFTER_METADATA, String(chatError.retryAfterMs));
  }
  return { code: CODES[chatError.code], details: statusDetails(chatError.message), metadata };
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

export function grpcCode(code: ChatErrorCode): status {
  return CODES[code];
}
