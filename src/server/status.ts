import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { type ChatErrorCode, toChatError } from "../core/chat-error.ts";

const CODES: Record<ChatErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  permission_denied: status.PERMISSION_DENIED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  failed_precondition: status.FAILED_PRECONDITION,
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
  return { code: CODES[chatError.code], details: chatError.message, metadata: new Metadata() };
}

export function grpcCode(code: ChatErrorCode): status {
  return CODES[code];
}
