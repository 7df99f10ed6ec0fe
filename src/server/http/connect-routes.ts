import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import {
  Code,
  type HandlerContext as ConnectContext,
  ConnectError,
  type ConnectRouter,
  createContextKey,
} from "@connectrpc/connect";
import type { Caller } from "../../core/caller.ts";
import { ChatService, type SubscribeRequest } from "../../gen/chat_pb.js";
import { USER_ID_METADATA } from "../../wire/grpc-service.ts";
import { authenticate } from "../auth.ts";
import { chatRpcs } from "../chat-rpcs.ts";
import type { HandlerContext } from "../context.ts";
import { eventEncoder } from "../encoders.ts";
import { toServiceError } from "../status.ts";
import { subscribe } from "../subscription.ts";
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

/** What browsers cannot call (they have no client or bidirectional streams), and where to go instead. */
const NATIVE_ONLY = ["chatStream", "sendMessages", "session", "joinChat", "getChatHistory"];

/**
 * ChatService over Connect, gRPC-Web and gRPC-over-HTTP: every unary call of
 * our API and Subscribe, the same functions the native port runs, with the
 * caller decided by the same `authenticate` from the request's headers.
 */
export function connectRoutes(context: HandlerContext) {
  const { chat, logger } = context;
  const rpcs = chatRpcs(context);

  const toConnectError = (error: unknown): ConnectError => {
    if (error instanceof ConnectError) return error;
    const status = toServiceError(error, logger);
    const metadata = Object.fromEntries(
      Object.entries(status.metadata?.getMap() ?? {}).map(([key, value]) => [key, String(value)]),
    );
    return new ConnectError(
      status.details ?? "",
      (status.code ?? Code.Internal) as number,
      metadata,
    );
  };

  const callerOf = (ctx: ConnectContext): Promise<Caller> =>
    authenticate(chat, (key) => ctx.requestHeader.get(key) ?? undefined, ctx.method.localName);

  return (router: ConnectRouter) => {
    const implementation: Record<string, unknown> = {};
    for (const [method, rpc] of Object.entries(rpcs)) {
      implementation[method] = async (request: unknown, ctx: ConnectContext) => {
        try {
          const caller = await callerOf(ctx);
          const { address } = ctx.values.get(PEER);
          const guestSecret = ctx.requestHeader.get(USER_ID_METADATA) ?? "";
          const run = rpc as (request: unknown, call: unknown) => unknown;
          return await run(request, { caller, address, guestSecret });
        } catch (error) {
          throw toConnectError(error);
        }
      };
    }
    implementation.subscribe = async function* (request: SubscribeRequest, ctx: ConnectContext) {
      const { address, peer } = ctx.values.get(PEER);
      const call = new ConnectLiveCall(eventEncoder, ctx.signal, address, peer);
      try {
        await subscribe(context, request, await callerOf(ctx), call);
      } catch (error) {
        throw toConnectError(error);
      }
      yield* call.events(toConnectError);
    };
    for (const method of NATIVE_ONLY) {
      implementation[method] = () => {
        throw new ConnectError(
          "This call is served on the native gRPC port only; on this port use Subscribe and Send.",
          Code.Unimplemented,
        );
      };
    }
    router.service(ChatService, implementation);
  };
}
