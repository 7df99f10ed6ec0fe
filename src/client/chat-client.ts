import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  type ChannelOptions,
  Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  credentials,
  Metadata,
  type MethodDefinition,
  status,
} from "@grpc/grpc-js";
import {
  type AuthToken,
  ChatMessageSchema,
  type ClientFrame,
  CredentialsSchema,
  type Event,
  type HistoryPage,
  HistoryQuerySchema,
  type JoinResponse,
  ListMembersRequestSchema,
  type ListMembersResponse,
  ListRoomsRequestSchema,
  type ListRoomsResponse,
  LogoutRequestSchema,
  type MessageResponse,
  OpenDirectRequestSchema,
  type OpenDirectResponse,
  PingRequestSchema,
  type PingResponse,
  SendRequestSchema,
  type SendResponse,
  SetTopicRequestSchema,
  SubscribeRequestSchema,
  UserSchema,
  WhoAmIRequestSchema,
  type WhoAmIResponse,
} from "../gen/chat_pb.js";
import { chatServiceDefinition, USER_ID_METADATA } from "../wire/grpc-service.ts";
import { AsyncQueue } from "./async-queue.ts";
import {
  ChatClientError,
  type ChatLine,
  type Member,
  type SendAck,
  type SessionEvent,
  toChatLine,
  toSessionEvent,
} from "./events.ts";

export type * from "./client-types.ts";
export * from "./events.ts";
export type { ChatSession, JoinedEvent } from "./session-call.ts";

import type {
  ChatClientOptions,
  ChatSubscription,
  LoginResult,
  Principal,
  RoomEntry,
  RoomStart,
} from "./client-types.ts";

import { type ChatSession, sessionOverCall } from "./session-call.ts";

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
 * The typed client every grpc-chat client uses: the terminal client, the
 * benchmarks and the tests. Each call is one RPC; LiveChat adds reconnecting.
 */
export class ChatClient {
  /** The guest secret this client sends when it has no token. */
  readonly userId: string;
  readonly username: string;
  #token: string | undefined;
  readonly #client: Client;
  /** Streaming calls still open, so close() can end them: grpc-js's own close() leaves them running. */
  readonly #open = new Set<{ cancel(): void }>();

  constructor(options: ChatClientOptions) {
    this.userId = options.userId ?? randomUUID();
    this.username = options.username;
    this.#token = options.token;
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

  /** The seed's JoinChat; resolves to the server's greeting ("PONG" when already joined). */
  async join(): Promise<string> {
    const response = await this.#unary<JoinResponse>(
      "joinChat",
      create(UserSchema, { userId: this.userId, username: this.username }),
    );
    return response.message;
  }

  /** The token calls are made with, if any. */
  get token(): string | undefined {
    return this.#token;
  }

  /** Creates an account and logs in: later calls are made as it. */
  async register(username: string, password: string): Promise<LoginResult> {
    return this.#signIn("register", username, password);
  }

  /** Logs in: later calls are made as the account. */
  async login(username: string, password: string): Promise<LoginResult> {
    return this.#signIn("login", username, password);
  }

  /** Revokes this client's token on the server; later calls are made as the guest again. */
  async logout(): Promise<void> {
    await this.#unary("logout", create(LogoutRequestSchema, {}));
    this.#token = undefined;
  }

  /** Who the server takes this client to be. */
  async whoAmI(): Promise<Principal> {
    const r = await this.#unary<WhoAmIResponse>("whoAmI", create(WhoAmIRequestSchema, {}));
    return {
      userId: r.userId,
      username: r.username,
      account: r.account,
      expiresMs: Number(r.expiresAtMs),
    };
  }

  async #signIn(rpc: "register" | "login", username: string, password: string) {
    const r = await this.#unary<AuthToken>(rpc, create(CredentialsSchema, { username, password }));
    this.#token = r.token;
    return {
      token: r.token,
      userId: r.userId,
      username: r.username,
      account: true,
      expiresMs: Number(r.expiresAtMs),
    };
  }

  /** Round trip to the server, in ms. */
  async ping(): Promise<number> {
    const started = performance.now();
    await this.#unary<PingResponse>("ping", create(PingRequestSchema, {}));
    return performance.now() - started;
  }

  /**
   * One page of history, oldest first: the newest `limit`, or those before
   * `beforeId`, or those after `afterId`.
   */
  async history(options: {
    limit: number;
    room?: string;
    beforeId?: number;
    afterId?: number;
    includeSystem?: boolean;
  }): Promise<{ messages: ChatLine[]; hasMore: boolean }> {
    const page = await this.#unary<HistoryPage>(
      "history",
      create(HistoryQuerySchema, {
        room: options.room ?? "",
        limit: options.limit,
        beforeId: BigInt(options.beforeId ?? 0),
        ...(options.afterId === undefined ? {} : { afterId: BigInt(options.afterId) }),
        includeSystem: options.includeSystem ?? true,
      }),
    );
    return { messages: page.messages.map(toChatLine), hasMore: page.hasMore };
  }

  /** One page of who is online in a room; pass `nextPageToken` back for the next. */
  async listMembers(
    options: { room?: string; pageSize?: number; pageToken?: string } = {},
  ): Promise<{ members: Member[]; nextPageToken: string; onlineCount: number }> {
    const response = await this.#unary<ListMembersResponse>(
      "listMembers",
      create(ListMembersRequestSchema, {
        room: options.room ?? "",
        pageSize: options.pageSize ?? 0,
        pageToken: options.pageToken ?? "",
      }),
    );
    return {
      members: response.members.map(({ userId, username }) => ({ userId, username })),
      nextPageToken: response.nextPageToken,
      onlineCount: response.onlineCount,
    };
  }

  /** One page of the rooms this client can see; pass `nextPageToken` back for the next. */
  async listRooms(options: { pageSize?: number; pageToken?: string } = {}): Promise<{
    rooms: RoomEntry[];
    nextPageToken: string;
  }> {
    const r = await this.#unary<ListRoomsResponse>(
      "listRooms",
      create(ListRoomsRequestSchema, {
        pageSize: options.pageSize ?? 0,
        pageToken: options.pageToken ?? "",
      }),
    );
    return {
      rooms: r.rooms.map((room) => ({
        room: room.name,
        lastId: Number(room.lastId),
        lastMessageMs: Number(room.lastMessageMs),
        online: room.online,
        topic: room.topic,
        peer: room.peer && { userId: room.peer.userId, username: room.peer.username },
      })),
      nextPageToken: r.nextPageToken,
    };
  }

  /** The direct-message room with the user called `username`: join it and send to it. */
  async openDirect(username: string): Promise<{ room: string; peer: Member }> {
    const r = await this.#unary<OpenDirectResponse>(
      "openDirect",
      create(OpenDirectRequestSchema, { username }),
    );
    return {
      room: r.room,
      peer: { userId: r.peer?.userId ?? "", username: r.peer?.username ?? "" },
    };
  }

  /** Sets a room's topic ("" clears it). */
  async setTopic(room: string, topic: string): Promise<void> {
    await this.#unary("setTopic", create(SetTopicRequestSchema, { room, topic }));
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
    return {
      room: response.ack?.room ?? "",
      id: Number(response.ack?.id ?? 0),
      timeMs: Number(response.ack?.serverTimeMs ?? 0),
    };
  }

  /** Server-streaming subscription (the path browsers use): the same events as a session, no sends. */
  subscribe(rooms: readonly RoomStart[] = []): ChatSubscription {
    const m = method("subscribe");
    const call = this.#client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      create(SubscribeRequestSchema, {
        rooms: rooms.map((r) => ({
          room: r.room,
          ...(r.resumeAfterId === undefined ? {} : { resumeAfterId: BigInt(r.resumeAfterId) }),
          epoch: r.epoch ?? "",
        })),
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

  /** Opens a live session: a welcome, then, for each room joined, its events. */
  openSession(): ChatSession {
    const m = method("session");
    const call = this.#client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      this.#metadata(),
      {},
    ) as ClientDuplexStream<ClientFrame, Event>;
    return sessionOverCall(call, this.username, (onEnd) => this.#track(call, onEnd));
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
        finish(e.code === status.CANCELLED && e.message.includes("on client") ? undefined : e);
      });
      call.on("status", (s) => {
        if (s.code === status.OK) finish(undefined);
      });
    });
    return { queue, ended };
  }

  #metadata(): Metadata {
    const metadata = new Metadata();
    if (this.#token !== undefined) metadata.set("authorization", `Bearer ${this.#token}`);
    else metadata.set(USER_ID_METADATA, this.userId);
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
