import type { HistoryOptions, RoomSummary, Store } from "../store/store.ts";
import { asChatError, ChatError, toChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import { historyAround } from "./history-around.ts";
import type { Identities } from "./identities.ts";
import { checkHistoryLimit, checkTopic, type Limits } from "./limits.ts";
import type { Presence } from "./presence.ts";
import type { RoomPublisher } from "./room-publisher.ts";
import type { Rank, RoomRules } from "./room-rules.ts";
import { systemLine } from "./room-signals.ts";
import type { RoomTails } from "./room-tails.ts";
import { checkAccess, directMembers, directRoom } from "./rooms.ts";
import type { Identity, MessageId, RoomId, StoredMessage, UserId } from "./types.ts";

export interface HistoryQuery {
  readonly room: RoomId;
  /** 0 or less for the default size. */
  readonly limit: number;
  /** Backwards from this id (exclusive); 0 or absent with no afterId: the newest. */
  readonly beforeId?: MessageId;
  /** Forwards from this id (exclusive; 0: from the start), oldest first. */
  readonly afterId?: MessageId;
  /** The page with this message in its middle (see historyAround); 0 or absent: not. */
  readonly aroundId?: MessageId;
  readonly includeSystem: boolean;
}

export interface HistoryResult {
  /** Oldest first. */
  readonly messages: StoredMessage[];
  /** True when more exist beyond this page in the direction asked for (older, for aroundId). */
  readonly hasMore: boolean;
  /** aroundId: true when newer messages follow the page. */
  readonly hasNewer?: boolean;
}

/** One room as the caller's room list shows it. */
export interface RoomListing extends RoomSummary {
  /** Users online in the room now. */
  readonly online: number;
  /** For a direct-message room: the other user. */
  readonly peer: Identity | undefined;
  readonly inviteOnly: boolean;
  readonly readOnly: boolean;
  /** The reader's rank in the room. */
  readonly rank: Rank;
}

export interface MembersPage {
  readonly members: Identity[];
  /** The last member of this page when more follow: pass it back as `after`. */
  readonly next: Identity | undefined;
  readonly onlineCount: number;
}

export interface RoomsOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly limits: Limits;
  readonly identities: Identities;
  readonly presence: Presence;
  /** The newest messages of busy rooms, when this node may answer from memory. */
  readonly tails: RoomTails | undefined;
  /** Tells everyone in a room, on every node, of a change (a topic). */
  readonly publisher: RoomPublisher;
  readonly rules: RoomRules;
}

/**
 * What can be asked of rooms, each answer only for a reader who may use the
 * room (rooms.ts): history, who is online, the room list, direct-message
 * rooms and topics. The live side (streams, fan-out) is Chat's.
 */
export class Rooms {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #limits: Limits;
  readonly #identities: Identities;
  readonly #presence: Presence;
  readonly #tails: RoomTails | undefined;
  readonly #publisher: RoomPublisher;
  readonly #rules: RoomRules;

  constructor(options: RoomsOptions) {
    this.#rules = options.rules;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#limits = options.limits;
    this.#identities = options.identities;
    this.#presence = options.presence;
    this.#tails = options.tails;
    this.#publisher = options.publisher;
  }

  /** One page of who is online in a room, sorted by name, after `after` (exclusive). */
  members(
    reader: UserId | undefined,
    room: RoomId,
    pageSize: number,
    after?: Identity,
  ): MembersPage {
    const all = this.#presence.list(checkAccess(reader, room, this.#limits.maxRoomChars));
    let start = 0;
    if (after) {
      start = all.findIndex(
        (m) =>
          m.username > after.username || (m.username === after.username && m.userId > after.userId),
      );
      if (start < 0) start = all.length;
    }
    const members = all.slice(start, start + pageSize);
    const more = start + pageSize < all.length;
    return { members, next: more ? members.at(-1) : undefined, onlineCount: all.length };
  }

  /**
   * The rooms `reader` can see, by name, after `afterRoom`: every room with
   * history, a topic or a record (created but not yet used), and the
   * reader's own direct-message rooms.
   */
  async listRooms(
    who: Identity | undefined,
    pageSize: number,
    afterRoom?: RoomId,
  ): Promise<{ rooms: RoomListing[]; next: RoomId | undefined }> {
    const reader = who?.userId;
    const rules = this.#rules;
    const admin = who !== undefined && rules.isAdmin(who);
    const rows = await asChatError(
      this.#store.listRooms({
        limit: pageSize + 1,
        ...(afterRoom ? { afterRoom } : {}),
        ...(reader ? { dmsOf: reader } : {}),
      }),
    );
    const more = rows.length > pageSize;
    if (more) rows.pop();
    const listed = await Promise.all(
      rows.map(async (row): Promise<RoomListing | undefined> => {
        const policy = await asChatError(rules.policy(row.room));
        const rank = reader === undefined ? "none" : policy.rankOf(reader, admin);
        // Unlisted to everyone it would refuse (non-members), as if it did not exist.
        if (policy.inviteOnly && rank === "none") return undefined;
        const peerId = directMembers(row.room)?.find((id) => id !== reader);
        const peer =
          peerId === undefined
            ? undefined
            : { userId: peerId, username: await this.#nameOf(peerId) };
        const { inviteOnly, readOnly } = policy;
        return { ...row, online: this.#presence.count(row.room), peer, inviteOnly, readOnly, rank };
      }),
    );
    const rooms = listed.filter((room) => room !== undefined);
    return { rooms, next: more ? rows.at(-1)?.room : undefined };
  }

  /** The direct-message room of `me` and the user called `name`. */
  async openDirect(me: Identity, name: string): Promise<{ room: RoomId; peer: Identity }> {
    const peer = await this.#identities.find(name);
    if (peer.userId === me.userId) {
      throw new ChatError("invalid_argument", "That is you; direct messages need someone else.");
    }
    return { room: directRoom(me.userId, peer.userId), peer };
  }

  /** Sets a room's topic and tells its members. */
  async setTopic(by: Identity, room: RoomId, topic: string): Promise<void> {
    checkAccess(by.userId, room, this.#limits.maxRoomChars);
    await this.#rules.checkAct(by, room, "topic");
    const text = checkTopic(topic);
    await asChatError(this.#store.setTopic(room, text));
    this.#publisher.publish(room, {
      type: "topic",
      room,
      topic: text,
      by,
      timeMs: this.#clock.now(),
    });
    // The change is also a line of the room's log, so history and resume show who set what.
    const line =
      text === "" ? `${by.username} cleared the topic` : `${by.username} set the topic: ${text}`;
    const [stored] = await asChatError(this.#store.append([systemLine(room, line)]));
    if (stored) this.#publisher.publish(room, { type: "message", message: stored.message });
  }

  /** A page of history, for `reader` (undefined: a caller with no identity). */
  async history(reader: UserId | undefined, query: HistoryQuery): Promise<HistoryResult> {
    const room = checkAccess(reader, query.room, this.#limits.maxRoomChars);
    const limit = checkHistoryLimit(query.limit, this.#limits);
    if (query.beforeId && query.afterId !== undefined) {
      throw new ChatError(
        "invalid_argument",
        "Give before_id or after_id, not both: a page goes one way.",
      );
    }
    if (query.aroundId && (query.beforeId || query.afterId !== undefined)) {
      throw new ChatError(
        "invalid_argument",
        "Give around_id alone: it opens the page around one message, not a page before or after one.",
      );
    }
    if (query.aroundId) {
      return historyAround(this.#store, (r, options) => this.#newest(r, options), {
        room,
        aroundId: query.aroundId,
        limit,
        includeSystem: query.includeSystem,
        reader,
      }).catch((error: unknown) => {
        throw toChatError(error);
      });
    }
    try {
      if (query.afterId !== undefined) {
        const { messages } = await this.#store.after(
          room,
          query.afterId,
          limit + 1,
          query.includeSystem,
        );
        const hasMore = messages.length > limit;
        if (hasMore) messages.pop();
        return { messages, hasMore };
      }
      const messages = await this.#newest(room, {
        limit: limit + 1,
        includeSystem: query.includeSystem,
        ...(query.beforeId ? { beforeId: query.beforeId } : {}),
        ...(reader ? { viewer: reader } : {}),
      });
      const hasMore = messages.length > limit;
      if (hasMore) messages.pop();
      return { messages: messages.reverse(), hasMore };
    } catch (error) {
      throw toChatError(error);
    }
  }

  /**
   * `Store.history`, answered from the room's tail when it can be; a miss on
   * the newest page reads every kind from the store and seeds the tail.
   */
  async #newest(room: RoomId, options: HistoryOptions): Promise<StoredMessage[]> {
    const tails = this.#tails;
    if (!tails) return this.#store.history(room, options);
    const cached = tails.history(room, options);
    if (cached) return cached;
    if (!options.beforeId) {
      const ticket = tails.ticket(room);
      const newest = await this.#store.history(room, {
        limit: options.limit,
        includeSystem: true,
        ...(options.viewer ? { viewer: options.viewer } : {}),
      });
      tails.seed(ticket, newest, options.limit);
      if (options.includeSystem) return newest;
    }
    return tails.history(room, options) ?? this.#store.history(room, options);
  }

  /** A user's name as last seen here, else (an account) as registered; "" when unknown. */
  async #nameOf(userId: UserId): Promise<string> {
    const seen = this.#identities.knownName(userId);
    if (seen !== undefined) return seen;
    const account = await asChatError(this.#store.accountById(userId));
    return account?.username ?? "";
  }
}
