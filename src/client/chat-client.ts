import { create } from "@bufbuild/protobuf";
import {
  type AuthToken,
  type ClientFrame,
  CredentialsSchema,
  type Event,
  type HistoryPage,
  HistoryQuerySchema,
  ListMembersRequestSchema,
  type ListMembersResponse,
  ListRoomsRequestSchema,
  type ListRoomsResponse,
  LogoutRequestSchema,
  OpenDirectRequestSchema,
  type OpenDirectResponse,
  PingRequestSchema,
  type PingResponse,
  SendRequestSchema,
  type SendResponse,
  type ServerInfo,
  ServerInfoRequestSchema,
  SetTopicRequestSchema,
  SubscribeRequestSchema,
  WhoAmIRequestSchema,
  type WhoAmIResponse,
} from "../gen/chat_pb.js";
import { BotCalls, NotifyCalls, notifyLevelName } from "./bot-calls.ts";
import {
  type ChangeAck,
  deleteMessage,
  editMessage,
  markRead,
  reactToMessage,
  setTyping,
} from "./change-calls.ts";
import type {
  ChatClientOptions,
  ChatSubscription,
  LoginResult,
  Principal,
  RoomEntry,
  RoomStart,
  ServerLimits,
} from "./client-types.ts";
import {
  type ChatLine,
  type Member,
  type SendAck,
  type SessionEvent,
  toChatLine,
  toSessionEvent,
} from "./events.ts";
import { GovernanceCalls } from "./governance-calls.ts";
import { GrpcChannel, SEED_CHANNEL } from "./grpc-channel.ts";
import { type SearchOptions, type SearchPage, searchMessages } from "./search-calls.ts";
import {
  getChatHistory,
  joinChat,
  openChatStream,
  type SeedStream,
  sendMessages,
} from "./seed-calls.ts";
import { type ChatSession, sessionOverCall } from "./session-call.ts";
import { WebhookCalls } from "./webhook-calls.ts";

export type { ChangeAck } from "./change-calls.ts";
export type * from "./client-types.ts";
export * from "./events.ts";
export type {
  AuditRecord,
  GovernanceCalls,
  InviteCodeInfo,
  ModerationKind,
  ModerationNotice,
  ModerationResult,
  ReportEntry,
  RoomRole,
  RoomSettings,
  SanctionEntry,
} from "./governance-calls.ts";
export type { SearchHit, SearchOptions, SearchPage, TextRange } from "./search-calls.ts";
export type { SeedStream } from "./seed-calls.ts";
export type { ChatSession, JoinedEvent } from "./session-call.ts";

/**
 * The typed client every grpc-chat client uses: the terminal client, the
 * benchmarks and the tests. Each call is one RPC; LiveChat adds reconnecting.
 */
export class ChatClient {
  readonly #options: ChatClientOptions;
  #channel: GrpcChannel;
  /**
   * Rooms a team governs: roles, invite-only and read-only rooms, invites,
   * kicks, bans, mutes, reports and the audit log. Grouped here rather than
   * one method each: the nineteen calls would add a hundred lines here.
   */
  readonly governance = new GovernanceCalls(() => this.#channel);
  /** Incoming webhooks of rooms we moderate. */
  readonly webhooks = new WebhookCalls(() => this.#channel);
  /** Bots we own: make, list, revoke. */
  readonly bots = new BotCalls(() => this.#channel);
  /** How we are told about rooms, and where unread mentions are emailed. */
  readonly notify = new NotifyCalls(() => this.#channel);

  constructor(options: ChatClientOptions) {
    this.#options = options;
    this.#channel = new GrpcChannel(options);
  }

  /**
   * The server speaks only the seed's protocol: calls from now on go over a
   * new connection with the keepalive such a server accepts (ours would get
   * it closed after a minute). The same user_id and token go on.
   */
  switchToSeedChannel(): void {
    const { userId, token } = this.#channel;
    const { token: _first, ...options } = this.#options;
    this.#channel.close();
    this.#channel = new GrpcChannel({
      ...options,
      userId,
      ...(token === undefined ? {} : { token }),
      channelOptions: { ...SEED_CHANNEL, ...this.#options.channelOptions },
    });
  }

  /** The guest secret this client sends when it has no token. */
  get userId(): string {
    return this.#channel.userId;
  }

  get username(): string {
    return this.#channel.username;
  }

  /** The seed's JoinChat; resolves to the server's greeting ("PONG" when already joined). */
  join(): Promise<string> {
    return joinChat(this.#channel);
  }

  /** The token calls are made with, if any. */
  get token(): string | undefined {
    return this.#channel.token;
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
    await this.#channel.unary("logout", create(LogoutRequestSchema, {}));
    this.#channel.token = undefined;
  }

  /** Who the server takes this client to be. */
  async whoAmI(): Promise<Principal> {
    const r = await this.#channel.unary<WhoAmIResponse>("whoAmI", create(WhoAmIRequestSchema, {}));
    return {
      userId: r.userId,
      username: r.username,
      account: r.account,
      expiresMs: Number(r.expiresAtMs),
      ...(r.email ? { email: r.email } : {}),
      ...(r.bot ? { bot: true, botRooms: r.botRooms } : {}),
    };
  }

  async #signIn(rpc: "register" | "login", username: string, password: string) {
    const r = await this.#channel.unary<AuthToken>(
      rpc,
      create(CredentialsSchema, { username, password }),
    );
    this.#channel.token = r.token;
    return {
      token: r.token,
      userId: r.userId,
      username: r.username,
      account: true,
      expiresMs: Number(r.expiresAtMs),
    };
  }

  /** The server's limits and default room: what a client may check before sending. */
  async serverInfo(): Promise<ServerLimits> {
    const r = await this.#channel.unary<ServerInfo>(
      "getServerInfo",
      create(ServerInfoRequestSchema, {}),
    );
    return {
      accountsRequired: r.accountsRequired,
      maxMessageBytes: r.maxMessageBytes,
      maxNameChars: r.maxNameChars,
      maxRoomChars: r.maxRoomChars,
      maxRooms: r.maxRooms,
      maxHistory: r.maxHistory,
      maxTopicChars: r.maxTopicChars,
      maxBatch: r.maxBatch,
      defaultRoom: r.defaultRoom,
      editWindowMs: Number(r.editWindowMs),
      typingExpiryMs: r.typingExpiryMs,
      maxReactions: r.maxReactions,
      joinLines: r.joinLines,
      publicUrl: r.publicUrl,
    };
  }

  /** Round trip to the server, in ms. */
  async ping(): Promise<number> {
    const started = performance.now();
    await this.#channel.unary<PingResponse>("ping", create(PingRequestSchema, {}));
    return performance.now() - started;
  }

  /**
   * One page of history, oldest first: the newest `limit`, or those before
   * `beforeId`, or those after `afterId`, or (`aroundId`, as a search hit
   * opens its room) those around that message, which `hasNewer` follows.
   */
  async history(options: {
    limit: number;
    room?: string;
    beforeId?: number;
    afterId?: number;
    aroundId?: number;
    includeSystem?: boolean;
  }): Promise<{ messages: ChatLine[]; hasMore: boolean; hasNewer: boolean }> {
    const page = await this.#channel.unary<HistoryPage>(
      "history",
      create(HistoryQuerySchema, {
        room: options.room ?? "",
        limit: options.limit,
        beforeId: BigInt(options.beforeId ?? 0),
        ...(options.afterId === undefined ? {} : { afterId: BigInt(options.afterId) }),
        aroundId: BigInt(options.aroundId ?? 0),
        includeSystem: options.includeSystem ?? true,
      }),
    );
    const { hasMore, hasNewer } = page;
    return { messages: page.messages.map(toChatLine), hasMore, hasNewer };
  }

  /** Messages we may read that match a query, newest first, a page at a time. */
  search(options: SearchOptions): Promise<SearchPage> {
    return searchMessages(this.#channel, options);
  }

  /** One page of who is online in a room; pass `nextPageToken` back for the next. */
  async listMembers(
    options: { room?: string; pageSize?: number; pageToken?: string } = {},
  ): Promise<{ members: Member[]; nextPageToken: string; onlineCount: number }> {
    const response = await this.#channel.unary<ListMembersResponse>(
      "listMembers",
      create(ListMembersRequestSchema, {
        room: options.room ?? "",
        pageSize: options.pageSize ?? 0,
        pageToken: options.pageToken ?? "",
      }),
    );
    return {
      members: response.members.map(({ userId, username, bot }) => ({
        userId,
        username,
        ...(bot ? { bot } : {}),
      })),
      nextPageToken: response.nextPageToken,
      onlineCount: response.onlineCount,
    };
  }

  /** One page of the rooms this client can see; pass `nextPageToken` back for the next. */
  async listRooms(options: { pageSize?: number; pageToken?: string } = {}): Promise<{
    rooms: RoomEntry[];
    nextPageToken: string;
  }> {
    const r = await this.#channel.unary<ListRoomsResponse>(
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
        unread: room.unread,
        mentions: room.mentions,
        lastReadId: Number(room.lastReadId),
        notify: notifyLevelName(room.notify),
      })),
      nextPageToken: r.nextPageToken,
    };
  }

  /** The direct-message room with the user called `username`: join it and send to it. */
  async openDirect(username: string): Promise<{ room: string; peer: Member }> {
    const r = await this.#channel.unary<OpenDirectResponse>(
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
    await this.#channel.unary("setTopic", create(SetTopicRequestSchema, { room, topic }));
  }

  /** Sends one message with a unary call (the path browsers use); needs a prior join(). */
  async send(
    text: string,
    options: { room?: string; clientMsgId?: string; replyTo?: number } = {},
  ): Promise<SendAck> {
    const response = await this.#channel.unary<SendResponse>(
      "send",
      create(SendRequestSchema, {
        room: options.room ?? "",
        text,
        clientMsgId: options.clientMsgId ?? "",
        replyTo: BigInt(options.replyTo ?? 0),
      }),
    );
    return {
      room: response.ack?.room ?? "",
      id: Number(response.ack?.id ?? 0),
      timeMs: Number(response.ack?.serverTimeMs ?? 0),
    };
  }

  /** Replaces the text of one of our messages; every client hears of it as an edit entry. */
  edit(room: string, id: number, text: string): Promise<ChangeAck> {
    return editMessage(this.#channel, room, id, text);
  }

  /** Erases one of our messages; a tombstone keeps its id. */
  delete(room: string, id: number): Promise<ChangeAck> {
    return deleteMessage(this.#channel, room, id);
  }

  /** Adds (or, with `remove`, takes away) our reaction on a message: one emoji or ":name:". */
  react(room: string, id: number, emoji: string, remove = false): Promise<ChangeAck> {
    return reactToMessage(this.#channel, room, id, emoji, remove);
  }

  /** Moves our read marker in a room forward; resolves to the marker now. */
  markRead(room: string, lastReadId: number): Promise<number> {
    return markRead(this.#channel, room, lastReadId);
  }

  /** Says we are typing in a room, or (`stopped`) that we no longer are. */
  setTyping(room: string, stopped = false): Promise<void> {
    return setTyping(this.#channel, room, stopped);
  }

  /** Server-streaming subscription (the path browsers use): the same events as a session, no sends. */
  subscribe(rooms: readonly RoomStart[] = []): ChatSubscription {
    const call = this.#channel.serverStream(
      "subscribe",
      create(SubscribeRequestSchema, {
        rooms: rooms.map((r) => ({
          room: r.room,
          ...(r.resumeAfterId === undefined ? {} : { resumeAfterId: BigInt(r.resumeAfterId) }),
          epoch: r.epoch ?? "",
        })),
        username: this.username,
      }),
      this.#channel.metadata(),
    );
    const { queue, ended } = this.#channel.track<SessionEvent>(call);
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
    return sendMessages(this.#channel, texts);
  }

  /** The seed's GetChatHistory: the newest `limit` messages of its one room, oldest first. */
  seedHistory(limit: number, includeSystem = true): Promise<ChatLine[]> {
    return getChatHistory(this.#channel, limit, includeSystem);
  }

  /** Opens the seed's ChatStream: the live chat of a server that has no Session. */
  openSeedStream(): SeedStream {
    return openChatStream(this.#channel);
  }

  /** Opens a live session: a welcome, then, for each room joined, its events. */
  openSession(): ChatSession {
    const call = this.#channel.bidiStream<ClientFrame, Event>("session", this.#channel.metadata());
    return sessionOverCall(call, this.username, (onEnd) =>
      this.#channel.track<SessionEvent>(call, onEnd),
    );
  }

  /** Closes the connection; open calls end with CANCELLED. */
  close(): void {
    this.#channel.close();
  }
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  return new ChatClient(options);
}
