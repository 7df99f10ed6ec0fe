import type { Bus, ClusterClaims } from "../bus/bus.ts";
import type { AppendResult, Store } from "../store/store.ts";
import { Accounts } from "./accounts.ts";
import type { Bots } from "./bots.ts";
import { Changes } from "./changes.ts";
import { ChatError } from "./chat-error.ts";
import type { ChatOptions, CoreLogger, StreamOptions } from "./chat-options.ts";
import type { ChatStream, SendInput } from "./chat-stream.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { EmailDigests } from "./email-digests.ts";
import { Envelope } from "./envelope.ts";
import { RoomFanOut } from "./fan-out.ts";
import { Governance } from "./governance.ts";
import { Identities } from "./identities.ts";
import { Integrations } from "./integrations.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { LiveStreams } from "./live-streams.ts";
import { NodePresence } from "./node-presence.ts";
import type { NotifySettings } from "./notify-settings.ts";
import type { OutgoingHooks } from "./outgoing-hooks.ts";
import { Presence } from "./presence.ts";
import { RateLimits } from "./rate-limits.ts";
import { ReadMarkers } from "./read-markers.ts";
import { scheduleRetention } from "./retention.ts";
import { DEFAULT_DELIVERY, type StreamSink } from "./room-cursor.ts";
import { RoomPublisher } from "./room-publisher.ts";
import { Rooms } from "./room-reads.ts";
import { RoomSignals } from "./room-signals.ts";
import { RoomTails } from "./room-tails.ts";
import { Search } from "./search.ts";
import { Sends } from "./sends.ts";
import { ChatStats } from "./stats.ts";
import { DEFAULT_ROOM, type Identity, type RoomId, type StoredMessage } from "./types.ts";
import { DEFAULT_TYPING_EXPIRY_MS, Typing } from "./typing.ts";
import { Webhooks } from "./webhooks.ts";

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
  /** Roles, room kinds, bans and mutes, reports, the audit log. */
  readonly governance: Governance;
  /** Full-text search of what a reader may read. */
  readonly search: Search;
  /** Incoming webhooks: secret addresses that post to a room. */
  readonly webhooks: Webhooks;
  /** Bots: accounts with a scoped token, and their outgoing hooks. */
  readonly bots: Bots;
  /** Deliveries of bots' outgoing hooks; undefined when this node sends none. */
  readonly outgoing: OutgoingHooks | undefined;
  /** Mentions and DMs left unread, mailed; undefined without an SMTP server. */
  readonly digests: EmailDigests | undefined;
  /** Per-room notification levels and email addresses. */
  readonly notify: NotifySettings;
  /** Whether joins and leaves are stored as lines of the log. */
  readonly joinLines: boolean;
  readonly stats = new ChatStats();
  readonly #store: Store;
  readonly #bus: Bus;
  readonly #claims: ClusterClaims | undefined;
  readonly #clock: Clock;
  readonly #logger: CoreLogger | undefined;
  readonly #presence = new Presence();
  readonly #nodes: NodePresence;
  readonly #fanOut: RoomFanOut;
  readonly #sends: Sends;
  readonly #live: LiveStreams;
  readonly #signals: RoomSignals;
  readonly #typingExpiryMs: number;
  readonly #tails: RoomTails | undefined;
  readonly #timers: Array<() => void> = [];
  #stopping = false;
  #loaded: Promise<void>;

  constructor(options: ChatOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#store = options.store;
    this.#bus = options.bus;
    this.#claims = options.claims;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    const auth = options.auth ?? "open";
    const { store, claims } = options;
    const { stats, limits } = this;
    this.identities = new Identities({
      store,
      limits,
      auth,
      stats,
      claims,
      newGuestName: (address) => this.rateLimits.newGuestName(address),
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
    this.joinLines = options.joinLines ?? true;
    const typing = new Typing({
      clock: this.#clock,
      expiryMs: this.#typingExpiryMs,
      perSecond: 1,
    });
    this.#fanOut = new RoomFanOut(this.#tails, this.stats, typing);
    this.#fanOut.onStored = (room) => this.outgoing?.wake(room);
    const publisher = new RoomPublisher(this.#fanOut, this.#bus, this.#logger);
    const ensureRunning = () => this.#ensureRunning();
    this.governance = new Governance({
      store,
      bus: this.#bus,
      clock: this.#clock,
      identities: this.identities,
      changes: () => this.changes,
      accounts: () => this.accounts,
      roomDeleted: () => this.#tails?.clear(),
      present: (room) => this.#presence.list(room),
      fanOut: this.#fanOut,
      live: () => this.#live,
      maxRoomChars: limits.maxRoomChars,
      adminNames: options.admins ?? [],
      logger: this.#logger,
    });
    const { rules, audit } = this.governance;
    const integrations = new Integrations({
      options,
      store,
      clock: this.#clock,
      nodeId: this.#bus.nodeId,
      logger: this.#logger,
      limits,
      rules,
      identities: this.identities,
      sends: () => this.#sends,
      readMarkers: () => this.readMarkers,
      endStreams: (userId, reason) =>
        this.governance.announce("", { kind: "account", userId, reason }),
      notifyChanged: (userId, room, level) => this.#signals.notifyLevel(userId, room, level),
    });
    this.bots = integrations.bots;
    this.outgoing = integrations.outgoing;
    this.digests = integrations.digests;
    this.notify = integrations.notify;
    this.search = new Search({
      store,
      rules,
      identities: this.identities,
      limits,
      clock: this.#clock,
    });
    this.changes = new Changes({
      store,
      rates: this.rateLimits,
      limits,
      stats,
      clock: this.#clock,
      ensureRunning,
      publisher,
      rules,
      audit,
    });
    this.#sends = new Sends({
      store,
      rates: this.rateLimits,
      limits,
      stats,
      ensureRunning,
      publisher,
      rules,
      checkReply: (sender, room, id) => this.changes.checkReplyTarget(sender, room, id),
      ...(integrations.onStored ? { stored: integrations.onStored } : {}),
    });
    this.webhooks = new Webhooks({
      store,
      clock: this.#clock,
      rules,
      audit,
      sends: this.#sends,
      maxNameChars: limits.maxNameChars,
      rates: this.rateLimits,
    });
    const presenceMaxRoom = options.presenceMaxRoom ?? 200;
    this.#signals = new RoomSignals({
      store,
      bus: this.#bus,
      clock: this.#clock,
      fanOut: this.#fanOut,
      presence: this.#presence,
      publisher,
      typing,
      presenceMaxRoom,
      maxRoomChars: limits.maxRoomChars,
      joinLines: this.joinLines,
      logger: this.#logger,
    });
    this.readMarkers = new ReadMarkers({
      store,
      limits,
      announce: (userId, room, lastReadId) => this.#signals.readMarker(userId, room, lastReadId),
    });
    const readerTimeoutMs = options.readerTimeoutMs ?? 60_000;
    this.rooms = new Rooms({
      store: this.#store,
      clock: this.#clock,
      limits: this.limits,
      identities: this.identities,
      presence: this.#presence,
      tails: this.#tails,
      publisher,
      rules,
    });
    this.#live = new LiveStreams({
      store,
      tails: this.#tails,
      clock: this.#clock,
      delivery: { ...DEFAULT_DELIVERY, ...options.delivery },
      stats,
      limits,
      identities: this.identities,
      fanOut: this.#fanOut,
      presence: this.#presence,
      presenceMaxRoom,
      readerTimeoutMs,
      sends: this.#sends,
      admitToRoom: async (identity, room) => {
        const policy = await rules.checkRead(identity, room);
        await this.governance.rooms.claimOnJoin(identity, policy);
      },
      logger: this.#logger,
    });
    this.#nodes = new NodePresence({
      bus: this.#bus,
      presence: this.#presence,
      clock: this.#clock,
      expiryMs: options.nodeExpiryMs ?? 5_000,
      log: (message, details) => this.#logger?.info(details, message),
    });
    this.#bus.onEvent((event) => {
      if ("node" in event) this.#nodes.receive(event.origin, event.node);
      else if (event.payload.type === "rules") {
        this.governance.apply(event.payload.room, event.payload.effect);
      } else if (event.payload.type === "message" || event.payload.type === "topic") {
        this.#fanOut.deliver(event.room, new Envelope(event.payload));
      } else this.#signals.receive(event.payload);
    });
    this.#bus.onReconnect(() => {
      this.#nodes.hello();
      this.governance.forgetAll();
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
    this.#loaded = this.governance.load();
    this.#loaded.catch((error: unknown) => {
      this.#logger?.warn({ err: error }, "loading address bans and admins failed");
    });
    this.#timers.push(
      // Admins granted on a shared database by another process, and bans that ended.
      this.#clock.every(options.rulesReloadMs ?? 30_000, () => this.governance.apply("")),
      this.#clock.every(options.presenceTickMs ?? 250, () => this.#announcePresence()),
      this.#clock.every(options.nodeHeartbeatMs ?? 1_000, () => this.#nodes.heartbeat()),
      this.#clock.every(Math.max(10, readerTimeoutMs / 4), () => this.#live.endStalled()),
      scheduleRetention({
        store: this.#store,
        clock: this.#clock,
        retention: options.retention ?? {},
        pruned: () => this.#tails?.clear(),
        intervalMs: options.retentionIntervalMs ?? 60_000,
        ...(options.logger ? { logger: options.logger } : {}),
      }),
    );
    integrations.start(this.#timers);
  }

  now(): number {
    return this.#clock.now();
  }

  /** The clock everything here runs on (injected in tests). */
  get clock(): Clock {
    return this.#clock;
  }

  /** Resolves once the rules every call is checked against (address bans, admins) are loaded. */
  get started(): Promise<void> {
    return this.#loaded;
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
    return this.#live.queuedBytes();
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
      this.#ensureRunning();
      return this.#live.open(identity, sink, options);
    } catch (error) {
      this.identities.unclaimIfUnused(identity);
      throw error;
    }
  }

  /**
   * Stores one message from `sender`, a call that is no stream (a unary
   * Send), and delivers it to the room; over the send rate it is refused
   * with RESOURCE_EXHAUSTED.
   */
  send(sender: Identity, input: SendInput, address?: string): Promise<AppendResult> {
    return this.#sends.send(sender, input, undefined, undefined, address);
  }

  /** Checks every text first and stores all or none, once each. */
  sendBatch(
    sender: Identity,
    roomId: RoomId,
    texts: readonly string[],
    address?: string,
  ): Promise<StoredMessage[]> {
    return this.#sends.sendBatch(sender, roomId, texts, address);
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

  /**
   * Stops taking new work and tells every live stream `notice`; each ends
   * with UNAVAILABLE. Leaves during shutdown are not announced.
   */
  shutdown(notice: string): void {
    this.#stopping = true;
    this.#stopTimers();
    this.#nodes.bye();
    const error = new ChatError("unavailable", "The server is shutting down; reconnect shortly.");
    this.#live.endAll(notice, error);
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

  #announcePresence(): void {
    this.#nodes.publishChanges();
    this.#signals.tick();
  }

  #ensureRunning(): void {
    if (this.#stopping)
      throw new ChatError("unavailable", "The server is shutting down; try again shortly.");
  }
}

export function createChat(options: ChatOptions): Chat {
  return new Chat(options);
}
