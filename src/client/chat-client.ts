import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  type CallOptions,
  type ChannelOptions,
  Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  credentials,
  Metadata,
  type MethodDefinition,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import {
  ChatMessageSchema,
  type ClientFrame,
  ClientFrameSchema,
  type Event,
  type HistoryPage,
  HistoryQuerySchema,
  type JoinResponse,
  type Message,
  MessageKind,
  type MessageResponse,
  PingRequestSchema,
  type PingResponse,
  SendRequestSchema,
  type SendResponse,
  SubscribeRequestSchema,
  UserSchema,
} from "../gen/chat_pb.js";
import { chatServiceDefinition, USER_ID_METADATA } from "../wire/grpc-service.ts";
import { AsyncQueue } from "./async-queue.ts";

/** A message as clients show it. */
export interface ChatLine {
  readonly room: string;
  readonly id: number;
  /** Server time, ms since the Unix epoch. */
  readonly timeMs: number;
  readonly userId: string;
  readonly username: string;
  readonly text: string;
  readonly system: boolean;
}

export type SessionEvent =
  | {
      readonly type: "welcome";
      readonly userId: string;
      readonly username: string;
      readonly room: string;
      readonly lastId: number;
      readonly online: readonly string[];
    }
  | { readonly type: "message"; readonly message: ChatLine }
  | { readonly type: "caught_up"; readonly lastId: number }
  | { readonly type: "notice"; readonly text: string; readonly timeMs: number };

export interface SendAck {
  readonly id: number;
  readonly timeMs: number;
}

/** A failed call, with the server's gRPC status and its sentence for a person. */
export class ChatClientError extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.name = "ChatClientError";
    this.code = code;
  }

  static from(error: unknown): ChatClientError {
    if (error instanceof ChatClientError) return error;
    const e = error as Partial<ServiceError>;
    return new ChatClientError(e.code ?? status.UNKNOWN, e.details || e.message || String(error));
  }
}

export interface ChatClientOptions {
  /** "host:port". */
  readonly address: string;
  readonly username: string;
  /** Default: a new random UUID, as the seed client makes one. */
  readonly userId?: string;
  readonly channelOptions?: ChannelOptions;
}

export interface SessionOptions {
  readonly room?: string;
  /** Replay everything after this id before going live; 0 (default) for live only. */
  readonly resumeAfterId?: number;
}

/** A live subscription on one server-streaming call. */
export interface ChatSubscription extends AsyncIterable<SessionEvent> {
  readonly ended: Promise<ChatClientError | undefined>;
  cancel(): void;
}

/** A live chat on one bidirectional stream. */
export interface ChatSession extends AsyncIterable<SessionEvent> {
  /** Resolves when the server has stored the message; rejects with the reason it refused. */
  send(text: string, clientMsgId?: string): Promise<SendAck>;
  /** Ends our side; the server then ends the stream and announces the leave. */
  close(): void;
  /** How the stream ended: OK after close(), else the server's status. */
  readonly ended: Promise<ChatClientError | undefined>;
}

type Definition = MethodDefinition<unknown, unknown>;

function method(name: string): Definition {
  const definition = chatServiceDefinition[name];
  if (!definition) throw new Error(`ChatService has no method ${name}`);
  return definition as Definition;
}

export function toChatLine(message: Message): ChatLine {
  return {
    room: message.room,
    id: Number(message.id),
    timeMs: Number(message.serverTimeMs),
    userId: message.userId,
    username: message.username,
    text: message.text,
    system: message.kind === MessageKind.SYSTEM,
  };
}

function toSessionEvent(event: Event): SessionEvent | undefined {
  const { kind } = event;
  switch (kind.case) {
    case "welcome":
      return {
        type: "welcome",
        userId: kind.value.userId,
        username: kind.value.username,
        room: kind.value.room,
        lastId: Number(kind.value.lastId),
        online: kind.value.online,
      };
    case "message":
      return { type: "message", message: toChatLine(kind.value) };
    case "caughtUp":
      return { type: "caught_up", lastId: Number(kind.value.lastId) };
    case "notice":
      return { type: "notice", text: kind.value.text, timeMs: Number(kind.value.serverTimeMs) };
    default:
      return undefined;
  }
}

/**
 * The typed client every grpc-chat client uses: the terminal client, the
 * benchmarks and the tests.
 */
export class ChatClient {
  readonly userId: string;
  readonly username: string;
  readonly #client: Client;
  /** Streaming calls still open, so close() can end them: grpc-js's own close() leaves them running. */
  readonly #open = new Set<{ cancel(): void }>();

  constructor(options: ChatClientOptions) {
    this.userId = options.userId ?? randomUUID();
    this.username = options.username;
    this.#client = new Client(
      options.address,
      credentials.createInsecure(),
      options.channelOptions,
    );
  }

  /** The seed's JoinChat; resolves to the server's greeting ("PONG" when already joined). */
  async join(): Promise<string> {
    const response = await this.#unary<JoinResponse>(
      "joinChat",
      create(UserSchema, { userId: this.userId, username: this.username }),
    );
    return response.message;
  }

  /** Round trip to the server, in ms. */
  async ping(): Promise<number> {
    const started = performance.now();
    await this.#unary<PingResponse>("ping", create(PingRequestSchema, {}));
    return performance.now() - started;
  }

  /** The newest `limit` messages (oldest first), or those before `beforeId`. */
  async history(options: {
    limit: number;
    room?: string;
    beforeId?: number;
    includeSystem?: boolean;
  }): Promise<{ messages: ChatLine[]; hasMore: boolean }> {
    const page = await this.#unary<HistoryPage>(
      "history",
      create(HistoryQuerySchema, {
        room: options.room ?? "",
        limit: options.limit,
        beforeId: BigInt(options.beforeId ?? 0),
        includeSystem: options.includeSystem ?? true,
      }),
    );
    return { messages: page.messages.map(toChatLine), hasMore: page.hasMore };
  }

  /** Sends one message with a unary call (the path browsers use); needs a prior join(). */
  async send(
    text: string,
    options: { room?: string; clientMsgId?: string } = {},
  ): Promise<SendAck> {
    const response = await this.#unary<SendResponse>(
      "send",
      create(SendRequestSchema, {
        room: options.room ?? "",
        text,
        clientMsgId: options.clientMsgId ?? "",
      }),
    );
    return { id: Number(response.ack?.id ?? 0), timeMs: Number(response.ack?.serverTimeMs ?? 0) };
  }

  /** Server-streaming subscription (the path browsers use): the same events as a session, no sends. */
  subscribe(options: SessionOptions = {}): ChatSubscription {
    const m = method("subscribe");
    const call = this.#client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      create(SubscribeRequestSchema, {
        room: options.room ?? "",
        resumeAfterId: BigInt(options.resumeAfterId ?? 0),
        userId: this.userId,
        username: this.username,
      }),
      this.#metadata(),
      {},
    );
    const { queue, ended } = this.#track(call);
    call.on("data", (event: Event) => {
      const sessionEvent = toSessionEvent(event);
      if (sessionEvent) queue.push(sessionEvent);
    });
    return {
      ended,
      cancel: () => call.cancel(),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }

  /** Sends texts in one client-streaming call (the seed's SendMessages); resolves to the server's summary. */
  sendBatch(texts: readonly string[]): Promise<{ count: number; summary: string }> {
    const m = method("sendMessages");
    return new Promise((resolve, reject) => {
      const call = this.#client.makeClientStreamRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        this.#metadata(),
        {},
        (error, response) => {
          if (error || !response) reject(ChatClientError.from(error));
          else {
            const r = response as MessageResponse;
            resolve({ count: r.messageCount, summary: r.summary });
          }
        },
      );
      for (const text of texts) {
        call.write(
          create(ChatMessageSchema, {
            userId: this.userId,
            username: this.username,
            message: text,
          }),
        );
      }
      call.end();
    });
  }

  /** Opens a live session: a welcome, then (when resuming) the missed messages, then live events. */
  openSession(options: SessionOptions = {}): ChatSession {
    const m = method("session");
    const call = this.#client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      this.#metadata(),
      {} satisfies CallOptions,
    ) as ClientDuplexStream<ClientFrame, Event>;
    const pending = new Map<
      string,
      { resolve: (ack: SendAck) => void; reject: (e: Error) => void }
    >();
    // null while open; once ended, how it ended (undefined: closed normally).
    let endedWith: ChatClientError | undefined | null = null;
    const { queue, ended } = this.#track(call, (error) => {
      endedWith = error;
      for (const waiter of pending.values()) {
        waiter.reject(error ?? new ChatClientError(status.CANCELLED, "The session ended."));
      }
      pending.clear();
    });

    call.on("data", (event: Event) => {
      const { kind } = event;
      if (kind.case === "ack" || kind.case === "rejected") {
        const waiter = pending.get(kind.value.clientMsgId);
        pending.delete(kind.value.clientMsgId);
        if (kind.case === "ack") {
          waiter?.resolve({ id: Number(kind.value.id), timeMs: Number(kind.value.serverTimeMs) });
        } else {
          waiter?.reject(new ChatClientError(kind.value.code, kind.value.reason));
        }
        return;
      }
      const sessionEvent = toSessionEvent(event);
      if (sessionEvent) queue.push(sessionEvent);
    });

    call.write(
      create(ClientFrameSchema, {
        kind: {
          case: "hello",
          value: {
            userId: this.userId,
            username: this.username,
            room: options.room ?? "",
            resumeAfterId: BigInt(options.resumeAfterId ?? 0),
          },
        },
      }),
    );

    return {
      ended,
      send: (text, clientMsgId = randomUUID()) =>
        new Promise<SendAck>((resolve, reject) => {
          if (endedWith !== null) {
            reject(endedWith ?? new ChatClientError(status.CANCELLED, "The session has ended."));
            return;
          }
          pending.set(clientMsgId, { resolve, reject });
          call.write(
            create(ClientFrameSchema, { kind: { case: "send", value: { text, clientMsgId } } }),
          );
        }),
      close: () => call.end(),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }

  /** Closes the connection; open calls end with CANCELLED. */
  close(): void {
    for (const call of this.#open) call.cancel();
    this.#client.close();
  }

  /**
   * Queues a streaming call's events for a reader (pausing the call while the
   * reader is behind), keeps it in #open until it ends, and resolves `ended`
   * with how it ended: undefined for OK or our own cancel, else the status.
   */
  #track(
    call: ClientReadableStream<unknown> | ClientDuplexStream<unknown, unknown>,
    onEnd?: (error: ChatClientError | undefined) => void,
  ) {
    this.#open.add(call);
    const queue = new AsyncQueue<SessionEvent>({
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
        finish(e.code === status.CANCELLED ? undefined : e);
      });
      call.on("status", (s) => {
        if (s.code === status.OK) finish(undefined);
      });
    });
    return { queue, ended };
  }

  #metadata(): Metadata {
    const metadata = new Metadata();
    metadata.set(USER_ID_METADATA, this.userId);
    return metadata;
  }

  #unary<T>(name: string, request: unknown): Promise<T> {
    const m = method(name);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        this.#metadata(),
        {},
        (error, response) => (error ? reject(ChatClientError.from(error)) : resolve(response as T)),
      );
    });
  }
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  return new ChatClient(options);
}
