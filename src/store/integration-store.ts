import type { Account, MessageId, RoomId, UserId } from "./store.ts";

/** What makes a bot's outgoing hook fire. */
export type BotTrigger = "mentions" | "all" | "words";

/** Where a bot's outgoing hook POSTs, and on what. */
export interface OutgoingHook {
  /** http or https. */
  readonly url: string;
  readonly trigger: BotTrigger;
  /** For "words": lower-cased, 1-20 of them. */
  readonly words: readonly string[];
  /** The HMAC-SHA256 key its requests are signed with (the server needs it, so it is kept). */
  readonly signingSecret: string;
}

/** A bot: an account of its own (user id `b-…`, no password) made by `ownerId`. */
export interface BotRecord {
  readonly userId: UserId;
  readonly username: string;
  readonly ownerId: UserId;
  /** The rooms its token may post in (and read, with `canRead`). */
  readonly rooms: readonly RoomId[];
  readonly canRead: boolean;
  /** SHA-256 of its token, hex; "" once revoked. */
  readonly tokenHash: string;
  readonly createdMs: number;
  /** When its token was revoked; 0 while it works. */
  readonly revokedMs: number;
  /** Its outgoing hook's last failure ("" none yet), on whichever node delivered, and when. */
  readonly lastError: string;
  readonly lastErrorMs: number;
  readonly outgoing: OutgoingHook | undefined;
}

/** How a user is told about a room. Rooms with no setting are "mentions". */
export type NotifyLevel = "all" | "mentions" | "off";

/** Where delivery of one bot's outgoing hook stands in one room. */
export interface BotCursor {
  readonly room: RoomId;
  /** The newest message id handed to the hook (or skipped by its trigger). */
  readonly deliveredId: MessageId;
}

/**
 * Bots, their outgoing hooks' progress, and what users asked to be told
 * about: per-room notification levels, an email address, and the digests
 * waiting to be mailed. Implementations must pass
 * `test/store-integration-contract.ts`.
 */
export interface IntegrationStore {
  /**
   * Stores the bot's account (a password hash that no password matches) and
   * the bot together, with a cursor at `cursors` for each of its rooms; false
   * (nothing stored) when the name, or one that looks the same, is taken.
   */
  createBot(account: Account, bot: BotRecord, cursors: readonly BotCursor[]): Promise<boolean>;
  bot(userId: UserId): Promise<BotRecord | undefined>;
  /** The bot whose working token hashes to `tokenHash`. */
  botByToken(tokenHash: string): Promise<BotRecord | undefined>;
  /** `ownerId`'s bots, or every bot when undefined; oldest first. */
  bots(ownerId: UserId | undefined): Promise<BotRecord[]>;
  /** Every bot with an outgoing hook whose token works. */
  outgoingBots(): Promise<BotRecord[]>;
  /** Replaces the token's hash: "" with `revokedMs` revokes it, a new hash (revokedMs 0) renews it. */
  setBotToken(userId: UserId, tokenHash: string, revokedMs: number): Promise<BotRecord | undefined>;
  botCursors(userId: UserId): Promise<BotCursor[]>;
  /** Moves the bot's cursor in `room` to `deliveredId`, never back. */
  advanceBotCursor(userId: UserId, room: RoomId, deliveredId: MessageId): Promise<void>;
  /**
   * Whether `node` holds the lease on delivering the bot's hook until
   * `nowMs + leaseMs`: granted when it is free, run out, or already `node`'s.
   * In a cluster only the holder delivers, so each message goes once.
   */
  leaseBot(userId: UserId, node: string, nowMs: number, leaseMs: number): Promise<boolean>;

  /** Records the bot's outgoing hook's latest failure, for its owner to see from any node. */
  setBotError(userId: UserId, error: string, atMs: number): Promise<void>;

  /** Sets `userId`'s level for `room`; "mentions" removes the setting. */
  setNotify(userId: UserId, room: RoomId, level: NotifyLevel): Promise<void>;
  /** `userId`'s settings that are not "mentions". */
  notifyLevels(userId: UserId): Promise<ReadonlyMap<RoomId, NotifyLevel>>;
  /** The users in `userIds` who set `room` to "off" or "all". */
  notifyLevelsIn(
    room: RoomId,
    userIds: readonly UserId[],
  ): Promise<ReadonlyMap<UserId, NotifyLevel>>;

  /**
   * `email` for `userId`'s account; "" removes it. A user id with no account
   * stores nothing, so an address never outlives the account it was set for.
   */
  setEmail(userId: UserId, email: string): Promise<void>;
  /** The address, or "" when there is none. */
  emailOf(userId: UserId): Promise<string>;
  /** A digest for `userId` due at `dueMs`, unless one is already waiting (which keeps its time). */
  scheduleDigest(userId: UserId, dueMs: number): Promise<void>;
  /**
   * Removes and answers up to `limit` digests due at `nowMs` (those due
   * first, when more are due): of many nodes asking at once each digest goes
   * to exactly one.
   */
  takeDueDigests(nowMs: number, limit: number): Promise<UserId[]>;
  /** When the next digest is due (undefined: none waits). */
  nextDigestMs(): Promise<number | undefined>;
}
