import type { AdminStore } from "./admin-store.ts";
import type { GovernanceStore } from "./governance-store.ts";
import type { IntegrationStore } from "./integration-store.ts";
import type { SearchStore } from "./search-store.ts";

export type * from "./admin-store.ts";
export { BackupUnsupportedError, ImportConflictError } from "./admin-store.ts";
export type * from "./governance-store.ts";
export type * from "./integration-store.ts";
export type * from "./search-store.ts";

/** A room's name. The seed's RPCs all use the room "lobby". */
export type RoomId = string;
/** Who a message or a stream belongs to. */
export type UserId = string;
/** Server-assigned, per room: 1, 2, 3, ... never reused. */
export type MessageId = number;

/**
 * What a log entry is. "chat" and "system" are messages; the rest are changes
 * to an earlier chat message (`refId`), each an entry of its own in the same
 * id sequence, so a cursor delivers them like messages.
 */
export type MessageKind = "chat" | "system" | "edit" | "delete" | "react" | "unreact";

/** Kinds that change an earlier message rather than say something. */
export const CHANGE_KINDS: ReadonlySet<MessageKind> = new Set([
  "edit",
  "delete",
  "react",
  "unreact",
]);

/** One emoji's reactions on a message. */
export interface ReactionCount {
  readonly emoji: string;
  readonly count: number;
  /** The reader (HistoryOptions.viewer) is one of them; false when no viewer was given. */
  readonly mine: boolean;
}

/** A log entry on its way into the store: no id or time yet. */
export interface NewMessage {
  readonly room: RoomId;
  /** Who wrote it; for a change, who made the change. */
  readonly userId: UserId;
  readonly username: string;
  /**
   * chat/system: the text. edit: the new text. react/unreact: the emoji.
   * delete: "".
   */
  readonly text: string;
  readonly kind: MessageKind;
  /** The sender's idempotency key; empty when it gave none (always empty for changes). */
  readonly clientMsgId: string;
  /**
   * chat: the message it answers (0 or absent: none). A change: the chat
   * message it changes, which must be in the same room.
   */
  readonly refId?: MessageId;
}

/**
 * A log entry as the store keeps it and every reader sees it. A chat message
 * read back carries its current state (edited text, `editedMs`, `deleted`,
 * reactions); its change entries carry what they did.
 */
export interface StoredMessage extends NewMessage {
  readonly id: MessageId;
  /** Milliseconds since the Unix epoch, from the server's clock. */
  readonly timeMs: number;
  /** chat: when its text was last edited (absent or 0: never). */
  readonly editedMs?: number;
  /** chat: deleted; its text is then "" and it has no reactions. */
  readonly deleted?: boolean;
  /**
   * chat: its reactions, one per emoji in the order each was first added;
   * absent or empty when none. Only `history` and `message` fill it.
   */
  readonly reactions?: readonly ReactionCount[];
  /** react/unreact: how many users have this emoji on the message after the change. */
  readonly count?: number;
}

export interface AppendResult {
  readonly message: StoredMessage;
  /**
   * True when the same user already sent this client_msg_id in this room; the
   * message is then the one stored the first time, and nothing new was stored.
   */
  readonly duplicate: boolean;
  /**
   * A change that changed nothing, so nothing was stored: a reaction already
   * there (react) or not there (unreact), or a message already deleted
   * (delete). `message` is then the entry as it would have been, with id 0.
   */
  readonly unchanged?: boolean;
}

/**
 * A change was refused because its target is not a chat message of the room
 * (`missing`), or was deleted (`deleted`; an edit or reaction on a tombstone).
 * Nothing of the call was stored.
 */
export class ChangeTargetError extends Error {
  readonly reason: "missing" | "deleted";
  readonly targetId: MessageId;
  constructor(reason: "missing" | "deleted", targetId: MessageId) {
    super(`Message ${targetId} is ${reason === "missing" ? "not in this room" : "deleted"}.`);
    this.name = "ChangeTargetError";
    this.reason = reason;
    this.targetId = targetId;
  }
}

export interface HistoryOptions {
  /** Most messages to return. */
  readonly limit: number;
  /** Only messages with a smaller id; 0 or absent for the newest. */
  readonly beforeId?: MessageId;
  readonly includeSystem: boolean;
  /** Whose reactions count as `mine`; none when absent. */
  readonly viewer?: UserId;
}

/** One page read forwards from a cursor. */
export interface AfterPage {
  /** Ids above the cursor, oldest first, at most the limit asked for. */
  readonly messages: StoredMessage[];
  /**
   * The highest id retention has removed from this room (0 when none), read
   * in the same snapshot as `messages`: ids from the cursor + 1 up to this one
   * are gone for good, which a reader must report rather than skip silently.
   */
  readonly prunedThrough: MessageId;
}

/** What retention removes; a field left out is unlimited. */
export interface RetentionPolicy {
  /** Remove messages stored before this time (ms since the Unix epoch). */
  readonly olderThanMs?: number;
  /** Keep at most this many of each room's newest messages. */
  readonly maxPerRoom?: number;
}

/** One room as a room list shows it. */
export interface RoomSummary {
  readonly room: RoomId;
  /** The newest message id; 0 when the room has none (only a topic). */
  readonly lastId: MessageId;
  /** When the newest message was stored (ms since the Unix epoch); 0 when none. */
  readonly lastTimeMs: number;
  /** "" when none was set. */
  readonly topic: string;
}

/** Unread messages in one room for one reader; see `Store.unread`. */
export interface UnreadCount {
  readonly room: RoomId;
  /** The reader's marker (0: none). */
  readonly lastReadId: MessageId;
  /** Chat messages above the marker, not the reader's own, not deleted; at most the cap asked for. */
  readonly unread: number;
  /**
   * The texts of those (newest first, at most the cap) that contain one of
   * the names asked for, ignoring case: the core decides which are mentions.
   */
  readonly mentionCandidates: readonly string[];
}

/** A registered user, as the store keeps it. */
export interface Account {
  /** Assigned by the caller ("a-" + random), never reused. */
  readonly userId: UserId;
  /** The name as registered (already normalised by the caller). */
  readonly username: string;
  /** The name's comparison key, made by the caller; unique among accounts. */
  readonly nameKey: string;
  /** The password's KDF output with its parameters; opaque to the store. */
  readonly passwordHash: string;
  readonly createdMs: number;
}

/** Whose a token is, and until when. */
export interface TokenOwner {
  readonly account: Account;
  readonly expiresMs: number;
}

/** A login token, as the store keeps it: by its hash only. */
export interface TokenRecord {
  /** SHA-256 of the token, hex; the token itself is never stored. */
  readonly tokenHash: string;
  readonly userId: UserId;
  readonly expiresMs: number;
}

/**
 * The store cannot serve now but may later: the database is locked, the disk
 * is full, an I/O error, or the store is closing. Nothing of the failed call
 * was stored; the caller may retry (with the same client_msg_id).
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/**
 * Where messages, accounts and login tokens live. The store owns message ids
 * and times: it gives each appended message the room's next id and the
 * server's time. Implementations must pass `test/store-contract.ts`.
 */
export interface Store extends GovernanceStore, AdminStore, SearchStore, IntegrationStore {
  /**
   * A name for this history that changes when the history is replaced (a new
   * database): a resume id from another epoch means nothing here.
   */
  readonly epoch: string;
  /**
   * 32 random bytes (hex), made with the history and kept with it: the key
   * public user ids are derived with (see public-id.ts). Never sent to clients.
   */
  readonly idKey: string;
  /**
   * Appends all of `messages` or none of them, in order, and resolves once
   * they are committed. Appends that arrive together may share one commit;
   * each call still succeeds or fails on its own.
   *
   * A change entry is applied to its target (`refId`) in the same
   * transaction, and the target row keeps the result: edit replaces the text
   * and sets editedMs to the entry's time; delete erases the text for good
   * (text "", deleted, its reactions removed; nothing of the old text may
   * remain readable in the database); react/unreact adds or removes the
   * (user, emoji) pair and records the emoji's new count in the entry. The
   * target must be a chat message of the room, and not deleted (a delete of a
   * deleted message is `unchanged`), else the call fails with
   * ChangeTargetError.
   */
  append(messages: readonly NewMessage[]): Promise<AppendResult[]>;
  /**
   * The newest messages (chat, and system when asked; never change entries)
   * before `beforeId`, newest first, each in its current state: edited text
   * and editedMs, a deleted one as a tombstone (text "", deleted), reactions
   * with `mine` for `viewer`.
   */
  history(room: RoomId, options: HistoryOptions): Promise<StoredMessage[]>;
  /**
   * One chat or system message in its current state (as `history` gives it,
   * reactions with `mine` for `viewer`); undefined when the room has no
   * message with this id (or only a change entry).
   */
  message(room: RoomId, id: MessageId, viewer?: UserId): Promise<StoredMessage | undefined>;
  /**
   * Log entries with an id above `afterId`, oldest first, at most `limit`:
   * messages in their current state (without reactions) and change entries.
   * An edit entry reads with its target's text now ("" once deleted), so no
   * text replaced by an edit is kept; a react/unreact entry with its emoji
   * and count. With `includeSystem` false, system messages are left out
   * (change entries never are).
   */
  after(
    room: RoomId,
    afterId: MessageId,
    limit: number,
    includeSystem?: boolean,
  ): Promise<AfterPage>;
  /** The room's newest id; 0 when it has none. */
  lastId(room: RoomId): Promise<MessageId>;
  /**
   * Moves a user's read marker in a room to `lastReadId` if that is higher;
   * resolves to the marker now (which may be higher than asked).
   */
  markRead(userId: UserId, room: RoomId, lastReadId: MessageId): Promise<MessageId>;
  /** A user's read marker in a room; 0 when none. */
  readMarker(userId: UserId, room: RoomId): Promise<MessageId>;
  /**
   * For each of `rooms`, the reader's marker and the chat messages above it
   * from others (not deleted), counted up to `cap`, with the texts that
   * contain one of `mentionNames` ignoring case (see UnreadCount). Rooms
   * with no marker count from `fromStart` (when listed there, as for a DM)
   * or not at all (unread 0).
   */
  unread(
    userId: UserId,
    rooms: readonly RoomId[],
    options: {
      readonly cap: number;
      readonly mentionNames: readonly string[];
      readonly fromStart: ReadonlySet<RoomId>;
    },
  ): Promise<UnreadCount[]>;
  /**
   * Removes what `policy` says, a small batch per transaction so appends are
   * never held up for long; resolves to how many messages were removed. Also
   * deletes every token whose expiresMs is at or before the store's clock now.
   * Change entries go with the messages they change (whatever their own id
   * or age), and so do those messages' reactions.
   */
  prune(policy: RetentionPolicy): Promise<number>;
  /**
   * Every room that has a stored message, a topic or a room record (made by
   * createRoom, settings or roles before its first message), sorted by name; at most
   * `limit`, after `afterRoom` (exclusive) when given. Rooms whose name starts
   * with "dm:" are included only when `dmsOf` is given and the name contains
   * it (as ":" + dmsOf, at the end or followed by ":").
   */
  listRooms(options: {
    readonly limit: number;
    readonly afterRoom?: RoomId;
    readonly dmsOf?: UserId;
  }): Promise<RoomSummary[]>;
  /** Sets a room's topic ("" clears it). */
  setTopic(room: RoomId, topic: string): Promise<void>;
  /** A room's topic; "" when none. */
  topic(room: RoomId): Promise<string>;
  /** Stores a new account; resolves false, storing nothing, when its nameKey or userId is taken. */
  createAccount(account: Account): Promise<boolean>;
  /** The account with this nameKey, if any. */
  accountByName(nameKey: string): Promise<Account | undefined>;
  /** The account with this user id, if any. */
  accountById(userId: UserId): Promise<Account | undefined>;
  saveToken(token: TokenRecord): Promise<void>;
  /** The account a token hash belongs to, and when the token expires, while expiresMs > nowMs. */
  tokenAccount(tokenHash: string, nowMs: number): Promise<TokenOwner | undefined>;
  /** Deletes the token; resolves whether it existed. */
  revokeToken(tokenHash: string): Promise<boolean>;
  close(): Promise<void>;
}
