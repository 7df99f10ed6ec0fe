/** A room's name. The seed's RPCs all use the room "lobby". */
export type RoomId = string;
/** Who a message or a stream belongs to. */
export type UserId = string;
/** Server-assigned, per room: 1, 2, 3, ... never reused. */
export type MessageId = number;

export type MessageKind = "chat" | "system";

/** A message on its way into the store: no id or time yet. */
export interface NewMessage {
  readonly room: RoomId;
  readonly userId: UserId;
  readonly username: string;
  readonly text: string;
  readonly kind: MessageKind;
  /** The sender's idempotency key; empty when it gave none. */
  readonly clientMsgId: string;
}

/** A message as the store keeps it and every reader sees it. */
export interface StoredMessage extends NewMessage {
  readonly id: MessageId;
  /** Milliseconds since the Unix epoch, from the server's clock. */
  readonly timeMs: number;
}

export interface AppendResult {
  readonly message: StoredMessage;
  /**
   * True when the same user already sent this client_msg_id in this room; the
   * message is then the one stored the first time, and nothing new was stored.
   */
  readonly duplicate: boolean;
}

export interface HistoryOptions {
  /** Most messages to return. */
  readonly limit: number;
  /** Only messages with a smaller id; 0 or absent for the newest. */
  readonly beforeId?: MessageId;
  readonly includeSystem: boolean;
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
export interface Store {
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
   */
  append(messages: readonly NewMessage[]): Promise<AppendResult[]>;
  /** The newest messages before `beforeId`, newest first. */
  history(room: RoomId, options: HistoryOptions): Promise<StoredMessage[]>;
  /** Messages with an id above `afterId`, oldest first, at most `limit`. */
  after(
    room: RoomId,
    afterId: MessageId,
    limit: number,
    includeSystem?: boolean,
  ): Promise<AfterPage>;
  /** The room's newest id; 0 when it has none. */
  lastId(room: RoomId): Promise<MessageId>;
  /**
   * Removes what `policy` says, a small batch per transaction so appends are
   * never held up for long; resolves to how many messages were removed. Also
   * deletes every token whose expiresMs is at or before the store's clock now.
   */
  prune(policy: RetentionPolicy): Promise<number>;
  /**
   * Every room that has a stored message or a topic, sorted by name; at most
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
