// The SQLite store's integration SQL (migration 10's tables), run on the
// worker's connection; calls arrive as IntegrationCall data (see
// dispatchIntegration).

import type { DatabaseSync } from "node:sqlite";
import { checkLimit } from "./governance-rows.ts";
import {
  dispatchIntegration,
  type IntegrationCall,
  type SyncIntegration,
} from "./integration-calls.ts";
import {
  BOT_COLUMNS,
  BOT_SELECT,
  botValues,
  toBot,
  toBotCursor,
  toLevelMap,
} from "./integration-rows.ts";
import { ACCOUNT_COLUMNS } from "./rows.ts";
import { SqliteStatements } from "./sqlite-statements.ts";
import type {
  Account,
  BotCursor,
  BotRecord,
  MessageId,
  NotifyLevel,
  RoomId,
  UserId,
} from "./store.ts";

const FROM_BOTS = "FROM bots b JOIN accounts a ON a.user_id = b.user_id";

/**
 * Bots, their cursors and leases, notification levels, emails and digests.
 * Statements are prepared on first use and kept, as SqliteGovernance does.
 */
export class SqliteIntegrations implements SyncIntegration {
  readonly #q: SqliteStatements;

  constructor(db: DatabaseSync) {
    this.#q = new SqliteStatements(db);
  }

  /** One call that crossed from the main thread. */
  run(call: IntegrationCall): unknown {
    return dispatchIntegration(this, call);
  }

  // The account is inserted as createAccount inserts one: without a conflict
  // target DO NOTHING covers both user_id and name_key, so a taken name stores nothing.
  createBot(account: Account, bot: BotRecord, cursors: readonly BotCursor[]): boolean {
    return this.#q.transaction(() => {
      const { changes } = this.#q
        .sql(
          `INSERT INTO accounts (${ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(
          account.userId,
          account.username,
          account.nameKey,
          account.passwordHash,
          account.createdMs,
        );
      if (Number(changes) === 0) return false;
      this.#q
        .sql(`INSERT INTO bots (${BOT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(...botValues(bot).map((v) => (typeof v === "boolean" ? +v : v)));
      const put = this.#q.sql(
        "INSERT INTO bot_cursors (user_id, room, delivered_id) VALUES (?, ?, ?)",
      );
      for (const { room, deliveredId } of cursors) put.run(bot.userId, room, deliveredId);
      return true;
    });
  }

  bot(userId: UserId): BotRecord | undefined {
    const row = this.#q.sql(`SELECT ${BOT_SELECT} ${FROM_BOTS} WHERE b.user_id = ?`).get(userId);
    return row ? toBot(row) : undefined;
  }

  // A revoked bot's hash is "", which no token hashes to; the check keeps it so.
  botByToken(tokenHash: string): BotRecord | undefined {
    if (tokenHash === "") return undefined;
    const row = this.#q
      .sql(`SELECT ${BOT_SELECT} ${FROM_BOTS} WHERE b.token_hash = ?`)
      .get(tokenHash);
    return row ? toBot(row) : undefined;
  }

  // Bots made in the same millisecond list in id order, the same on every engine.
  bots(ownerId: UserId | undefined): BotRecord[] {
    const rows =
      ownerId === undefined
        ? this.#q.sql(`SELECT ${BOT_SELECT} ${FROM_BOTS} ORDER BY b.created_ms, b.user_id`).all()
        : this.#q
            .sql(
              `SELECT ${BOT_SELECT} ${FROM_BOTS} WHERE b.owner_id = ? ORDER BY b.created_ms, b.user_id`,
            )
            .all(ownerId);
    return rows.map(toBot);
  }

  outgoingBots(): BotRecord[] {
    return this.#q
      .sql(
        `SELECT ${BOT_SELECT} ${FROM_BOTS}
       WHERE b.out_url <> '' AND b.token_hash <> '' AND b.revoked_ms = 0
       ORDER BY b.created_ms, b.user_id`,
      )
      .all()
      .map(toBot);
  }

  // RETURNING cannot read the joined account here, so the row is read after.
  setBotToken(userId: UserId, tokenHash: string, revokedMs: number): BotRecord | undefined {
    const { changes } = this.#q
      .sql("UPDATE bots SET token_hash = ?, revoked_ms = ? WHERE user_id = ?")
      .run(tokenHash, revokedMs, userId);
    return Number(changes) === 0 ? undefined : this.bot(userId);
  }

  botCursors(userId: UserId): BotCursor[] {
    return this.#q
      .sql("SELECT room, delivered_id FROM bot_cursors WHERE user_id = ? ORDER BY room")
      .all(userId)
      .map(toBotCursor);
  }

  // Only for a bot that exists, so a delivery that outlives its bot leaves no row.
  advanceBotCursor(userId: UserId, room: RoomId, deliveredId: MessageId): void {
    this.#q
      .sql(
        `INSERT INTO bot_cursors (user_id, room, delivered_id)
       SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM bots WHERE user_id = ?1)
       ON CONFLICT (user_id, room) DO UPDATE SET
         delivered_id = max(delivered_id, excluded.delivered_id)`,
      )
      .run(userId, room, deliveredId);
  }

  // One statement: the check and the grant cannot be split by another node's.
  leaseBot(userId: UserId, node: string, nowMs: number, leaseMs: number): boolean {
    const { changes } = this.#q
      .sql(
        `UPDATE bots SET lease_node = ?1, lease_until_ms = ?2 + ?3
       WHERE user_id = ?4 AND (lease_node = ?1 OR lease_until_ms <= ?2)`,
      )
      .run(node, nowMs, leaseMs, userId);
    return Number(changes) > 0;
  }

  setBotError(userId: UserId, error: string, atMs: number): void {
    this.#q
      .sql("UPDATE bots SET last_error = ?, last_error_ms = ? WHERE user_id = ?")
      .run(error, atMs, userId);
  }

  setNotify(userId: UserId, room: RoomId, level: NotifyLevel): void {
    if (level === "mentions") {
      this.#q.sql("DELETE FROM notify_levels WHERE user_id = ? AND room = ?").run(userId, room);
      return;
    }
    this.#q
      .sql(
        `INSERT INTO notify_levels (user_id, room, level) VALUES (?, ?, ?)
       ON CONFLICT (user_id, room) DO UPDATE SET level = excluded.level`,
      )
      .run(userId, room, level);
  }

  notifyLevels(userId: UserId): Map<RoomId, NotifyLevel> {
    const rows = this.#q
      .sql("SELECT room, level FROM notify_levels WHERE user_id = ? ORDER BY room")
      .all(userId);
    return toLevelMap(rows, "room");
  }

  notifyLevelsIn(room: RoomId, userIds: readonly UserId[]): Map<UserId, NotifyLevel> {
    if (userIds.length === 0) return new Map();
    const rows = this.#q
      .sql(
        `SELECT user_id, level FROM notify_levels
       WHERE room = ? AND user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id`,
      )
      .all(room, JSON.stringify(userIds));
    return toLevelMap(rows, "user_id");
  }

  // Only for an account that exists: deleting one takes its address with it,
  // and an address set meanwhile must not outlive it.
  setEmail(userId: UserId, email: string): void {
    if (email === "") {
      this.#q.sql("DELETE FROM account_emails WHERE user_id = ?").run(userId);
      return;
    }
    this.#q
      .sql(
        `INSERT INTO account_emails (user_id, email)
       SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM accounts WHERE user_id = ?1)
       ON CONFLICT (user_id) DO UPDATE SET email = excluded.email`,
      )
      .run(userId, email);
  }

  emailOf(userId: UserId): string {
    const row = this.#q.sql("SELECT email FROM account_emails WHERE user_id = ?").get(userId);
    return row ? String(row.email) : "";
  }

  scheduleDigest(userId: UserId, dueMs: number): void {
    this.#q
      .sql(
        "INSERT INTO email_digests (user_id, due_ms) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
      )
      .run(userId, dueMs);
  }

  // One statement: what it answers is what it removed. Oldest due first.
  takeDueDigests(nowMs: number, limit: number): UserId[] {
    checkLimit(limit);
    return this.#q
      .sql(
        `DELETE FROM email_digests WHERE user_id IN (
         SELECT user_id FROM email_digests WHERE due_ms <= ? ORDER BY due_ms, user_id LIMIT ?
       ) RETURNING user_id`,
      )
      .all(nowMs, limit)
      .map((row) => String(row.user_id));
  }

  nextDigestMs(): number | undefined {
    const row = this.#q.sql("SELECT min(due_ms) AS due FROM email_digests").get();
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }
}
