import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  type Code,
  type HandlerContext as ConnectContext,
  ConnectError,
  type ConnectRouter,
  createContextKey,
} from "@connectrpc/connect";
import { toChatError } from "../../core/chat-error.ts";
import { ChatService } from "../../gen/chat_pb.js";
import { RETRY_AFTER_METADATA } from "../../wire/grpc-service.ts";
import type { HandlerContext } from "../context.ts";
import { encoderFor } from "../encoders.ts";
import { admit } from "../method-gate.ts";
import { type MethodRule, ruleOf } from "../methods.ts";
import { observeEnd, type RpcMetrics } from "../rpc-metrics.ts";
import type { ChatServiceImpl } from "../service-impl.ts";
import { failureStatus, type StatusLogger } from "../status.ts";
import { ConnectLiveCall } from "./connect-call.ts";

/** The client's address and port, as the HTTP server saw them. */
export const PEER = createContextKey({ address: "", peer: "" });

export function peerOf(request: IncomingMessage | Http2ServerRequest): {
  address: string;
  peer: string;
} {
  const { remoteAddress = "", remotePort = 0 } = request.socket;
  const address = remoteAddress.startsWith("::ffff:") ? remoteAddress.slice(7) : remoteAddress;
  return { address, peer: `${address.includes(":") ? `[${address}]` : address}:${remotePort}` };
}

type Run = (input: unknown, call: unknown) => unknown;

/** A failure as Connect's error: the native port's code and sentence, and when to retry. */
export function toConnectError(error: unknown, logger: StatusLogger): ConnectError {
  if (error instanceof ConnectError) return error;
  const { code, details, retryAfterMs } = failureStatus(error, logger);
  const metadata =
    retryAfterMs === undefined ? undefined : { [RETRY_AFTER_METADATA]: String(retryAfterMs) };
  return new ConnectError(details, code as Code, metadata);
}

/**
 * ChatService over Connect and gRPC-Web, built from the same implementation
 * as the native port and admitted by the same method table: what the table
 * serves on `http` (every unary call of our API, and Subscribe). Failures carry the native
 * port's codes and sentences (Connect's codes are gRPC's numbers).
 */
export function connectRoutes(context: HandlerContext, impl: ChatServiceImpl, metrics: RpcMetrics) {
  const { chat, logger } = context;
  const connectError = (error: unknown) => toConnectError(error, logger);

  const admitted = (rule: MethodRule<never>, request: unknown, ctx: ConnectContext) =>
    admit(
      chat,
      rule,
      (key) => ctx.requestHeader.get(key) ?? undefined,
      request,
      ctx.values.get(PEER).address,
    );

  const unary = (method: DescMethod, rule: MethodRule<never>, run: Run) => {
    const counts = metrics.of(method, "http");
    return async (request: unknown, ctx: ConnectContext) => {
      const ended = counts.start();
      try {
        const reply = await run(request, await admitted(rule, request, ctx));
        ended(0);
        return reply;
      } catch (error) {
        const refusal = connectError(error);
        ended(refusal.code);
        throw refusal;
      }
    };
  };

  const serverStream = (method: DescMethod, rule: MethodRule<never>, run: Run) => {
    const encoder = encoderFor(method.output);
    const counts = metrics.of(method, "http");
    return async function* (request: unknown, ctx: ConnectContext) {
      const { address, peer } = ctx.values.get(PEER);
      const call = new ConnectLiveCall(encoder, ctx.signal, address, peer);
      const live = observeEnd(call, counts.start());
      try {
        await run(request, { ...(await admitted(rule, request, ctx)), live });
      } catch (error) {
        // Nothing is open yet: the refusal is the whole answer.
        live.sink.end(toChatError(error));
      }
      yield* call.events(connectError);
    };
  };

  return (router: ConnectRouter) => {
    const implementation: Record<string, unknown> = {};
    for (const method of ChatService.methods) {
      const rule = ruleOf(method.localName);
      const run = impl[method.localName as keyof ChatServiceImpl] as Run;
      // What the table keeps off this port is answered before Connect (native-only.ts).
      if (!rule?.transports.includes("http")) continue;
      if (method.methodKind === "unary") {
        implementation[method.localName] = unary(method, rule, run);
      } else if (method.methodKind === "server_streaming") {
        implementation[method.localName] = serverStream(method, rule, run);
      } else {
        throw new Error(`${method.name} streams requests, which browsers cannot send.`);
      }
    }
    router.service(ChatService, implementation);
  };
}
