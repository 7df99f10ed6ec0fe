import type { ServerHttp2Stream } from "node:http2";
import type { Writable } from "node:stream";
import { Metadata } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { ChatError } from "../core/chat-error.ts";
import type { Encoder } from "../core/envelope.ts";
import type { StreamSink } from "../core/room-cursor.ts";
import type { FallbackWrites } from "./fallback-writes.ts";
import { framed, unframed } from "./frames.ts";
import { toServiceError } from "./grpc-status.ts";
import { clientAddress } from "./identity.ts";
import type { LiveCall } from "./live-stream.ts";
import { tickCork } from "./tick-cork.ts";

/** gRPC's frame header: a compression flag and a 4-byte length. */
const FRAME_PREFIX = 5;

/** A grpc-js server call we can write to: server-streaming or bidirectional. */
export type WritableCall = Writable & {
  readonly cancelled: boolean;
  getPeer(): string;
  sendMetadata(metadata: Metadata): void;
};

/**
 * The HTTP/2 stream under a grpc-js call, when it can be written directly.
 * grpc-js frames and copies every message per stream and lets one write
 * through at a time; the fan-out has framed each message once already.
 */
function http2StreamOf(call: WritableCall): ServerHttp2Stream | undefined {
  const stream = (call as unknown as { call?: { stream?: unknown } }).call?.stream;
  const looksRight =
    typeof stream === "object" &&
    stream !== null &&
    typeof (stream as ServerHttp2Stream).write === "function" &&
    typeof (stream as ServerHttp2Stream).respond === "function";
  return looksRight ? (stream as ServerHttp2Stream) : undefined;
}

/** The messages in one or more whole gRPC frames, without copies. */
function* messagesIn(frames: Uint8Array): Generator<Uint8Array> {
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
  for (let at = 0; at < frames.byteLength; ) {
    const end = at + FRAME_PREFIX + view.getUint32(at + 1);
    yield unframed(frames.subarray(at, end));
    at = end;
  }
}

/**
 * A grpc-js call as the core's StreamSink. The bytes arrive framed, shared by
 * every stream; one write may hold several whole frames (a page of history).
 * They go straight to the HTTP/2 stream (`direct`), corked for the rest of
 * the tick so that a group of messages leaves in one write; or through
 * grpc-js a message at a time without their prefix, when its insides are not
 * the ones we know (or `direct: false` asks for it).
 */
export function grpcSink(
  call: WritableCall,
  encoder: Encoder,
  logger: Logger,
  options: { direct?: boolean; fallback?: FallbackWrites } = {},
): StreamSink & { readonly direct: boolean } {
  const http2 = options.direct === false ? undefined : http2StreamOf(call);
  const common = {
    encoder: framed(encoder),
    end(error: ChatError | undefined) {
      if (call.cancelled || call.writableEnded) return;
      // grpc-js sends the status after what is already written.
      if (error) call.emit("error", toServiceError(error, logger));
      else call.end();
    },
  };
  if (!http2) {
    return {
      ...common,
      direct: false,
      write: (bytes) => {
        // grpc-js frames each message itself, so each frame goes in a write of its own.
        let ready = true;
        for (const message of messagesIn(bytes)) {
          options.fallback?.wrote();
          ready = call.write(message) && ready;
        }
        return ready;
      },
      onDrain: (callback) => call.once("drain", callback),
    };
  }
  let headersSent = false;
  const corker = tickCork(http2);
  return {
    ...common,
    direct: true,
    write(bytes) {
      // A write after the end would be an "error" event nobody may be listening for.
      if (http2.destroyed || http2.writableEnded || call.cancelled) return true;
      if (!headersSent) {
        headersSent = true;
        call.sendMetadata(new Metadata());
      }
      corker.cork();
      return http2.write(bytes);
    },
    onDrain: (callback) => http2.once("drain", callback),
  };
}

/** A grpc-js streaming call as a LiveCall. */
export function grpcLiveCall(
  call: WritableCall,
  encoder: Encoder,
  logger: Logger,
  fallback?: FallbackWrites,
): LiveCall {
  return {
    transport: "grpc",
    sink: grpcSink(call, encoder, logger, fallback ? { fallback } : {}),
    address: clientAddress(call),
    peer: call.getPeer(),
    get cancelled() {
      return call.cancelled;
    },
    onCancel(callback) {
      if (call.cancelled) callback();
      else call.once("cancelled", callback);
    },
    onDone(callback) {
      for (const event of ["cancelled", "finish", "close"]) call.once(event, callback);
    },
  };
}
