import type { StreamOptions } from "../core/chat.ts";
import { toChatError } from "../core/chat-error.ts";
import type { ChatStream } from "../core/chat-stream.ts";
import type { StreamSink } from "../core/room-cursor.ts";
import type { Identity, MessageId } from "../core/types.ts";
import type { Transport } from "./connections.ts";
import type { HandlerContext } from "./context.ts";

/** A live streaming call as the core needs it, whatever the transport. */
export interface LiveCall {
  readonly transport: Transport;
  readonly sink: StreamSink;
  /** The client's address without its port, and with it (one connection). */
  readonly address: string;
  readonly peer: string;
  /** Whether the client has gone (cancelled, or its connection died). */
  readonly cancelled: boolean;
  /** Calls back once the client has gone (cancelled, or its connection died); at once if it has. */
  onCancel(callback: () => void): void;
  /** Calls back once the call is over, whichever way it ended. */
  onDone(callback: () => void): void;
}

/**
 * Opens the core's stream for a live call. Shared by the seed's ChatStream,
 * Session and Subscribe on every transport: the call counts against its
 * address's connections while it lasts, and a cancel closes the stream,
 * leaving every room once.
 */
export async function openLiveStream(
  context: HandlerContext,
  call: LiveCall,
  identity: Identity,
  options: StreamOptions = {},
): Promise<ChatStream> {
  const leave = context.connections.enter(call.transport, call.address, call.peer);
  call.onDone(leave);
  let stream: ChatStream;
  try {
    stream = await context.chat.openStream(identity, call.sink, {
      address: call.address,
      ...options,
    });
  } catch (error) {
    leave();
    throw error;
  }
  call.onCancel(() => stream.close());
  context.logger.debug({ user: identity.userId, transport: call.transport }, "stream opened");
  return stream;
}

/**
 * Ends a streaming call: through its core stream when one opened (so it
 * leaves its rooms once), else straight on the call. A client that has gone
 * is told nothing.
 */
export function finishStream(
  call: { readonly live: LiveCall },
  stream: ChatStream | undefined,
  error?: unknown,
) {
  const chatError = error === undefined || call.live.cancelled ? undefined : toChatError(error);
  if (stream) stream.end(chatError);
  else call.live.sink.end(chatError);
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

/** A request's reply_to: 0 (unset) is no reply. */
export function toReplyTo(id: bigint): MessageId | undefined {
  return id === 0n ? undefined : toMessageId(id);
}
