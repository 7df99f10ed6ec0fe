// The SQLite store's AdminStore SQL (migration 7's disabled flag and reset
// codes, and every table an account or a room has rows in), run on the
// worker's connection; calls arrive as AdminCall data (see dispatchAdmin).

import type { DatabaseSync } from "node:sqlite";
import { type AdminCall, dispatchAdmin, type SyncAdmin } from "./admin-calls.ts";
import {
  ACCOUNT_TABLES,
  checkImport,
  collectReactors,
  IMPORT_COLUMNS,
  importedReactions,
  importedValues,
  LISTING_COLUMNS,
  type ReactorRow,
  ROOM_TABLES,
  toAccountListing,
  toExportedMessage,
  toExportedRooms,
} from "./admin-rows.ts";
import { checkLimit, ROOM_RECORD_COLUMNS } from "./governance-rows.ts";
import { MESSAGE_COLUMNS } from "./rows.ts";
import { type BackupTurns, SqliteBackup } from "./sqlite-backup.ts";
import { SqliteStatements } from "./sqlite-statements.ts";
import {
  type AccountListing,
  type AdminStore,
  type ExportedMessage,
  type ExportedRoom,
  ImportConflictError,
  type MessageId,
  type RoomId,
  type UserId,
} from "./store.ts";

/** What the message database keeps about a room's ids that this SQL changes under it. */
export interface AdminHooks {
  /** The room's newest id ever given, as appends see it. */
  lastId(room: RoomId): MessageId;
  /** The room's ids changed (an import): what is cached of them is stale. */
  forgetLastId(room: RoomId): void;
  /** The room is gone: a prune under way must not take its name's new messages for old ones. */
  roomDeleted(room: RoomId): void;
  /** Puts the texts written in this transaction into the search index (see SearchIndex.flush). */
  indexForSearch(): void;
}

/**
 * Accounts, whole rooms, exports, imports and backups. All rare, so
 * statements are prepared on first use and kept, as SqliteGovernance does.
 */
export class SqliteAdmin implements SyncAdmin {
  readonly #db: DatabaseSync;
  readonly #hooks: AdminHooks;
  readonly #backups: SqliteBackup;
  readonly #q: SqliteStatements;

  constructor(db: DatabaseSync, hooks: AdminHooks, turns: BackupTurns) {
    this.#db = db;
    this.#q = new SqliteStatements(db);
    this.#hooks = hooks;
    this.#backups = new SqliteBackup(db, turns);
  }

  /** One call that crossed from the main thread; a backup answers with a promise. */
  run(call: AdminCall): unknown {
    return dispatchAdmin(this, call);
  }

  listAccounts(options: Parameters<AdminStore["listAccounts"]>[0]): AccountListing[] {
    const { limit, afterNameKey } = options;
    checkLimit(limit);
    const rows =
      afterNameKey === undefined
        ? this.#q
            .sql(`SELECT ${LISTING_COLUMNS} FROM accounts ORDER BY name_key LIMIT ?`)
            .all(limit)
        : this.#q
            .sql(
              `SELECT ${LISTING_COLUMNS} FROM accounts WHERE name_key > ? ORDER BY name_key LIMIT ?`,
            )
            .all(afterNameKey, limit);
    return rows.map(toAccountListing);
  }

  accountDisabled(userId: UserId): boolean {
    const row = this.#q.sql("SELECT disabled FROM accounts WHERE user_id = ?").get(userId);
    return Number(row?.disabled ?? 0) === 1;
  }

  setDisabled(userId: UserId, disabled: boolean): boolean {
    return this.#q.transaction(() => {
      const { changes } = this.#q
        .sql("UPDATE accounts SET disabled = ? WHERE user_id = ?")
        .run(disabled ? 1 : 0, userId);
      if (Number(changes) === 0) return false;
      if (disabled) this.#deleteTokens(userId);
      return true;
    });
  }

  deleteAccount(userId: UserId): boolean {
    return this.#q.transaction(() => {
      const { changes } = this.#q.sql("DELETE FROM accounts WHERE user_id = ?").run(userId);
      if (Number(changes) === 0) return false;
      // Its bots go with it: nobody would be left who may revoke them.
      const bots = this.#q
        .sql("SELECT user_id FROM bots WHERE owner_id = ?")
        .all(userId)
        .map((row) => String(row.user_id));
      for (const bot of bots) this.#q.sql("DELETE FROM accounts WHERE user_id = ?").run(bot);
      for (const id of [userId, ...bots]) this.#deleteRowsOf(id);
      return true;
    });
  }

  /** Everything of an account but its `accounts` row. */
  #deleteRowsOf(userId: UserId): void {
    this.#deleteTokens(userId);
    for (const table of ACCOUNT_TABLES) {
      this.#q.sql(`DELETE FROM ${table} WHERE user_id = ?`).run(userId);
    }
    // Its owner role went with the rest: the room is left to the server's
    // admins, as when an owner steps down.
    this.#q.sql("UPDATE room_records SET owner = '' WHERE owner = ?").run(userId);
  }

  setPasswordHash(userId: UserId, passwordHash: string): boolean {
    return this.#q.transaction(() => {
      const { changes } = this.#q
        .sql("UPDATE accounts SET password_hash = ? WHERE user_id = ?")
        .run(passwordHash, userId);
      if (Number(changes) === 0) return false;
      this.#deleteTokens(userId);
      return true;
    });
  }

  // Only for an account that exists: one deleted meanwhile gets no code back.
  saveResetCode(code: Parameters<AdminStore["saveResetCode"]>[0]): void {
    this.#q
      .sql(
        `INSERT INTO reset_codes (code_hash, user_id, expires_ms)
       SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM accounts WHERE user_id = ?2)
       ON CONFLICT (user_id) DO UPDATE SET
         code_hash = excluded.code_hash, expires_ms = excluded.expires_ms`,
      )
      .run(code.codeHash, code.userId, code.expiresMs);
  }

  // One statement: a code is taken once, however many ask at once.
  takeResetCode(codeHash: string, nowMs: number): UserId | undefined {
    const row = this.#q
      .sql("DELETE FROM reset_codes WHERE code_hash = ? AND expires_ms > ? RETURNING user_id")
      .get(codeHash, nowMs);
    return row ? String(row.user_id) : undefined;
  }

  deleteRoom(room: RoomId): number {
    let removed: number;
    try {
      removed = this.#q.transaction(() => {
        const counted = this.#q
          .sql("SELECT count(*) AS n FROM messages WHERE room = ? AND kind IN ('chat', 'system')")
          .get(room);
        for (const table of ROOM_TABLES)
          this.#q.sql(`DELETE FROM ${table} WHERE room = ?`).run(room);
        return Number(counted?.n ?? 0);
      });
    } finally {
      this.#hooks.forgetLastId(room);
    }
    this.#hooks.roomDeleted(room);
    // secure_delete zeroed the texts in the file, but the WAL holds them
    // until a checkpoint; a failed one is retried by the next that erases.
    try {
      this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {}
    return removed;
  }

  exportRooms(): ExportedRoom[] {
    // Rooms with messages by one primary-key seek each, never a scan.
    const rooms = this.#q
      .sql(`
WITH RECURSIVE r(room) AS (
  SELECT min(room) FROM messages
  UNION ALL
  SELECT (SELECT min(room) FROM messages WHERE room > r.room) FROM r WHERE r.room IS NOT NULL
), named(room) AS (
  SELECT room FROM r WHERE room IS NOT NULL
  UNION SELECT room FROM rooms WHERE topic <> ''
  UNION SELECT room FROM room_records
)
SELECT n.room, coalesce(t.topic, '') AS topic FROM named n LEFT JOIN rooms t ON t.room = n.room
ORDER BY n.room`)
      .all()
      .map((row) => ({ room: String(row.room), topic: String(row.topic) }));
    return toExportedRooms(
      rooms,
      this.#q.sql(`SELECT ${ROOM_RECORD_COLUMNS} FROM room_records`).all(),
      this.#q.sql("SELECT room, user_id, role FROM room_roles ORDER BY room, user_id").all(),
    );
  }

  exportMessages(room: RoomId, afterId: MessageId, limit: number): ExportedMessage[] {
    checkLimit(limit);
    const rows = this.#q
      .sql(
        `SELECT ${MESSAGE_COLUMNS} FROM messages
       WHERE room = ? AND id > ? AND kind IN ('chat', 'system') ORDER BY id LIMIT ?`,
      )
      .all(room, afterId, limit);
    const first = rows[0];
    const last = rows.at(-1);
    if (!first || !last) return [];
    // Each reaction with the react entry that made it; the predicate repeats
    // messages_changes' own so that index finds the entries.
    const reactions = this.#q
      .sql(
        `SELECT r.message_id, r.emoji, r.user_id, r.added_id, (
         SELECT max(e.id) FROM messages e
         WHERE e.room = r.room AND e.ref_id = r.message_id AND e.ref_id <> 0 AND e.kind <> 'chat'
           AND e.kind = 'react' AND e.text = r.emoji AND e.user_id = r.user_id
       ) AS reacted
       FROM reactions r WHERE r.room = ? AND r.message_id BETWEEN ? AND ?`,
      )
      .all(room, Number(first.id), Number(last.id)) as unknown as ReactorRow[];
    const reactors = collectReactors(reactions);
    return rows.map((row) => toExportedMessage(row, reactors.get(Number(row.id))));
  }

  importRoom(exported: ExportedRoom): void {
    const { room, topic, record, roles } = exported;
    this.#q.transaction(() => {
      if (this.#q.sql("SELECT 1 FROM messages WHERE room = ? LIMIT 1").get(room)) {
        throw new ImportConflictError(room);
      }
      this.#q
        .sql(
          `INSERT INTO rooms (room, topic) VALUES (?, ?)
         ON CONFLICT (room) DO UPDATE SET topic = excluded.topic`,
        )
        .run(room, topic);
      if (record) {
        const { owner, inviteOnly, readOnly, createdMs } = record;
        this.#q
          .sql(
            `INSERT OR REPLACE INTO room_records (${ROOM_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?)`,
          )
          .run(room, owner, inviteOnly ? 1 : 0, readOnly ? 1 : 0, createdMs);
      } else this.#q.sql("DELETE FROM room_records WHERE room = ?").run(room);
      this.#q.sql("DELETE FROM room_roles WHERE room = ?").run(room);
      const putRole = this.#q.sql("INSERT INTO room_roles (room, user_id, role) VALUES (?, ?, ?)");
      for (const { userId, role } of roles) putRole.run(room, userId, role);
    });
  }

  importMessages(room: RoomId, messages: readonly ExportedMessage[]): void {
    if (messages.length === 0) return;
    const insert = this.#q.sql(
      `INSERT INTO messages (${IMPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const react = this.#q.sql(
      "INSERT INTO reactions (room, message_id, emoji, user_id, added_id) VALUES (?, ?, ?, ?, ?)",
    );
    try {
      this.#q.transaction(() => {
        checkImport(room, messages, this.#hooks.lastId(room));
        for (const message of messages) {
          insert.run(
            ...importedValues(room, message).map((v) => (typeof v === "boolean" ? +v : v)),
          );
          for (const { emoji, userId, addedId } of importedReactions(message)) {
            react.run(room, message.id, emoji, userId, addedId);
          }
        }
        this.#hooks.indexForSearch();
      });
    } finally {
      this.#hooks.forgetLastId(room);
    }
  }

  /** See SqliteBackup.write. */
  backup(path: string): Promise<void> {
    return this.#backups.write(path);
  }

  #deleteTokens(userId: UserId): void {
    this.#q.sql("DELETE FROM tokens WHERE user_id = ?").run(userId);
  }
}
