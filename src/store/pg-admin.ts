// The PostgreSQL store's AdminStore SQL (schema version 4's disabled flag
// and reset codes, and every table an account or a room has rows in);
// PgStore runs each call through its call tracking (see AdminCalls).

import type pg from "pg";
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
import { inPgTransaction } from "./pg-transaction.ts";
import { MESSAGE_COLUMNS } from "./rows.ts";
import {
  type AccountListing,
  type AdminStore,
  BackupUnsupportedError,
  type ExportedMessage,
  type ExportedRoom,
  ImportConflictError,
  type MessageId,
  type RoomId,
  type UserId,
} from "./store.ts";

/** Accounts, whole rooms, exports and imports on PostgreSQL; no backup (pg_dump is the tool). */
export class PgAdmin implements AdminStore {
  readonly #pool: pg.Pool;
  readonly #s: string;

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool;
    this.#s = schema;
  }

  // Byte order, as SQLite sorts, served by accounts_name_key_c.
  async listAccounts(options: Parameters<AdminStore["listAccounts"]>[0]) {
    checkLimit(options.limit);
    const rows = await this.#rows(
      `SELECT ${LISTING_COLUMNS} FROM ${this.#s}.accounts
       WHERE $1::text IS NULL OR name_key COLLATE "C" > $1
       ORDER BY name_key COLLATE "C" LIMIT $2`,
      [options.afterNameKey ?? null, options.limit],
    );
    return rows.map(toAccountListing) satisfies AccountListing[];
  }

  async accountDisabled(userId: UserId): Promise<boolean> {
    const rows = await this.#rows(`SELECT disabled FROM ${this.#s}.accounts WHERE user_id = $1`, [
      userId,
    ]);
    return rows[0]?.disabled === true;
  }

  setDisabled(userId: UserId, disabled: boolean): Promise<boolean> {
    return inPgTransaction(this.#pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE ${this.#s}.accounts SET disabled = $2 WHERE user_id = $1`,
        [userId, disabled],
      );
      if (rowCount !== 1) return false;
      if (disabled) await this.#deleteTokens(client, userId);
      return true;
    });
  }

  deleteAccount(userId: UserId): Promise<boolean> {
    const s = this.#s;
    return inPgTransaction(this.#pool, async (client) => {
      const { rowCount } = await client.query(`DELETE FROM ${s}.accounts WHERE user_id = $1`, [
        userId,
      ]);
      if (rowCount !== 1) return false;
      // Its bots go with it: nobody would be left who may revoke them but an
      // admin. (A bot whose creation commits while this runs is not seen, and
      // stays for an admin to revoke.)
      const bots = await client.query(
        `DELETE FROM ${s}.accounts WHERE user_id IN
           (SELECT user_id FROM ${s}.bots WHERE owner_id = $1)
         RETURNING user_id`,
        [userId],
      );
      for (const id of [userId, ...bots.rows.map((row) => String(row.user_id))]) {
        await this.#deleteTokens(client, id);
        for (const table of ACCOUNT_TABLES) {
          await client.query(`DELETE FROM ${s}.${table} WHERE user_id = $1`, [id]);
        }
        // Its owner role went with the rest: the room is left to the server's
        // admins, as when an owner steps down.
        await client.query(`UPDATE ${s}.room_records SET owner = '' WHERE owner = $1`, [id]);
      }
      return true;
    });
  }

  setPasswordHash(userId: UserId, passwordHash: string): Promise<boolean> {
    return inPgTransaction(this.#pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE ${this.#s}.accounts SET password_hash = $2 WHERE user_id = $1`,
        [userId, passwordHash],
      );
      if (rowCount !== 1) return false;
      await this.#deleteTokens(client, userId);
      return true;
    });
  }

  // Only for an account that exists, held (FOR SHARE) until the code is in,
  // so that a deletion at the same time takes the code with it.
  async saveResetCode(code: Parameters<AdminStore["saveResetCode"]>[0]): Promise<void> {
    const s = this.#s;
    await this.#pool.query(
      `INSERT INTO ${s}.reset_codes (code_hash, user_id, expires_ms)
       SELECT $1::text, $2::text, $3::bigint
       WHERE EXISTS (SELECT 1 FROM ${s}.accounts WHERE user_id = $2 FOR SHARE)
       ON CONFLICT (user_id) DO UPDATE SET
         code_hash = excluded.code_hash, expires_ms = excluded.expires_ms`,
      [code.codeHash, code.userId, code.expiresMs],
    );
  }

  // One statement: a code is taken once, however many ask at once.
  async takeResetCode(codeHash: string, nowMs: number): Promise<UserId | undefined> {
    const rows = await this.#rows(
      `DELETE FROM ${this.#s}.reset_codes WHERE code_hash = $1 AND expires_ms > $2
       RETURNING user_id`,
      [codeHash, nowMs],
    );
    return rows[0] ? String(rows[0].user_id) : undefined;
  }

  /**
   * The room's `rooms` row is locked first, as appends lock it: an append in
   * flight is deleted with the rest, and one after starts the name afresh.
   */
  deleteRoom(room: RoomId): Promise<number> {
    const s = this.#s;
    return inPgTransaction(this.#pool, async (client) => {
      await client.query(`SELECT 1 FROM ${s}.rooms WHERE room = $1 FOR UPDATE`, [room]);
      const counted = await client.query(
        `SELECT count(*) AS n FROM ${s}.messages WHERE room = $1 AND kind IN ('chat', 'system')`,
        [room],
      );
      for (const table of ROOM_TABLES) {
        await client.query(`DELETE FROM ${s}.${table} WHERE room = $1`, [room]);
      }
      return Number(counted.rows[0]?.n ?? 0);
    });
  }

  exportRooms(): Promise<ExportedRoom[]> {
    const s = this.#s;
    // One snapshot for the three reads.
    return inPgTransaction(
      this.#pool,
      async (client) => {
        const rooms = await client.query(
          `SELECT room, topic FROM ${s}.rooms AS r
         WHERE topic <> '' OR EXISTS (SELECT 1 FROM ${s}.messages AS m WHERE m.room = r.room)
         UNION
         SELECT c.room, coalesce((SELECT topic FROM ${s}.rooms AS t WHERE t.room = c.room), '')
         FROM ${s}.room_records AS c
         ORDER BY room`,
        );
        const records = await client.query(`SELECT ${ROOM_RECORD_COLUMNS} FROM ${s}.room_records`);
        const roles = await client.query(
          `SELECT room, user_id, role FROM ${s}.room_roles ORDER BY room, user_id`,
        );
        return toExportedRooms(
          rooms.rows.map((row) => ({ room: String(row.room), topic: String(row.topic) })),
          records.rows,
          roles.rows,
        );
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    );
  }

  async exportMessages(
    room: RoomId,
    afterId: MessageId,
    limit: number,
  ): Promise<ExportedMessage[]> {
    checkLimit(limit);
    const s = this.#s;
    // The messages and their reactions in one snapshot.
    return inPgTransaction(
      this.#pool,
      async (client) => {
        const { rows } = await client.query(
          `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages
         WHERE room = $1 AND id > $2 AND kind IN ('chat', 'system') ORDER BY id LIMIT $3`,
          [room, afterId, limit],
        );
        const first = rows[0];
        const last = rows.at(-1);
        if (!first || !last) return [];
        // Each reaction with the react entry that made it; the predicate
        // repeats messages_changes' own so that index finds the entries.
        const reactions = await client.query(
          `SELECT r.message_id, r.emoji, r.user_id, r.added_id, (
           SELECT max(e.id) FROM ${s}.messages AS e
           WHERE e.room = r.room AND e.ref_id = r.message_id AND e.ref_id <> 0
             AND e.kind <> 'chat' AND e.kind = 'react' AND e.text = r.emoji
             AND e.user_id = r.user_id
         ) AS reacted
         FROM ${s}.reactions AS r WHERE r.room = $1 AND r.message_id BETWEEN $2 AND $3`,
          [room, first.id, last.id],
        );
        const reactors = collectReactors(reactions.rows as ReactorRow[]);
        return rows.map((row) => toExportedMessage(row, reactors.get(Number(row.id))));
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    );
  }

  importRoom(exported: ExportedRoom): Promise<void> {
    const { room, topic, record, roles } = exported;
    const s = this.#s;
    return inPgTransaction(this.#pool, async (client) => {
      await this.#lockRoom(client, room);
      const talked = await client.query(`SELECT 1 FROM ${s}.messages WHERE room = $1 LIMIT 1`, [
        room,
      ]);
      if (talked.rowCount !== 0) throw new ImportConflictError(room);
      await client.query(`UPDATE ${s}.rooms SET topic = $2 WHERE room = $1`, [room, topic]);
      await client.query(`DELETE FROM ${s}.room_records WHERE room = $1`, [room]);
      if (record) {
        await client.query(
          `INSERT INTO ${s}.room_records (${ROOM_RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`,
          [room, record.owner, record.inviteOnly, record.readOnly, record.createdMs],
        );
      }
      await client.query(`DELETE FROM ${s}.room_roles WHERE room = $1`, [room]);
      await client.query(
        `INSERT INTO ${s}.room_roles (room, user_id, role)
         SELECT $1, * FROM unnest($2::text[], $3::text[])`,
        [room, roles.map((r) => r.userId), roles.map((r) => r.role)],
      );
    });
  }

  importMessages(room: RoomId, messages: readonly ExportedMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const s = this.#s;
    return inPgTransaction(this.#pool, async (client) => {
      const newest = await this.#lockRoom(client, room);
      checkImport(room, messages, newest);
      const last = messages.at(-1);
      if (!last) return;
      const rows = messages.map((message) => importedValues(room, message));
      const column = (i: number) => rows.map((row) => row[i]);
      await client.query(
        `INSERT INTO ${s}.messages (${IMPORT_COLUMNS})
         SELECT $1, t.*, 0 FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[],
           $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::boolean[]) AS t`,
        [room, ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(column)],
      );
      const reactions = messages.flatMap((message) =>
        importedReactions(message).map((r) => ({ ...r, messageId: message.id })),
      );
      await client.query(
        `INSERT INTO ${s}.reactions (room, message_id, emoji, user_id, added_id)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[])`,
        [
          room,
          reactions.map((r) => r.messageId),
          reactions.map((r) => r.emoji),
          reactions.map((r) => r.userId),
          reactions.map((r) => r.addedId),
        ],
      );
      await client.query(`UPDATE ${s}.rooms SET last_id = $2 WHERE room = $1`, [room, last.id]);
    });
  }

  backup(_path: string): Promise<void> {
    return Promise.reject(new BackupUnsupportedError());
  }

  /**
   * Makes the room's `rooms` row if missing and locks it, as appends do, so
   * no append to the room comes between the check and the import; resolves
   * to the room's newest id.
   */
  async #lockRoom(client: pg.PoolClient, room: RoomId): Promise<MessageId> {
    await client.query(`INSERT INTO ${this.#s}.rooms (room) VALUES ($1) ON CONFLICT DO NOTHING`, [
      room,
    ]);
    const { rows } = await client.query(
      `SELECT last_id FROM ${this.#s}.rooms WHERE room = $1 FOR UPDATE`,
      [room],
    );
    return Number(rows[0]?.last_id ?? 0);
  }

  async #deleteTokens(client: pg.PoolClient, userId: UserId): Promise<void> {
    await client.query(`DELETE FROM ${this.#s}.tokens WHERE user_id = $1`, [userId]);
  }

  async #rows(sql: string, values: unknown[]): Promise<pg.QueryResultRow[]> {
    return (await this.#pool.query(sql, values)).rows;
  }
}
