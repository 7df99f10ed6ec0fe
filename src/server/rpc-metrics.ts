import type { DescMethod } from "@bufbuild/protobuf";
import type { Transport } from "./connections.ts";
import type { LiveCall } from "./live-stream.ts";
import { grpcCode, STATUS } from "./status.ts";

/** Per-RPC counts, recorded by both transports' adapters around every call. */
export interface RpcMetrics {
  /** One method's counts on one transport, resolved once when its handler is built, not per call. */
  of(method: DescMethod, transport: Transport): MethodMetrics;
}

export interface MethodMetrics {
  /**
   * Counts a call as started; the function it returns records the call's
   * status code (a gRPC code number) once it has ended. Only its first call
   * counts, so every way a call can end may report.
   */
  start(): (code: number) => void;
}

const UNCOUNTED: MethodMetrics = { start: () => () => {} };

/** For a server without metrics. */
export const NO_RPC_METRICS: RpcMetrics = { of: () => UNCOUNTED };

/**
 * `call` with its end reported to `ended` as a status code: the error its
 * sink ends with (OK for none), or CANCELLED when the client goes first.
 */
export function observeEnd(call: LiveCall, ended: (code: number) => void): LiveCall {
  const { sink } = call;
  call.onCancel(() => ended(STATUS.CANCELLED));
  return {
    transport: call.transport,
    address: call.address,
    peer: call.peer,
    get cancelled() {
      return call.cancelled;
    },
    onCancel: (callback) => call.onCancel(callback),
    onDone: (callback) => call.onDone(callback),
    sink: {
      ...sink,
      end(error) {
        ended(error ? grpcCode(error.code) : STATUS.OK);
        sink.end(error);
      },
    },
  };
}
