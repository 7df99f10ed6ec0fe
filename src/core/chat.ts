import type { Bus, BusPayload, ClusterClaims } from "../bus/bus.ts";
import type { AppendResult, Store } from "../store/store.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import { ChatStream, type SendInput, type StreamHub } from "./chat-stream.ts";
import { type Clock, systemClock } from "./clock.ts";
import { Envelope, type Outbound } from "./envelope.ts";
import { checkClientMsgId, checkText, DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { NodePresence } from "./node-presence.ts";
import { Outlet } from "./outlet.ts";
import { Presence } from "./presence.ts";
import { type Retention, scheduleRetention } from "./retention.ts";
import {
  DEFAULT_DELIVERY,
  type DeliveryOptions,
  type RoomCursor,
  type StreamSink,
} from "./room-cursor.ts";
import { Rooms } from "./room-reads.ts";
import { RoomTails, type RoomTailsOptions } from "./room-tails.ts";
import { checkAccess, directMembers } from "./rooms.ts";
import { ChatStats } from "./stats.ts";
import {
  DEFAULT_ROOM,
  type Identity,
  type MessageId,
  type NewMessage,
  type RoomId,
  type StoredMessage,
  type UserId,
} from "./types.ts";
import { type AuthMode, Users } from "./users.ts";

export type { SendInput } from "./chat-stream.ts";
export type { Retention } from "./retention.ts";
export type { HistoryQuery, HistoryResult, MembersPage, RoomListing } from "./room-reads.ts";

/** The narrow slice of a pino logger the core uses. */
export interface CoreLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface ChatOptions {
  readonly store: Store;
  readonly bus: Bus;
  /** Where the nodes of a cluster agree on online names and rates; none for one node. */
  readonly claims?: ClusterClaims | undefined;
  readonly clock?: Clock;
  readonly limits?: Partial<Limits>;
  readonly delivery?: Partial<DeliveryOptions>;
  readonly logger?: CoreLogger;
  /** Who may chat: guests under a free name ("open", default) or accounts only. */
  readonly auth?: AuthMode;
  /** How long a login token lasts. Default 30 days. */
  readonly tokenTtlMs?: number;
  /** scrypt cost for passwords, as log2(N). Default 15. */
  readonly passwordCost?: number;
  /** How many guest names JoinChat remembers. Default 100,000. */
  readonly maxKnownUsers?: number;
  /** A stream whose transport takes nothing for this long is ended. Default 60,000 ms. */
  readonly readerTimeoutMs?: number;
  /** Presence changes are collected this long and sent as one event per room. Default 250 ms. */
  readonly presenceTickMs?: number;
  /** Rooms with more users online than this get no presence events. Default 200. */
  readonly presenceMaxRoom?: number;
  /** How often this node tells the others it is alive. Default 1,000 ms. */
  readonly nodeHeartbeatMs?: number;
  /** Another node not heard from for this long is taken for dead, and its users offline. Default 5,000 ms. */
  readonly nodeExpiryMs?: number;
  readonly retention?: Retention;
  /**
   * Bounds on the newest messages kept in memory per room for reads near the
   * head; false keeps none. Only kept with a synchronous bus (one process).
   */
  readonly roomTails?: Partial<RoomTailsOptions> | false;
  /** How often retention runs (and once at start). Default 60,000 ms. */
  readonly retentionIntervalMs?: number;
}

/**
 * The chat domain: rooms, who is in them, the message rules and the fan-out.
 * Transports hand it plain values; it hands them Outbound items through each
 * stream's Outlet.
 */
export class Chat {
  readonly limits: Limits;
  readonly users: Users;
  readonly rooms: Rooms;
  readonly stats = new ChatStats();
  readonly #store: Store;
  readonly #bus: Bus;
  readonly #claims: ClusterClaims | undefined;
  readonly #clock: Clock;
  readonly #logger: CoreLogger | undefined;
  readonly #delivery: DeliveryOptions;
  readonly #presence = new Presence();
  readonly #nodes: NodePresence;
  readonly #presenceMaxRoom: number;
  readonly #readerTimeoutMs: number;
  readonly #members = new Map<RoomId, Set<RoomCursor>>();
  readonly #streams = new Set<ChatStream>();
  /** The streams that take direct messages, by user: they enter a DM room when one arrives. */
  readonly #direct = new Map<UserId, Set<ChatStream>>();
  readonly #hub: StreamHub;
  readonly #tails: RoomTails | undefined;
  readonly #timers: Array<() => void> = [];
  #stopping = false;

  constructor(options: ChatOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#store = options.store;
    this.#bus = options.bus;
    this.#claims = options.claims;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#delivery = { ...DEFAULT_DELIVERY, ...options.delivery };
    this.users = new Users({
      store: this.#store,
      clock: this.#clock,
      limits: this.limits,
      stats: this.stats,
      claims: options.claims,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.tokenTtlMs ? { tokenTtlMs: options.tokenTtlMs } : {}),
      ...(options.passwordCost ? { passwordCost: options.passwordCost } : {}),
      ...(options.maxKnownUsers ? { maxKnownUsers: options.maxKnownUsers } : {}),
    });
    this.#tails =
      options.bus.synchronous && options.roomTails !== false
        ? new RoomTails(options.roomTails)
        : undefined;
    this.#presenceMaxRoom = options.presenceMaxRoom ?? 200;
    this.#readerTimeoutMs = options.readerTimeoutMs ?? 60_000;
    this.rooms = new Rooms({
      store: this.#store,
      clock: this.#clock,
      limits: this.limits,
      users: this.users,
      presence: this.#presence,
      tails: this.#tails,
      announce: (room, payload) => this.#deliverEverywhere(room, payload),
    });
    this.#hub = {
      store: this.#store,
      limits: this.limits,
      presence: this.#presence,
      register: (cursor) => {
        let members = this.#members.get(cursor.room);
        if (!members) {
          members = new Set();
          this.#members.set(cursor.room, members);
        }
        members.add(cursor);
      },
      unregister: (cursor) => {
        const members = this.#members.get(cursor.room);
        if (members?.delete(cursor) && members.size === 0) this.#members.delete(cursor.room);
      },
      send: (sender, input, origin) => this.send(sender, input, origin),
      forget: (stream) => {
        if (!this.#streams.delete(stream)) return;
        this.users.online.release(stream.identity);
        const direct = this.#direct.get(stream.identity.userId);
        if (direct?.delete(stream) && direct.size === 0)
          this.#direct.delete(stream.identity.userId);
      },
    };
    this.#nodes = new NodePresence({
      bus: this.#bus,
      presence: this.#presence,
      clock: this.#clock,
      expiryMs: options.nodeExpiryMs ?? 5_000,
      log: (message, details) => this.#logger?.info(details, message),
    });
    this.#bus.onEvent((event) => {
      if ("node" in event) this.#nodes.receive(event.origin, event.node);
      else this.#fanOut(event.room, new Envelope(event.payload));
    });
    this.#bus.onReconnect(() => {
      this.#nodes.hello();
      this.#catchUpFromStore().catch((error: unknown) => {
        this.#logger?.warn(
          { err: error },
          "catching up from the store after the bus returned failed",
        );
      });
    });
    this.#nodes.hello();
    this.#timers.push(
      this.#clock.every(options.presenceTickMs ?? 250, () => this.#announcePresence()),
      this.#clock.every(options.nodeHeartbeatMs ?? 1_000, () => this.#nodes.heartbeat()),
      this.#clock.every(Math.max(10, this.#readerTimeoutMs / 4), () => this.#endStalled()),
      scheduleRetention({
        store: this.#store,
        clock: this.#clock,
        retention: options.retention ?? {},
        pruned: () => this.#tails?.clear(),
        intervalMs: options.retentionIntervalMs ?? 60_000,
        ...(options.logger ? { logger: options.logger } : {}),
      }),
    );
  }

  now(): number {
    return this.#clock.now();
  }

  /** Whether this node can serve: it is not shutting down, and its store answers a read. */
  async ready(): Promise<boolean> {
    if (this.#stopping) return false;
    try {
      await this.#store.lastId(DEFAULT_ROOM);
      return true;
    } catch {
      return false;
    }
  }

  /** False while the bus cannot reach the other nodes: this node serves its own clients only. */
  get busConnected(): boolean {
    return this.#bus.connected;
  }

  /** Other nodes heard from and not yet expired, for metrics. */
  get otherNodes(): number {
    return this.#nodes.nodeCount;
  }

  /** Rooms with a stream in them, for metrics. */
  get roomCount(): number {
    return this.#members.size;
  }

  /** Bytes waiting in every stream's queue, for metrics: walks the streams, so only when scraped. */
  queuedBytes(): number {
    let bytes = 0;
    for (const stream of this.#streams) bytes += stream.outlet.queued.bytes;
    return bytes;
  }

  /**
   * A live stream for `identity`, writing to `sink`; it enters rooms with
   * joinRoom. `skipOwnUser`: the stream never gets its user's messages (the
   * seed's wire); otherwise only the ones it sent itself are left out.
   * `directMessages`: the stream enters a direct-message room of its user by
   * itself when a message arrives there (not on the seed's one-room wire).
   * Refused (ALREADY_EXISTS) when another user online wears the name, and
   * (RESOURCE_EXHAUSTED) past the user's limit of open streams.
   */
  openStream(
    identity: Identity,
    sink: StreamSink,
    options: { skipOwnUser?: boolean; directMessages?: boolean } = {},
  ): ChatStream {
    this.#ensureRunning();
    const maxStreams = this.limits.maxSessionsPerUser;
    if (maxStreams > 0 && this.users.online.streamsOf(identity.userId) >= maxStreams) {
      throw new ChatError(
        "resource_exhausted",
        `You have ${maxStreams} sessions open, the most this server allows; close one first.`,
      );
    }
    this.users.online.claim(identity);
    let stream: ChatStream | undefined;
    const outlet = new Outlet({
      sink,
      store: this.#store,
      tails: this.#tails,
      clock: this.#clock,
      delivery: this.#delivery,
      stats: this.stats,
      caughtUp: (room, lastId) => this.#caughtUp(room, lastId),
      ...(options.skipOwnUser ? { skipUserId: identity.userId } : {}),
      onPageError: (error) => {
        const chatError = toChatError(error);
        if (chatError.code === "internal") {
          this.#logger?.warn({ err: error }, "reading history for a stream failed");
        }
        stream?.abort(chatError);
      },
    });
    stream = new ChatStream(identity, outlet, this.#hub);
    this.#streams.add(stream);
    if (options.directMessages) {
      let direct = this.#direct.get(identity.userId);
      if (!direct) {
        direct = new Set();
        this.#direct.set(identity.userId, direct);
      }
      direct.add(stream);
    }
    return stream;
  }

  /**
   * Stores one message from `sender` and delivers it to the room; `origin`,
   * the sending stream, gets no copy (it is given an ack).
   */
  async send(sender: Identity, input: SendInput, origin?: Outlet): Promise<AppendResult> {
    try {
      this.#ensureRunning();
      const message = this.#newChatMessage(sender, input);
      if (input.admitted !== true) await this.users.admitSend(sender.userId, 1);
      const [result] = await this.#append([message]);
      if (!result) throw new ChatError("internal", "The store returned nothing for a message.");
      if (!result.duplicate) this.#publish(result.message, origin);
      return result;
    } catch (error) {
      throw this.#refused(error);
    }
  }

  /** Checks every text first and stores all or none, once each. */
  async sendBatch(
    sender: Identity,
    roomId: RoomId,
    texts: readonly string[],
  ): Promise<StoredMessage[]> {
    try {
      return await this.#storeBatch(sender, roomId, texts);
    } catch (error) {
      throw this.#refused(error);
    }
  }

  async #storeBatch(
    sender: Identity,
    roomId: RoomId,
    texts: readonly string[],
  ): Promise<StoredMessage[]> {
    this.#ensureRunning();
    if (texts.length > this.limits.maxBatch) {
      throw new ChatError(
        "invalid_argument",
        `A batch holds at most ${this.limits.maxBatch} messages; this one has ${texts.length}.`,
      );
    }
    const messages = texts.map((text, index) => {
      try {
        return this.#newChatMessage(sender, { room: roomId, text });
      } catch (error) {
        if (error instanceof ChatError) {
          throw new ChatError(error.code, `Message ${index + 1} of the batch: ${error.message}`);
        }
        throw error;
      }
    });
    await this.users.admitSend(sender.userId, messages.length);
    const results = await this.#append(messages);
    for (const { message } of results) this.#publish(message);
    return results.map((r) => r.message);
  }

  /** A refused send, counted by its code for metrics. */
  #refused(error: unknown): ChatError {
    const chatError = toChatError(error);
    this.stats.sendRejected(chatError.code);
    return chatError;
  }

  /**
   * Stops taking new work and tells every live stream `notice`; each ends
   * with UNAVAILABLE. Leaves during shutdown are not announced.
   */
  shutdown(notice: string): void {
    this.#stopping = true;
    this.#stopTimers();
    this.#nodes.bye();
    const error = new ChatError("unavailable", "The server is shutting down; reconnect shortly.");
    for (const stream of [...this.#streams]) {
      stream.notify({ type: "notice", text: notice, timeMs: this.#clock.now() });
      stream.end(error);
    }
  }

  async close(): Promise<void> {
    if (!this.#stopping) this.#nodes.bye();
    this.#stopping = true;
    this.#stopTimers();
    await this.#bus.close();
    await this.#claims?.close();
    await this.#store.close();
  }

  #stopTimers(): void {
    for (const stop of this.#timers.splice(0)) stop();
  }

  /**
   * For a wire with no way to refuse one message (the seed's ChatStream):
   * waits until `sender`'s send rate allows one more message and counts it;
   * then send it with `admitted`. Reading the next message only after this
   * holds a flooder back by flow control.
   */
  async admitWhenAllowed(sender: Identity): Promise<void> {
    await this.users.waitToSend(sender.userId, () => this.#ensureRunning());
  }

  #newChatMessage(sender: Identity, input: SendInput): NewMessage {
    return {
      room: checkAccess(sender.userId, input.room, this.limits.maxRoomChars),
      userId: sender.userId,
      username: sender.username,
      text: checkText(input.text, this.limits),
      kind: "chat",
      clientMsgId: checkClientMsgId(input.clientMsgId ?? ""),
    };
  }

  async #append(messages: NewMessage[]): Promise<AppendResult[]> {
    try {
      return await this.#store.append(messages);
    } catch (error) {
      throw toChatError(error);
    }
  }

  #publish(message: StoredMessage, origin?: Outlet): void {
    this.stats.messagesStored += 1;
    this.#deliverEverywhere(message.room, { type: "message", message }, origin);
  }

  /** Local streams first, then the other nodes: a failing bus never stops local delivery. */
  #deliverEverywhere(room: RoomId, payload: BusPayload, origin?: Outlet): void {
    this.#fanOut(room, new Envelope(payload, origin));
    this.#bus.publish({ origin: this.#bus.nodeId, room, payload }).catch((error) => {
      this.#logger?.warn(
        { err: error, room },
        "bus publish failed; other nodes fill a message's gap from the store at their next message",
      );
    });
  }

  #fanOut(room: RoomId, envelope: Envelope): void {
    // Before any stream sees it: a stream that falls behind reads it from the tail.
    if (envelope.payload.type === "message") this.#tails?.record(envelope.payload.message);
    const members = this.#members.get(room);
    if (members) for (const cursor of members) cursor.outlet.offer(cursor, envelope);
    const { payload } = envelope;
    if (payload.type === "message") {
      this.stats.messagesFannedOut += 1;
      this.#bringIntoDirect(room, payload.message.id, envelope.origin);
    }
  }

  /**
   * A direct message reaches every stream of both users, joined or not: a
   * stream not yet in the room enters it from just before this message (its
   * cursor then reads it from the store, once). The stream that sent it
   * enters after it: it has its ack.
   */
  #bringIntoDirect(room: RoomId, id: MessageId, origin: object | undefined): void {
    const users = directMembers(room);
    if (!users) return;
    for (const userId of users) {
      for (const stream of this.#direct.get(userId) ?? []) {
        if (stream.inRoom(room) || stream.ended) continue;
        const after = stream.outlet === origin ? id : id - 1;
        stream.joinRoom(room, after).catch((error: unknown) => {
          const { code, message } = toChatError(error);
          stream.notify({ type: "left", room, code, reason: message });
        });
      }
    }
  }

  #caughtUp(room: RoomId, lastId: MessageId): Outbound {
    const onlineCount = this.#presence.count(room);
    const online = onlineCount <= this.#presenceMaxRoom ? this.#presence.list(room) : [];
    return { type: "caught_up", room, lastId, online, onlineCount };
  }

  /**
   * The bus lost events while it was away: every room with a stream here
   * reads its newest id from the store, and streams behind it catch up.
   */
  async #catchUpFromStore(): Promise<void> {
    for (const [room, members] of [...this.#members]) {
      const lastId = await this.#store.lastId(room);
      for (const cursor of members) cursor.outlet.headAt(cursor, lastId);
    }
  }

  #announcePresence(): void {
    this.#nodes.publishChanges();
    const timeMs = this.#clock.now();
    for (const change of this.#presence.flush()) {
      if (change.onlineCount > this.#presenceMaxRoom) continue;
      const { room, onlineCount } = change;
      for (const [online, users] of [
        [false, change.left],
        [true, change.joined],
      ] as const) {
        if (users.length > 0) {
          this.#fanOut(
            room,
            new Envelope({ type: "presence", room, online, users, onlineCount, timeMs }),
          );
        }
      }
    }
  }

  #endStalled(): void {
    const now = this.#clock.now();
    for (const stream of [...this.#streams]) {
      const since = stream.blockedSince;
      if (since !== undefined && now - since >= this.#readerTimeoutMs) {
        this.stats.readersEnded += 1;
        stream.abort(
          new ChatError(
            "resource_exhausted",
            `Your client read nothing for ${Math.round(this.#readerTimeoutMs / 1000)} s, so the server ended this stream; reconnect to resume where you left off.`,
          ),
        );
      }
    }
  }

  #ensureRunning(): void {
    if (this.#stopping)
      throw new ChatError("unavailable", "The server is shutting down; try again shortly.");
  }
}

export function createChat(options: ChatOptions): Chat {
  return new Chat(options);
}
