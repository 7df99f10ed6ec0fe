import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { RETRY_AFTER_METADATA } from "../wire/grpc-service.ts";
import { failureStatus, type StatusLogger } from "./status.ts";

/** A failure as grpc-js sends it: code, sentence, and `retry-after-ms` in the trailers. */
export function toServiceError(error: unknown, logger: StatusLogger): Partial<ServiceError> {
  const { code, details, retryAfterMs } = failureStatus(error, logger);
  const metadata = new Metadata();
  if (retryAfterMs !== undefined) metadata.set(RETRY_AFTER_METADATA, String(retryAfterMs));
  return { code, details, metadata };
}
