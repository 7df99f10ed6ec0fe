import type {
  DescMethodBiDiStreaming,
  DescMethodClientStreaming,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageShape,
} from "@bufbuild/protobuf";
import type { Caller } from "../core/caller.ts";
import type { ChatService } from "../gen/chat_pb.js";
import type { LiveCall } from "./live-stream.ts";

/** All a handler needs of its transport: who is calling, and from which address. */
export interface CallContext {
  readonly caller: Caller;
  /** The client's address without its port, for limits per address. */
  readonly address: string;
  /** The `user_id` header as sent (a guest's secret), or "" when none was. */
  readonly guestSecret: string;
}

/**
 * A call that answers with a stream: its replies go through `live`, whose
 * sink encodes the method's response type (so a live stream's fan-out bytes
 * and a one-off reply take the same framed path), and end with `live.sink.end`.
 */
export interface StreamCall extends CallContext {
  readonly live: LiveCall;
}

/** The messages a client streams, handled one at a time, in order (see each-message.ts). */
export interface RequestStream<T> {
  /**
   * Resolves once the client half-closes and the last message is handled, or
   * the call goes away; rejects with the first error `handle` throws (or
   * INVALID_ARGUMENT for a message that did not decode), handling no more.
   */
  each(handle: (message: T) => Promise<void> | void): Promise<void>;
}

type Response<M extends DescMethodUnary | DescMethodClientStreaming> = Promise<
  MessageShape<M["output"]>
>;

/**
 * One method's implementation, typed by its kind and messages: free of any
 * transport. What a unary or client-streaming method returns is the reply;
 * what it throws becomes the status (ChatError's code and sentence). A
 * method whose replies stream writes them to its call's `live` sink and ends
 * it; a failure that escapes ends the sink with its status.
 */
export type MethodImpl<M> = M extends DescMethodUnary
  ? (
      request: MessageShape<M["input"]>,
      call: CallContext,
    ) => Response<M> | MessageShape<M["output"]>
  : M extends DescMethodServerStreaming
    ? (request: MessageShape<M["input"]>, call: StreamCall) => Promise<void>
    : M extends DescMethodClientStreaming
      ? (requests: RequestStream<MessageShape<M["input"]>>, call: CallContext) => Response<M>
      : M extends DescMethodBiDiStreaming
        ? (requests: RequestStream<MessageShape<M["input"]>>, call: StreamCall) => Promise<void>
        : never;

/**
 * A service's implementation derived from its generated descriptor, the way
 * connect-es types `ServiceImpl`: one function per method under its local
 * name, so a missing or misspelt method does not compile. Both transports
 * (grpc-handlers.ts, http/connect-routes.ts) are built from one of these.
 */
export type ServiceImpl<S extends DescService> = {
  readonly [Name in keyof S["method"]]: MethodImpl<S["method"][Name]>;
};

export type ChatServiceImpl = ServiceImpl<typeof ChatService>;

/** Part of the service, by method names: a misspelt name in a part does not compile either. */
export type ChatServicePart<Names extends keyof ChatServiceImpl> = Pick<ChatServiceImpl, Names>;
