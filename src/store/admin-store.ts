import type { Account, MessageId, RoomId, StoredMessage, UserId } from "./store.ts";

/** An account as an admin lists it. */
export interface AccountListing extends Account {
  readonly disabled: boolean;
}

/** A room as an export carries it, before its messages. */
export interface ExportedRoom {
  readonly room: RoomId;
  readonly topic: string;
  /** Undefined when the room has no record (nobody created it or set its kind). */
  readonly record:
    | {
        readonly owner: UserId;
        readonly inviteOnly: boolean;
        readonly readOnly: boolean;
        readonly createdMs: number;
      }
    | undefined;
  /** Stored roles, by user id. */
  readonly roles: readonly { readonly userId: UserId; readonly role: string }[];
}

/**
 * A chat or system message in its current state, with who reacted with what
 * (an export must restore `mine` for every reader, not only counts). Change
 * entries are not exported: the state they made is.
 */
export interface ExportedMessage extends StoredMessage {
  /** Each emoji in first-added order, with its users in the order they reacted. */
  readonly reactors: readonly { readonly emoji: string; readonly users: readonly UserId[] }[];
}

/**
 * What server admins do to accounts and whole rooms, and the copies made of
 * a history: the part of the Store behind `grpc-chat admin`.
 * Implementations must pass `test/store-admin-contract.ts`.
 */
export interface AdminStore {
  /** Accounts sorted by nameKey, after `afterNameKey` (exclusive) when given; at most `limit`. */
  listAccounts(options: {
    readonly limit: number;
    readonly afterNameKey?: string;
  }): Promise<AccountListing[]>;
  /** Whether the account is disabled; unknown accounts are not. */
  accountDisabled(userId: UserId): Promise<boolean>;
  /** Sets it; resolves false when there is no such account. Disabling deletes the account's tokens. */
  setDisabled(userId: UserId, disabled: boolean): Promise<boolean>;
  /**
   * Deletes the account, its tokens, its reset codes, its roles and its admin
   * grant; its messages stay. Resolves false when there was none.
   */
  deleteAccount(userId: UserId): Promise<boolean>;
  /** Replaces the password's hash and deletes the account's tokens. */
  setPasswordHash(userId: UserId, passwordHash: string): Promise<boolean>;
  /** Stores a one-time reset code (by its hash), replacing the account's earlier one. */
  saveResetCode(code: {
    readonly codeHash: string;
    readonly userId: UserId;
    readonly expiresMs: number;
  }): Promise<void>;
  /** Uses a reset code: deletes it and resolves to its account while expiresMs > nowMs. */
  takeResetCode(codeHash: string, nowMs: number): Promise<UserId | undefined>;
  /**
   * Deletes everything of a room: messages and change entries, reactions,
   * read markers, topic, record, roles, bans and mutes, invites, reports.
   * Resolves to how many messages (chat and system) were removed.
   */
  deleteRoom(room: RoomId): Promise<number>;
  /** Every room with a message, a topic or a record, sorted by name (dm rooms included). */
  exportRooms(): Promise<ExportedRoom[]>;
  /** Chat and system messages above `afterId`, oldest first, at most `limit`, in current state. */
  exportMessages(room: RoomId, afterId: MessageId, limit: number): Promise<ExportedMessage[]>;
  /**
   * Starts loading a room as exported: its record, roles and topic. The room
   * must have no message yet, else ImportConflictError and nothing is stored.
   */
  importRoom(room: ExportedRoom): Promise<void>;
  /**
   * Loads messages as exported, with their ids and times, reactions and their
   * users: each id above the room's newest, in ascending order, else
   * ImportConflictError and nothing of the call is stored. The room's next
   * id continues after the highest.
   */
  importMessages(room: RoomId, messages: readonly ExportedMessage[]): Promise<void>;
  /**
   * Writes a consistent copy of the whole database to `path` (a new file)
   * while appends go on. PostgreSQL has none (pg_dump is the tool there):
   * it rejects with BackupUnsupportedError.
   */
  backup(path: string): Promise<void>;
}

/** The room already has history: an import would mix two histories. */
export class ImportConflictError extends Error {
  readonly room: RoomId;

  constructor(room: RoomId) {
    super(`The room ${room} already has messages; import into a server where it has none.`);
    this.name = "ImportConflictError";
    this.room = room;
  }
}

export class BackupUnsupportedError extends Error {
  constructor() {
    super("This server's history is in PostgreSQL: back it up with pg_dump (see docs/backup.md).");
    this.name = "BackupUnsupportedError";
  }
}
