import type { ChatStream } from "../core/chat-stream.ts";
import type { Encoder } from "../core/envelope.ts";
import type { Identity, MessageId } from "../core/types.ts";
import type { HandlerContext } from "./context.ts";
import { grpcSink, type WritableCall } from "./grpc-sink.ts";

/**
 * Opens the core's stream for a grpc-js call. Shared by the seed's
 * ChatStream, Session and Subscribe: a cancel (the client went away, or
 * keepalive found its connection dead) closes it, leaving every room once.
 */
export function openLiveStream(
  context: HandlerContext,
  call: WritableCall & { getPeer(): string },
  encoder: Encoder,
  identity: Identity,
  options: { skipOwnUser?: boolean; directMessages?: boolean } = {},
): ChatStream {
  context.connections.enter(call);
  const sink = grpcSink(call, encoder, context.logger);
  const stream = context.chat.openStream(identity, sink, options);
  if (call.cancelled) stream.close();
  else call.once("cancelled", () => stream.close());
  context.logger.debug({ user: identity.userId }, "stream opened");
  return stream;
}

/**
 * A uint64 resume id from the wire as a MessageId. Ids past 2^53 cannot be
 * ours (a room would need that many messages), so they are clamped: still
 * above the room's newest, which the join answers as a reset.
 */
export function toMessageId(id: bigint): MessageId;
export function toMessageId(id: bigint | undefined): MessageId | undefined;
export function toMessageId(id: bigint | undefined): MessageId | undefined {
  if (id === undefined) return undefined;
  return id > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(id);
}
