import type { Readable } from "node:stream";
import type { DescMethod } from "@bufbuild/protobuf";
import type {
  Metadata,
  sendUnaryData,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Chat } from "../core/chat.ts";
import { toChatError } from "../core/chat-error.ts";
import { ChatService } from "../gen/chat_pb.js";
import { eachMessage } from "./each-message.ts";
import { encoderFor } from "./encoders.ts";
import type { FallbackWrites } from "./fallback-writes.ts";
import { grpcLiveCall, type WritableCall } from "./grpc-sink.ts";
import { toServiceError } from "./grpc-status.ts";
import { clientAddress } from "./identity.ts";
import type { LiveCall } from "./live-stream.ts";
import { admit, type HeaderReader } from "./method-gate.ts";
import { type MethodRule, ruleOf } from "./methods.ts";
import { observeEnd, type RpcMetrics } from "./rpc-metrics.ts";
import type { ChatServiceImpl } from "./service-impl.ts";
import { grpcCode, STATUS } from "./status.ts";
import { UndecodableRequest } from "./undecodable.ts";

export interface GrpcHandlersOptions {
  readonly chat: Chat;
  readonly logger: Logger;
  readonly metrics: RpcMetrics;
  /** Counts live-stream writes that could not take the direct path. */
  readonly fallback: FallbackWrites;
}

/** What grpc-js hands every handler, whatever the method's kind. */
type AnyCall = WritableCall & { readonly metadata: Metadata; readonly request?: unknown };

type Run = (input: unknown, call: unknown) => unknown;

function headersOf(metadata: Metadata): HeaderReader {
  return (key) => {
    const value = metadata.get(key)[0];
    return typeof value === "string" ? value : undefined;
  };
}

/**
 * The native gRPC port's handlers, built from the one implementation and
 * the method table: each call is admitted by its row (auth.ts, the core's
 * access rule, its rate class) before its method runs, and counted in the
 * per-RPC metrics. Not a grpc-js interceptor: an interceptor can refuse a call
 * but not hand the handler what it found, and it would take the direct write
 * path away from live streams (grpc-sink.ts).
 */
export function grpcHandlers(
  impl: ChatServiceImpl,
  options: GrpcHandlersOptions,
): UntypedServiceImplementation {
  const handlers: Record<string, UntypedHandleCall> = {};
  for (const method of ChatService.methods) {
    const rule = ruleOf(method.localName);
    if (!rule?.transports.includes("grpc")) continue;
    const run = impl[method.localName as keyof ChatServiceImpl] as Run;
    handlers[method.localName] = handler(method, rule, run, options) as UntypedHandleCall;
  }
  return handlers;
}

function handler(
  method: DescMethod,
  rule: MethodRule<never>,
  run: Run,
  options: GrpcHandlersOptions,
) {
  const { chat, logger, metrics, fallback } = options;
  const streamsIn =
    method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
  const streamsOut =
    method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
  const encoder = streamsOut ? encoderFor(method.output) : undefined;
  const counts = metrics.of(method, "grpc");

  return (call: AnyCall, callback?: sendUnaryData<unknown>) => {
    const ended = counts.start();
    let live: LiveCall | undefined;
    if (encoder) {
      live = observeEnd(grpcLiveCall(call, encoder, logger, fallback), ended);
    }
    const fail = (error: unknown) => {
      const chatError = toChatError(error);
      if (live) {
        // The status follows whatever was written; a client that has gone hears nothing.
        live.sink.end(live.cancelled ? undefined : chatError);
        return;
      }
      ended(grpcCode(chatError.code));
      callback?.(toServiceError(chatError, logger));
    };
    const request = streamsIn ? undefined : call.request;
    // A call's one request that did not decode: nothing is written yet, so its status is safe.
    if (request instanceof UndecodableRequest) {
      fail(request.toChatError());
      return;
    }
    admit(chat, rule, headersOf(call.metadata), request, clientAddress(call))
      .then((context) => {
        const input = streamsIn
          ? { each: (handle: never) => eachMessage(call as unknown as Readable, handle) }
          : request;
        return run(input, live ? { ...context, live } : context);
      })
      .then((reply) => {
        if (live) return;
        ended(STATUS.OK);
        callback?.(null, reply);
      }, fail);
  };
}
