import type { Bus, ClusterClaims } from "../bus/bus.ts";
import type { AppendResult, Store } from "../store/store.ts";
import { Accounts } from "./accounts.ts";
import { Changes } from "./changes.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import type { ChatOptions, CoreLogger, StreamOptions } from "./chat-options.ts";
import { ChatStream, type SendInput, type StreamHub } from "./chat-stream.ts";
import { type Clock, systemClock } from "./clock.ts";
import { Envelope, type Outbound } from "./envelope.ts";
import { RoomFanOut } from "./fan-out.ts";
import { Identities } from "./identities.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { NodePresence } from "./node-presence.ts";
import { Outlet } from "./outlet.ts";
import { Presence } from "./presence.ts";
import { RateLimits } from "./rate-limits.ts";
import { ReadMarkers } from "./read-markers.ts";
import { scheduleRetention } from "./retention.ts";
import { DEFAULT_DELIVERY, type DeliveryOptions, type StreamSink } from "./room-cursor.ts";
import { RoomPublisher } from "./room-publisher.ts";
import { Rooms } from "./room-reads.ts";
import { RoomSignals } from "./room-signals.ts";
import { RoomTails } from "./room-tails.ts";
import { SendPacer } from "./send-pacer.ts";
import { Sends } from "./sends.ts";
import { ChatStats } from "./stats.ts";
import {
  DEFAULT_ROOM,
  type Identity,
  type MessageId,
  type RoomId,
  type StoredMessage,
} from "./types.ts";
import { DEFAULT_TYPING_EXPIRY_MS, Typing } from "./typing.ts";

export type { ChatOptions, CoreLogger, StreamOptions } from "./chat-options.ts";
export type { SendInput } from "./chat-stream.ts";
export type { Retention } from "./retention.ts";
export type { HistoryQuery, HistoryResult, MembersPage, RoomListing } from "./room-reads.ts";

/**
 * The chat domain: rooms, who is in them, the message rules and the fan-out.
 * Transports hand it plain values; it hands them Outbound items through each
 * stream's Outlet.
 */
export class Chat {
  readonly limits: Limits;
  /** Accounts and their tokens. */
  readonly accounts: Accounts;
  /** Who chats under which name, here and across the cluster. */
  readonly identities: Identities;
  /** Sign-in attempts per address and the send rate. */
  readonly rateLimits: RateLimits;
  readonly rooms: Rooms;
  /** Edits, deletes and reactions: changes stored as entries of the room's log. */
  readonly changes: Changes;
  /** Each user's read position per room, and the unread counts it gives. */
  readonly readMarkers: ReadMarkers;
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
  readonly #streams = new Set<ChatStream>();
  readonly #fanOut: RoomFanOut;
  readonly #sends: Sends;
  readonly #hub: StreamHub;
  readonly #signals: RoomSignals;
  readonly #typingExpiryMs: number;
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
    const auth = options.auth ?? "open";
    const { store, claims } = options;
    const { stats, limits } = this;
    this.identities = new Identities({
      store,
      limits,
      auth,
      stats,
      claims,
      ...(options.maxKnownUsers ? { maxKnownUsers: options.maxKnownUsers } : {}),
    });
    this.accounts = new Accounts({
      store,
      clock: this.#clock,
      limits,
      auth,
      stats,
      identities: this.identities,
      ...(options.tokenTtlMs ? { tokenTtlMs: options.tokenTtlMs } : {}),
      ...(options.passwordCost ? { passwordCost: options.passwordCost } : {}),
    });
    this.rateLimits = new RateLimits({ clock: this.#clock, limits, stats, claims });
    this.#tails =
      options.bus.synchronous && options.roomTails !== false
        ? new RoomTails(options.roomTails)
        : undefined;
    this.#typingExpiryMs = options.typingExpiryMs ?? DEFAULT_TYPING_EXPIRY_MS;
    const typing = new Typing({
      clock: this.#clock,
      expiryMs: this.#typingExpiryMs,
      perSecond: 1,
    });
    this.#fanOut = new RoomFanOut(this.#tails, this.stats, typing);
    const publisher = new RoomPublisher(this.#fanOut, this.#bus, this.#logger);
    const ensureRunning = () => this.#ensureRunning();
    this.changes = new Changes({
      store,
      rates: this.rateLimits,
      limits,
      stats,
      clock: this.#clock,
      ensureRunning,
      publisher,
    });
    this.#sends = new Sends({
      store,
      rates: this.rateLimits,
      limits,
      stats,
      ensureRunning,
      publisher,
      checkReply: (sender, room, id) => this.changes.checkReplyTarget(sender, room, id),
    });
    this.#presenceMaxRoom = options.presenceMaxRoom ?? 200;
    this.#signals = new RoomSignals({
      store,
      bus: this.#bus,
      clock: this.#clock,
      fanOut: this.#fanOut,
      presence: this.#presence,
      publisher,
      typing,
      presenceMaxRoom: this.#presenceMaxRoom,
      maxRoomChars: limits.maxRoomChars,
      joinLines: options.joinLines ?? true,
      logger: this.#logger,
    });
    this.readMarkers = new ReadMarkers({
      store,
      limits,
      announce: (userId, room, lastReadId) => this.#signals.readMarker(userId, room, lastReadId),
    });
    this.#readerTimeoutMs = options.readerTimeoutMs ?? 60_000;
    this.rooms = new Rooms({
      store: this.#store,
      clock: this.#clock,
      limits: this.limits,
      identities: this.identities,
      presence: this.#presence,
      tails: this.#tails,
      publisher,
    });
    this.#hub = {
      store: this.#store,
      limits: this.limits,
      presence: this.#presence,
      register: (cursor) => this.#fanOut.enter(cursor),
      unregister: (cursor) => this.#fanOut.leave(cursor),
      send: (sender, input, origin, pacer) => this.#sends.send(sender, input, origin, pacer),
      forget: (stream) => {
        if (!this.#streams.delete(stream)) return;
        this.identities.online.release(stream.identity);
        this.#fanOut.forget(stream);
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
      else if (event.payload.type === "message" || event.payload.type === "topic") {
        this.#fanOut.deliver(event.room, new Envelope(event.payload));
      } else this.#signals.receive(event.payload);
    });
    this.#bus.onReconnect(() => {
      this.#nodes.hello();
      this.#fanOut
        .catchUp((room) => this.#store.lastId(room))
        .catch((error: unknown) => {
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
    return this.#fanOut.roomCount;
  }

  /** Bytes waiting in every stream's queue, for metrics: walks the streams, so only when scraped. */
  queuedBytes(): number {
    let bytes = 0;
    for (const stream of this.#streams) bytes += stream.outlet.queued.bytes;
    return bytes;
  }

  /**
   * A live stream for `identity`, writing to `sink`; it enters rooms with
   * joinRoom. Refused (ALREADY_EXISTS) when another user online wears the
   * name, on this node or (in a cluster) another, and (RESOURCE_EXHAUSTED)
   * past the user's limit of open streams. The name's claim across the
   * cluster is given back if the stream does not open, unless another stream
   * here wears it.
   */
  async openStream(
    identity: Identity,
    sink: StreamSink,
    options: StreamOptions = {},
  ): Promise<ChatStream> {
    this.#ensureRunning();
    await this.identities.claimAcrossNodes(identity);
    try {
      return this.#openHere(identity, sink, options);
    } catch (error) {
      this.identities.unclaimIfUnused(identity);
      throw error;
    }
  }

  #openHere(identity: Identity, sink: StreamSink, options: StreamOptions): ChatStream {
    this.#ensureRunning();
    const maxStreams = this.limits.maxSessionsPerUser;
    if (maxStreams > 0 && this.identities.online.streamsOf(identity.userId) >= maxStreams) {
      throw new ChatError(
        "resource_exhausted",
        `You have ${maxStreams} sessions open, the most this server allows; close one first.`,
      );
    }
    this.identities.online.claim(identity);
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
    stream = new ChatStream(
      identity,
      outlet,
      this.#hub,
      options.pace ? new SendPacer() : undefined,
    );
    this.#streams.add(stream);
    if (options.directMessages) this.#fanOut.takeDirectMessages(stream);
    return stream;
  }

  /**
   * Stores one message from `sender`, a call that is no stream (a unary
   * Send), and delivers it to the room; over the send rate it is refused
   * with RESOURCE_EXHAUSTED.
   */
  send(sender: Identity, input: SendInput): Promise<AppendResult> {
    return this.#sends.send(sender, input);
  }

  /** Checks every text first and stores all or none, once each. */
  sendBatch(sender: Identity, roomId: RoomId, texts: readonly string[]): Promise<StoredMessage[]> {
    return this.#sends.sendBatch(sender, roomId, texts);
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

  #caughtUp(room: RoomId, lastId: MessageId): Outbound {
    const onlineCount = this.#presence.count(room);
    const online = onlineCount <= this.#presenceMaxRoom ? this.#presence.list(room) : [];
    return { type: "caught_up", room, lastId, online, onlineCount };
  }

  #announcePresence(): void {
    this.#nodes.publishChanges();
    this.#signals.tick();
  }

  /** `who` is typing in `room`, or has stopped; see RoomSignals.typing. */
  typing(who: Identity, room: RoomId, stopped: boolean): void {
    this.#ensureRunning();
    this.#signals.typing(who, room, stopped);
  }

  /** How long a typing signal lasts, for clients to pace theirs. */
  get typingExpiryMs(): number {
    return this.#typingExpiryMs;
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
