import { randomUUID } from "node:crypto";
import {
  type ChannelOptions,
  Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  credentials,
  Metadata,
  type MethodDefinition,
  type requestCallback,
  status,
} from "@grpc/grpc-js";
import { chatServiceDefinition, USER_ID_METADATA } from "../wire/grpc-service.ts";
import { AsyncQueue } from "./async-queue.ts";
import type { ChatClientOptions } from "./client-types.ts";
import { ChatClientError } from "./events.ts";

type Definition = MethodDefinition<unknown, unknown>;

function method(name: string): Definition {
  const definition = chatServiceDefinition[name];
  if (!definition) throw new Error(`ChatService has no method ${name}`);
  return definition as Definition;
}

/**
 * Keepalive pings find a dead server or path within about 25 s, even on a
 * connection with nothing to send; the server allows a ping every 5 s.
 */
const CHANNEL_DEFAULTS: ChannelOptions = {
  "grpc.keepalive_time_ms": 15_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
};

/**
 * What a server built on gRPC's C core (the seed's Python server) accepts by
 * default: it answers pings more often than every 5 minutes, while it sends
 * nothing, by closing the connection ("too many pings").
 */
export const SEED_CHANNEL: ChannelOptions = {
  "grpc.keepalive_time_ms": 360_000,
  "grpc.keepalive_timeout_ms": 20_000,
  "grpc.keepalive_permit_without_calls": 0,
};

/**
 * One connection to a server and who its calls are made as: the mechanics
 * under ChatClient's typed calls (ChatService by method name, metadata,
 * streams queued for their reader and closed with the channel).
 */
export class GrpcChannel {
  /** The guest secret calls carry when there is no token. */
  readonly userId: string;
  readonly username: string;
  /** A token from login or register: calls are made as that account. */
  token: string | undefined;
  readonly #client: Client;
  /** Streaming calls still open, so close() can end them: grpc-js's own close() leaves them running. */
  readonly #open = new Set<{ cancel(): void }>();

  constructor(options: ChatClientOptions) {
    this.userId = options.userId ?? randomUUID();
    this.username = options.username;
    this.token = options.token;
    const tls = options.tls;
    const channel =
      tls === undefined || tls === false
        ? credentials.createInsecure()
        : credentials.createSsl(tls === true ? null : tls.ca);
    this.#client = new Client(options.address, channel, {
      ...CHANNEL_DEFAULTS,
      ...options.channelOptions,
    });
  }

  /** Who a call is: the token if there is one, else the guest secret. */
  metadata(): Metadata {
    const metadata = new Metadata();
    if (this.token !== undefined) metadata.set("authorization", `Bearer ${this.token}`);
    else metadata.set(USER_ID_METADATA, this.userId);
    return metadata;
  }

  /**
   * The seed's RPCs always name the caller by user_id (a seed server knows
   * no tokens); a token, when there is one, still decides on our server.
   */
  seedMetadata(): Metadata {
    const metadata = this.metadata();
    metadata.set(USER_ID_METADATA, this.userId);
    return metadata;
  }

  unary<T>(name: string, request: unknown): Promise<T> {
    const m = method(name);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        this.metadata(),
        {},
        (error, response) => (error ? reject(ChatClientError.from(error)) : resolve(response as T)),
      );
    });
  }

  serverStream(name: string, request: unknown, metadata: Metadata): ClientReadableStream<unknown> {
    const m = method(name);
    return this.#client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      request,
      metadata,
      {},
    );
  }

  clientStream(
    name: string,
    metadata: Metadata,
    callback: requestCallback<unknown>,
  ): ClientWritableStream<unknown> {
    const m = method(name);
    return this.#client.makeClientStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      metadata,
      {},
      callback,
    );
  }

  bidiStream<I, O>(name: string, metadata: Metadata): ClientDuplexStream<I, O> {
    const m = method(name);
    return this.#client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      metadata,
      {},
    ) as ClientDuplexStream<I, O>;
  }

  /**
   * Queues a streaming call's items for a reader (pausing the call while the
   * reader is behind), keeps it open until it ends, and resolves `ended`
   * with how it ended: undefined for OK or our own cancel, else the status.
   */
  track<T>(
    call: ClientReadableStream<unknown> | ClientDuplexStream<unknown, unknown>,
    onEnd?: (error: ChatClientError | undefined) => void,
  ): { queue: AsyncQueue<T>; ended: Promise<ChatClientError | undefined> } {
    this.#open.add(call);
    const queue = new AsyncQueue<T>({
      onHigh: () => call.pause(),
      onLow: () => call.resume(),
    });
    const ended = new Promise<ChatClientError | undefined>((resolve) => {
      let settled = false;
      const finish = (error: ChatClientError | undefined) => {
        if (settled) return;
        settled = true;
        this.#open.delete(call);
        onEnd?.(error);
        queue.end();
        resolve(error);
      };
      call.on("error", (error) => {
        const e = ChatClientError.from(error);
        finish(e.code === status.CANCELLED && e.message.includes("on client") ? undefined : e);
      });
      call.on("status", (s) => {
        if (s.code === status.OK) finish(undefined);
      });
    });
    return { queue, ended };
  }

  /** Closes the connection; open calls end with CANCELLED. */
  close(): void {
    for (const call of this.#open) call.cancel();
    this.#client.close();
  }
}
