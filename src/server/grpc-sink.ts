import type { Writable } from "node:stream";
import type { Logger } from "pino";
import type { Encoder } from "../core/envelope.ts";
import type { StreamSink } from "../core/room-cursor.ts";
import { clientAddress } from "./identity.ts";
import type { LiveCall } from "./live-stream.ts";
import { toServiceError } from "./status.ts";

/** A grpc-js server call we can write to: server-streaming or bidirectional. */
export type WritableCall = Writable & { readonly cancelled: boolean; getPeer(): string };

/**
 * A grpc-js call as the core's StreamSink. grpc-js serialises nothing here:
 * the service definition passes bytes through, so the fan-out's one encoding
 * is what goes on the wire.
 */
export function grpcSink(call: WritableCall, encoder: Encoder, logger: Logger): StreamSink {
  return {
    encoder,
    write: (bytes) => call.write(bytes),
    onDrain: (callback) => call.once("drain", callback),
    end(error) {
      if (call.cancelled || call.writableEnded) return;
      // grpc-js sends the status after what is already written.
      if (error) call.emit("error", toServiceError(error, logger));
      else call.end();
    },
  };
}

/** A grpc-js streaming call as a LiveCall. */
export function grpcLiveCall(call: WritableCall, encoder: Encoder, logger: Logger): LiveCall {
  return {
    transport: "grpc",
    sink: grpcSink(call, encoder, logger),
    address: clientAddress(call),
    peer: call.getPeer(),
    onCancel(callback) {
      if (call.cancelled) callback();
      else call.once("cancelled", callback);
    },
    onDone(callback) {
      for (const event of ["cancelled", "finish", "close"]) call.once(event, callback);
    },
  };
}
