import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import type { Caller } from "../core/users.ts";
import type { AuthedHandler } from "./auth.ts";
import { type StatusLogger, toServiceError } from "./status.ts";

/**
 * A unary handler from a function of the request and its caller: what it
 * returns is the response, what it throws becomes the status.
 */
export function unary<Req>(
  logger: StatusLogger,
  handle: (call: ServerUnaryCall<Req, unknown>, caller: Caller) => unknown,
): AuthedHandler {
  return (async (
    call: ServerUnaryCall<Req, unknown>,
    caller: Caller,
    callback: sendUnaryData<unknown>,
  ) => {
    try {
      callback(null, await handle(call, caller));
    } catch (error) {
      callback(toServiceError(error, logger));
    }
  }) as AuthedHandler;
}
