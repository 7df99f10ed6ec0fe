import type { Bus, BusEvent } from "../bus/bus.ts";
import type { AppendResult, Store } from "../store/store.ts";
import { ChatError } from "./chat-error.ts";
import { type Clock, systemClock } from "./clock.ts";
import { Envelope, type Outbound } from "./envelope.ts";
import {
  checkClientMsgId,
  checkHistoryLimit,
  checkRoom,
  checkText,
  checkUserId,
  checkUsername,
  DEFAULT_LIMITS,
  type Limits,
} from "./limits.ts";
import {
  type Identity,
  type MessageId,
  type NewMessage,
  type RoomId,
  type StoredMessage,
  SYSTEM_USER_ID,
  SYSTEM_USERNAME,
  type UserId,
} from "./types.ts";
import { UserDirectory } from "./user-directory.ts";

/** A live stream as the core sees it; each transport implements one per wire shape. */
export interface Subscriber {
  /**
   * Takes one item for the stream. Must return at once: a subscriber queues
   * (boundedly) and cuts itself off rather than make the fan-out wait.
   */
  deliver(envelope: Envelope): void;
  /** The server is stopping: deliver the notice and end the stream. */
  shutdown(notice: Envelope): void;
}

/** The narrow slice of a pino logger the core uses. */
export interface CoreLogger {
  warn(details: object, message: string): void;
}

export interface ChatOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly clock?: Clock;
  readonly limits?: Partial<Limits>;
  readonly logger?: CoreLogger;
  /** How many user_id -> username entries JoinChat remembers. Default 100,000. */
  readonly maxKnownUsers?: number;
}

export interface ConnectOptions {
  readonly identity: Identity;
  readonly room: RoomId;
  readonly subscriber: Subscriber;
  /** Replay messages after this id before going live; 0 for live only. */
  readonly resumeAfterId?: MessageId;
}

export interface SendInput {
  readonly room: RoomId;
  readonly text: string;
  readonly clientMsgId?: string;
}

export interface HistoryQuery {
  readonly room: RoomId;
  /** 0 or less for the default size. */
  readonly limit: number;
  readonly beforeId?: MessageId;
  readonly includeSystem: boolean;
}

export interface HistoryResult {
  /** Newest first. */
  readonly messages: StoredMessage[];
  /** True when older messages exist before the last one here. */
  readonly hasMore: boolean;
}

/** A stream's place in a room, from connect to leave. */
export interface Member {
  readonly identity: Identity;
  readonly room: RoomId;
  /** The room's newest id when the member connected. */
  readonly lastIdAtConnect: MessageId;
  /**
   * Starts delivery: replays what the member missed (if it asked to resume),
   * then a "caught up" item, then live items. Items published between connect
   * and start are held, not lost, and none is delivered twice.
   */
  start(): Promise<void>;
  /** Idempotent. Announces the leave when this was the user's last stream in the room. */
  leave(): Promise<void>;
}

interface Presence {
  username: string;
  streams: number;
}

interface LiveMember extends Member {
  lastIdAtConnect: MessageId;
  subscriber: Subscriber;
  /** Items held until start() has replayed the gap; null once live. */
  pending: Envelope[] | null;
}

/** The chat domain: rooms, who is in them, the message rules and the fan-out. */
export class Chat {
  readonly limits: Limits;
  readonly #store: Store;
  readonly #bus: Bus;
  readonly #clock: Clock;
  readonly #logger: CoreLogger | undefined;
  readonly #directory: UserDirectory;
  readonly #members = new Map<RoomId, Set<LiveMember>>();
  readonly #presence = new Map<RoomId, Map<UserId, Presence>>();
  #stopping = false;

  constructor(options: ChatOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#store = options.store;
    this.#bus = options.bus;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#directory = new UserDirectory(options.maxKnownUsers ?? 100_000);
    this.#bus.onEvent((event) => this.#deliverLocal(event));
  }

  /** The seed's JoinChat: records the name; `known` is true when the user had joined before. */
  join(userId: UserId, username: string): { identity: Identity; known: boolean } {
    const identity = { userId: checkUserId(userId), username: checkUsername(username) };
    const known = this.#directory.set(identity.userId, identity.username);
    return { identity, known };
  }

  /** The name a user joined with, if the server remembers one. */
  nameOf(userId: UserId): string | undefined {
    return this.#directory.get(userId);
  }

  /** Checks a claimed identity and remembers its name. */
  identify(userId: UserId, username: string): Identity {
    return this.join(userId, username).identity;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Who is online in a room, by name, sorted. */
  online(room: RoomId): string[] {
    const here = this.#presence.get(room);
    if (!here) return [];
    return [...here.values()].map((p) => p.username).sort();
  }

  async connect(options: ConnectOptions): Promise<Member> {
    this.#ensureRunning();
    const room = checkRoom(options.room);
    const resumeAfterId = options.resumeAfterId ?? 0;
    let left = false;
    const member: LiveMember = {
      identity: options.identity,
      room,
      lastIdAtConnect: 0,
      subscriber: options.subscriber,
      pending: [],
      start: async () => {
        let lastId = resumeAfterId;
        while (lastId > 0 && lastId < member.lastIdAtConnect) {
          const page = await this.#store.after(room, lastId, this.limits.maxReplay);
          for (const message of page) {
            member.subscriber.deliver(new Envelope({ type: "message", message }));
          }
          const last = page.at(-1);
          if (!last) break;
          lastId = last.id;
        }
        lastId = Math.max(lastId, member.lastIdAtConnect);
        for (const envelope of member.pending ?? []) {
          const { payload } = envelope;
          if (payload.type === "message") {
            // Already replayed from the store above.
            if (payload.message.id <= lastId && resumeAfterId > 0) continue;
            lastId = Math.max(lastId, payload.message.id);
          }
          member.subscriber.deliver(envelope);
        }
        member.pending = null;
        member.subscriber.deliver(new Envelope({ type: "caught_up", lastId }));
      },
      leave: async () => {
        if (left) return;
        left = true;
        this.#members.get(room)?.delete(member);
        if (this.#members.get(room)?.size === 0) this.#members.delete(room);
        if (this.#removePresence(room, options.identity) && !this.#stopping) {
          await this.#announce(
            room,
            `${options.identity.username} has left the chat`,
            options.identity.userId,
          );
        }
      },
    };
    let roomMembers = this.#members.get(room);
    if (!roomMembers) {
      roomMembers = new Set();
      this.#members.set(room, roomMembers);
    }
    // Registered before the newest id is read: whatever is stored after that
    // read is held in `pending`, so the gap between replay and live is empty.
    roomMembers.add(member);
    member.lastIdAtConnect = await this.#store.lastId(room);
    if (this.#addPresence(room, options.identity)) {
      await this.#announce(
        room,
        `${options.identity.username} has joined the chat`,
        options.identity.userId,
      );
    }
    return member;
  }

  /** Stores one message from `sender` and delivers it to everyone else in the room. */
  async send(sender: Identity, input: SendInput): Promise<AppendResult> {
    this.#ensureRunning();
    const message = this.#newChatMessage(sender, input);
    const [result] = await this.#store.append([message]);
    if (!result) throw new ChatError("internal", "The store returned nothing for a message.");
    if (!result.duplicate)
      this.#publish(
        result.message.room,
        { type: "message", message: result.message },
        sender.userId,
      );
    return result;
  }

  /** Checks every text first and stores all or none, once each. */
  async sendBatch(
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
    const results = await this.#store.append(messages);
    for (const { message } of results) {
      this.#publish(message.room, { type: "message", message }, sender.userId);
    }
    return results.map((r) => r.message);
  }

  async history(query: HistoryQuery): Promise<HistoryResult> {
    const roomId = checkRoom(query.room);
    const limit = checkHistoryLimit(query.limit, this.limits);
    const messages = await this.#store.history(roomId, {
      limit: limit + 1,
      includeSystem: query.includeSystem,
      ...(query.beforeId ? { beforeId: query.beforeId } : {}),
    });
    const hasMore = messages.length > limit;
    if (hasMore) messages.pop();
    return { messages, hasMore };
  }

  /**
   * Stops taking new work and tells every live stream `notice`; each
   * subscriber ends its stream. Leaves during shutdown are not announced.
   */
  shutdown(notice: string): void {
    this.#stopping = true;
    const envelope = new Envelope({ type: "notice", text: notice, timeMs: this.#clock.now() });
    for (const members of this.#members.values()) {
      for (const member of members) member.subscriber.shutdown(envelope);
    }
  }

  async close(): Promise<void> {
    this.#stopping = true;
    await this.#bus.close();
    await this.#store.close();
  }

  #newChatMessage(sender: Identity, input: SendInput): NewMessage {
    return {
      room: checkRoom(input.room),
      userId: sender.userId,
      username: sender.username,
      text: checkText(input.text, this.limits),
      kind: "chat",
      clientMsgId: checkClientMsgId(input.clientMsgId ?? ""),
    };
  }

  async #announce(roomId: RoomId, text: string, aboutUserId: UserId): Promise<void> {
    const [result] = await this.#store.append([
      {
        room: roomId,
        userId: SYSTEM_USER_ID,
        username: SYSTEM_USERNAME,
        text,
        kind: "system",
        clientMsgId: "",
      },
    ]);
    if (result) this.#publish(roomId, { type: "message", message: result.message }, aboutUserId);
  }

  /** Local streams first, then the other nodes: a failing bus never stops local delivery. */
  #publish(roomId: RoomId, payload: Outbound, excludeUserId: UserId): void {
    const event: BusEvent = { origin: this.#bus.nodeId, room: roomId, payload, excludeUserId };
    this.#deliverLocal(event);
    this.#bus.publish(event).catch((error: unknown) => {
      this.#logger?.warn(
        { err: error, room: roomId },
        "bus publish failed; other nodes miss this event",
      );
    });
  }

  #deliverLocal(event: BusEvent): void {
    const members = this.#members.get(event.room);
    if (!members) return;
    const envelope = new Envelope(event.payload, event.excludeUserId);
    for (const member of members) {
      if (member.identity.userId === envelope.excludeUserId) continue;
      if (member.pending) member.pending.push(envelope);
      else member.subscriber.deliver(envelope);
    }
  }

  /** Returns true when this is the user's first stream in the room. */
  #addPresence(roomId: RoomId, identity: Identity): boolean {
    let here = this.#presence.get(roomId);
    if (!here) {
      here = new Map();
      this.#presence.set(roomId, here);
    }
    const presence = here.get(identity.userId);
    if (presence) {
      presence.streams += 1;
      return false;
    }
    here.set(identity.userId, { username: identity.username, streams: 1 });
    return true;
  }

  /** Returns true when this was the user's last stream in the room. */
  #removePresence(roomId: RoomId, identity: Identity): boolean {
    const here = this.#presence.get(roomId);
    const presence = here?.get(identity.userId);
    if (!here || !presence) return false;
    presence.streams -= 1;
    if (presence.streams > 0) return false;
    here.delete(identity.userId);
    if (here.size === 0) this.#presence.delete(roomId);
    return true;
  }

  #ensureRunning(): void {
    if (this.#stopping)
      throw new ChatError("unavailable", "The server is shutting down; try again shortly.");
  }
}

export function createChat(options: ChatOptions): Chat {
  return new Chat(options);
}
