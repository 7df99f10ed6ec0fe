import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import type { Caller } from "../core/caller.ts";
import type { AuthedHandler } from "./auth.ts";
import { clientAddress, metadataUserId } from "./identity.ts";
import type { UnaryRpc, UnaryRpcs } from "./rpc.ts";
import { type StatusLogger, toServiceError } from "./status.ts";

/** A grpc-js unary handler from a transport-free one. */
export function grpcUnary(logger: StatusLogger, rpc: UnaryRpc): AuthedHandler {
  return (async (
    call: ServerUnaryCall<unknown, unknown>,
    caller: Caller,
    callback: sendUnaryData<unknown>,
  ) => {
    try {
      const run = rpc as (request: unknown, context: unknown) => unknown;
      const context = {
        caller,
        address: clientAddress(call),
        guestSecret: metadataUserId(call.metadata),
      };
      callback(null, await run(call.request, context));
    } catch (error) {
      callback(toServiceError(error, logger));
    }
  }) as AuthedHandler;
}

export function grpcUnaries(logger: StatusLogger, rpcs: UnaryRpcs): Record<string, AuthedHandler> {
  return Object.fromEntries(
    Object.entries(rpcs).map(([method, rpc]) => [method, grpcUnary(logger, rpc)]),
  );
}
