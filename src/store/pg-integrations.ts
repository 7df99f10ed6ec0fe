// The PostgreSQL store's integration SQL (schema version 7's tables); PgStore
// runs each call through its call tracking (see IntegrationCalls). Several
// nodes share these rows, so what must happen once (a digest taken, a lease
// granted) is decided inside one statement.

import type pg from "pg";
import { checkLimit } from "./governance-rows.ts";
import {
  BOT_COLUMNS,
  BOT_SELECT,
  botValues,
  toBot,
  toBotCursor,
  toLevelMap,
} from "./integration-rows.ts";
import { inPgTransaction } from "./pg-transaction.ts";
import { ACCOUNT_COLUMNS } from "./rows.ts";
import type {
  Account,
  BotCursor,
  BotRecord,
  IntegrationStore,
  MessageId,
  NotifyLevel,
  RoomId,
  UserId,
} from "./store.ts";

/** Bots, their cursors and leases, notification levels, emails and digests on PostgreSQL. */
export class PgIntegrations implements IntegrationStore {
  readonly #pool: pg.Pool;
  readonly #s: string;
  readonly #fromBots: string;

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool;
    this.#s = schema;
    this.#fromBots = `FROM ${schema}.bots AS b JOIN ${schema}.accounts AS a ON a.user_id = b.user_id`;
  }

  // A second bot of a taken name waits on the unique index for the first's
  // transaction, then inserts nothing, and stores nothing else either.
  createBot(account: Account, bot: BotRecord, cursors: readonly BotCursor[]): Promise<boolean> {
    const s = this.#s;
    return inPgTransaction(this.#pool, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO ${s}.accounts (${ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [
          account.userId,
          account.username,
          account.nameKey,
          account.passwordHash,
          account.createdMs,
        ],
      );
      if (rowCount !== 1) return false;
      await client.query(
        `INSERT INTO ${s}.bots (${BOT_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [...botValues(bot)],
      );
      if (cursors.length > 0) {
        await client.query(
          `INSERT INTO ${s}.bot_cursors (user_id, room, delivered_id)
           SELECT $1, room, delivered_id FROM unnest($2::text[], $3::bigint[]) AS c(room, delivered_id)`,
          [bot.userId, cursors.map((c) => c.room), cursors.map((c) => c.deliveredId)],
        );
      }
      return true;
    });
  }

  async bot(userId: UserId): Promise<BotRecord | undefined> {
    const rows = await this.#rows(`SELECT ${BOT_SELECT} ${this.#fromBots} WHERE b.user_id = $1`, [
      userId,
    ]);
    return rows[0] ? toBot(rows[0]) : undefined;
  }

  // A revoked bot's hash is "", which no token hashes to; the check keeps it so.
  async botByToken(tokenHash: string): Promise<BotRecord | undefined> {
    if (tokenHash === "") return undefined;
    const rows = await this.#rows(
      `SELECT ${BOT_SELECT} ${this.#fromBots} WHERE b.token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ? toBot(rows[0]) : undefined;
  }

  async bots(ownerId: UserId | undefined): Promise<BotRecord[]> {
    const rows = await this.#rows(
      `SELECT ${BOT_SELECT} ${this.#fromBots}
       WHERE $1::text IS NULL OR b.owner_id = $1 ORDER BY b.created_ms, b.user_id`,
      [ownerId ?? null],
    );
    return rows.map(toBot);
  }

  async outgoingBots(): Promise<BotRecord[]> {
    const rows = await this.#rows(
      `SELECT ${BOT_SELECT} ${this.#fromBots}
       WHERE b.out_url <> '' AND b.token_hash <> '' AND b.revoked_ms = 0
       ORDER BY b.created_ms, b.user_id`,
      [],
    );
    return rows.map(toBot);
  }

  async setBotToken(
    userId: UserId,
    tokenHash: string,
    revokedMs: number,
  ): Promise<BotRecord | undefined> {
    const s = this.#s;
    const rows = await this.#rows(
      `UPDATE ${s}.bots AS b SET token_hash = $2, revoked_ms = $3
       FROM ${s}.accounts AS a WHERE a.user_id = b.user_id AND b.user_id = $1
       RETURNING ${BOT_SELECT}`,
      [userId, tokenHash, revokedMs],
    );
    return rows[0] ? toBot(rows[0]) : undefined;
  }

  async botCursors(userId: UserId): Promise<BotCursor[]> {
    const rows = await this.#rows(
      `SELECT room, delivered_id FROM ${this.#s}.bot_cursors WHERE user_id = $1 ORDER BY room`,
      [userId],
    );
    return rows.map(toBotCursor);
  }

  // Only for a bot that exists (held until the row is in, so a deletion at
  // the same time takes it along), and never back.
  async advanceBotCursor(userId: UserId, room: RoomId, deliveredId: MessageId): Promise<void> {
    const s = this.#s;
    await this.#pool.query(
      `INSERT INTO ${s}.bot_cursors AS c (user_id, room, delivered_id)
       SELECT $1::text, $2::text, $3::bigint
       WHERE EXISTS (SELECT 1 FROM ${s}.bots WHERE user_id = $1 FOR SHARE)
       ON CONFLICT (user_id, room) DO UPDATE SET
         delivered_id = greatest(c.delivered_id, excluded.delivered_id)`,
      [userId, room, deliveredId],
    );
  }

  // One conditional UPDATE: two nodes asking at once are ordered by the row's
  // lock, and the second sees the first's lease.
  async leaseBot(userId: UserId, node: string, nowMs: number, leaseMs: number): Promise<boolean> {
    const rows = await this.#rows(
      `UPDATE ${this.#s}.bots SET lease_node = $2, lease_until_ms = $3::bigint + $4::bigint
       WHERE user_id = $1 AND (lease_node = $2 OR lease_until_ms <= $3)
       RETURNING user_id`,
      [userId, node, nowMs, leaseMs],
    );
    return rows.length > 0;
  }

  async setBotError(userId: UserId, error: string, atMs: number): Promise<void> {
    await this.#pool.query(
      `UPDATE ${this.#s}.bots SET last_error = $2, last_error_ms = $3 WHERE user_id = $1`,
      [userId, error, atMs],
    );
  }

  async setNotify(userId: UserId, room: RoomId, level: NotifyLevel): Promise<void> {
    const s = this.#s;
    if (level === "mentions") {
      await this.#pool.query(`DELETE FROM ${s}.notify_levels WHERE user_id = $1 AND room = $2`, [
        userId,
        room,
      ]);
      return;
    }
    await this.#pool.query(
      `INSERT INTO ${s}.notify_levels (user_id, room, level) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, room) DO UPDATE SET level = excluded.level`,
      [userId, room, level],
    );
  }

  async notifyLevels(userId: UserId): Promise<ReadonlyMap<RoomId, NotifyLevel>> {
    const rows = await this.#rows(
      `SELECT room, level FROM ${this.#s}.notify_levels WHERE user_id = $1 ORDER BY room`,
      [userId],
    );
    return toLevelMap(rows, "room");
  }

  async notifyLevelsIn(
    room: RoomId,
    userIds: readonly UserId[],
  ): Promise<ReadonlyMap<UserId, NotifyLevel>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.#rows(
      `SELECT user_id, level FROM ${this.#s}.notify_levels
       WHERE room = $1 AND user_id = ANY($2::text[]) ORDER BY user_id`,
      [room, [...userIds]],
    );
    return toLevelMap(rows, "user_id");
  }

  // Only for an account that exists, held (FOR SHARE) until the address is
  // in, so that a deletion at the same time takes the address with it.
  async setEmail(userId: UserId, email: string): Promise<void> {
    const s = this.#s;
    if (email === "") {
      await this.#pool.query(`DELETE FROM ${s}.account_emails WHERE user_id = $1`, [userId]);
      return;
    }
    await this.#pool.query(
      `INSERT INTO ${s}.account_emails (user_id, email)
       SELECT $1::text, $2::text
       WHERE EXISTS (SELECT 1 FROM ${s}.accounts WHERE user_id = $1 FOR SHARE)
       ON CONFLICT (user_id) DO UPDATE SET email = excluded.email`,
      [userId, email],
    );
  }

  async emailOf(userId: UserId): Promise<string> {
    const rows = await this.#rows(
      `SELECT email FROM ${this.#s}.account_emails WHERE user_id = $1`,
      [userId],
    );
    return rows[0] ? String(rows[0].email) : "";
  }

  async scheduleDigest(userId: UserId, dueMs: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO ${this.#s}.email_digests (user_id, due_ms) VALUES ($1, $2)
       ON CONFLICT (user_id) DO NOTHING`,
      [userId, dueMs],
    );
  }

  // Rows another node's statement holds are passed over rather than waited
  // for, and what is answered was deleted by this statement: of many nodes
  // asking at once each digest goes to exactly one. Oldest due first.
  async takeDueDigests(nowMs: number, limit: number): Promise<UserId[]> {
    checkLimit(limit);
    const s = this.#s;
    const rows = await this.#rows(
      `DELETE FROM ${s}.email_digests WHERE user_id IN (
         SELECT user_id FROM ${s}.email_digests WHERE due_ms <= $1
         ORDER BY due_ms, user_id LIMIT $2 FOR UPDATE SKIP LOCKED
       ) RETURNING user_id`,
      [nowMs, limit],
    );
    return rows.map((row) => String(row.user_id));
  }

  async nextDigestMs(): Promise<number | undefined> {
    const rows = await this.#rows(`SELECT min(due_ms) AS due FROM ${this.#s}.email_digests`, []);
    const due = rows[0]?.due;
    return due === null || due === undefined ? undefined : Number(due);
  }

  async #rows(sql: string, values: unknown[]): Promise<pg.QueryResultRow[]> {
    return (await this.#pool.query(sql, values)).rows;
  }
}
