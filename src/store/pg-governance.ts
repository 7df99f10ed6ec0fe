// The PostgreSQL store's governance SQL (schema versions 3 and 6's tables); PgStore
// runs each call through its call tracking (see GovernanceCalls).

import type pg from "pg";
import {
  ADDRESS_BAN_COLUMNS,
  AUDIT_COLUMNS,
  beforeBound,
  checkLimit,
  INVITE_COLUMNS,
  REPORT_COLUMNS,
  ROOM_RECORD_COLUMNS,
  SANCTION_COLUMNS,
  toAddressBan,
  toAudit,
  toReport,
  toRoleMap,
  toRoomRecord,
  toSanction,
  toWebhook,
  WEBHOOK_COLUMNS,
} from "./governance-rows.ts";
import { inPgTransaction } from "./pg-transaction.ts";
import type {
  AddressBan,
  AuditRecord,
  GovernanceStore,
  InviteRecord,
  MessageId,
  NewAuditEntry,
  NewReport,
  ReportRecord,
  RoomId,
  RoomRecord,
  RoomRole,
  Sanction,
  UserId,
  WebhookRecord,
} from "./store.ts";

/** Roles, room records, bans, invites, webhooks, reports, audit and admins on PostgreSQL. */
export class PgGovernance implements GovernanceStore {
  readonly #pool: pg.Pool;
  readonly #s: string;

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool;
    this.#s = schema;
  }

  async roomRecord(room: RoomId): Promise<RoomRecord | undefined> {
    const rows = await this.#rows(
      `SELECT ${ROOM_RECORD_COLUMNS} FROM ${this.#s}.room_records WHERE room = $1`,
      [room],
    );
    return rows[0] ? toRoomRecord(rows[0]) : undefined;
  }

  /**
   * The room's `rooms` row is made and locked first: a first append to the
   * room takes the same row, so it either lands before the check (which then
   * refuses) or waits until the room is created.
   */
  createRoom(record: RoomRecord): Promise<boolean> {
    const { room, owner, inviteOnly, readOnly, createdMs } = record;
    const s = this.#s;
    return inPgTransaction(this.#pool, async (client) => {
      await client.query(`INSERT INTO ${s}.rooms (room) VALUES ($1) ON CONFLICT DO NOTHING`, [
        room,
      ]);
      await client.query(`SELECT 1 FROM ${s}.rooms WHERE room = $1 FOR UPDATE`, [room]);
      const { rowCount } = await client.query(
        `INSERT INTO ${s}.room_records (${ROOM_RECORD_COLUMNS})
         SELECT $1::text, $2::text, $3::boolean, $4::boolean, $5::bigint
         WHERE NOT EXISTS (SELECT 1 FROM ${s}.messages WHERE room = $1)
           AND NOT EXISTS (SELECT 1 FROM ${s}.rooms WHERE room = $1 AND topic <> '')
         ON CONFLICT (room) DO NOTHING`,
        [room, owner, inviteOnly, readOnly, createdMs],
      );
      if (rowCount !== 1) return false;
      if (owner !== "") await this.#putRole(client, room, owner, "owner");
      return true;
    });
  }

  async updateRoom(
    room: RoomId,
    changes: Parameters<GovernanceStore["updateRoom"]>[1],
    nowMs: number,
  ): Promise<RoomRecord> {
    const rows = await this.#rows(
      `INSERT INTO ${this.#s}.room_records AS r (${ROOM_RECORD_COLUMNS})
       VALUES ($1, '', coalesce($2::boolean, false), coalesce($3::boolean, false), $4)
       ON CONFLICT (room) DO UPDATE SET
         invite_only = coalesce($2::boolean, r.invite_only),
         read_only = coalesce($3::boolean, r.read_only)
       RETURNING ${ROOM_RECORD_COLUMNS}`,
      [room, changes.inviteOnly ?? null, changes.readOnly ?? null, nowMs],
    );
    if (!rows[0]) throw new Error("an upsert returned no row");
    return toRoomRecord(rows[0]);
  }

  setRole(room: RoomId, userId: UserId, role: RoomRole | undefined, nowMs: number): Promise<void> {
    const s = this.#s;
    return inPgTransaction(this.#pool, async (client) => {
      if (role !== "owner") {
        if (role === undefined) {
          await client.query(`DELETE FROM ${s}.room_roles WHERE room = $1 AND user_id = $2`, [
            room,
            userId,
          ]);
        } else await this.#putRole(client, room, userId, role);
        // An owner who is no longer one leaves the room to the server's admins.
        await client.query(
          `UPDATE ${s}.room_records SET owner = '' WHERE room = $1 AND owner = $2`,
          [room, userId],
        );
        return;
      }
      // The record's row, locked, so two hand-overs at once see each other's owner.
      await client.query(
        `INSERT INTO ${s}.room_records (${ROOM_RECORD_COLUMNS}) VALUES ($1, '', false, false, $2)
         ON CONFLICT (room) DO NOTHING`,
        [room, nowMs],
      );
      const { rows } = await client.query(
        `SELECT owner FROM ${s}.room_records WHERE room = $1 FOR UPDATE`,
        [room],
      );
      const previous = String(rows[0]?.owner ?? "");
      await client.query(`UPDATE ${s}.room_records SET owner = $2 WHERE room = $1`, [room, userId]);
      // Any owner role left over from before goes down with the record's owner.
      await client.query(
        `UPDATE ${s}.room_roles SET role = 'moderator'
         WHERE room = $1 AND role = 'owner' AND user_id <> $2`,
        [room, userId],
      );
      if (previous !== "" && previous !== userId) {
        await this.#putRole(client, room, previous, "moderator");
      }
      await this.#putRole(client, room, userId, "owner");
    });
  }

  async roles(room: RoomId): Promise<ReadonlyMap<UserId, RoomRole>> {
    const rows = await this.#rows(
      `SELECT user_id, role FROM ${this.#s}.room_roles WHERE room = $1 ORDER BY user_id`,
      [room],
    );
    return toRoleMap(rows, "user_id");
  }

  async rolesOf(userId: UserId): Promise<ReadonlyMap<RoomId, RoomRole>> {
    const rows = await this.#rows(
      `SELECT room, role FROM ${this.#s}.room_roles WHERE user_id = $1 ORDER BY room`,
      [userId],
    );
    return toRoleMap(rows, "room");
  }

  async setSanction(sanction: Sanction): Promise<void> {
    const { room, userId, kind, untilMs, reason, byId, createdMs } = sanction;
    await this.#pool.query(
      `INSERT INTO ${this.#s}.sanctions (${SANCTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (room, user_id, kind) DO UPDATE SET until_ms = excluded.until_ms,
         reason = excluded.reason, by_id = excluded.by_id, created_ms = excluded.created_ms`,
      [room, userId, kind, untilMs, reason, byId, createdMs],
    );
  }

  async liftSanction(room: RoomId, userId: UserId, kind: Sanction["kind"]): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `DELETE FROM ${this.#s}.sanctions WHERE room = $1 AND user_id = $2 AND kind = $3`,
      [room, userId, kind],
    );
    return (rowCount ?? 0) > 0;
  }

  async sanctions(room: RoomId | undefined, nowMs: number): Promise<Sanction[]> {
    const rows = await this.#rows(
      `SELECT ${SANCTION_COLUMNS} FROM ${this.#s}.sanctions
       WHERE ($1::text IS NULL OR room = $1) AND (until_ms = 0 OR until_ms > $2)
       ORDER BY room, user_id, kind`,
      [room ?? null, nowMs],
    );
    return rows.map(toSanction);
  }

  async setAddressBan(ban: AddressBan): Promise<void> {
    const { cidr, untilMs, reason, byId, createdMs } = ban;
    await this.#pool.query(
      `INSERT INTO ${this.#s}.address_bans (${ADDRESS_BAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (cidr) DO UPDATE SET until_ms = excluded.until_ms,
         reason = excluded.reason, by_id = excluded.by_id, created_ms = excluded.created_ms`,
      [cidr, untilMs, reason, byId, createdMs],
    );
  }

  async liftAddressBan(cidr: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `DELETE FROM ${this.#s}.address_bans WHERE cidr = $1`,
      [cidr],
    );
    return (rowCount ?? 0) > 0;
  }

  async addressBans(nowMs: number): Promise<AddressBan[]> {
    const rows = await this.#rows(
      `SELECT ${ADDRESS_BAN_COLUMNS} FROM ${this.#s}.address_bans
       WHERE until_ms = 0 OR until_ms > $1 ORDER BY cidr`,
      [nowMs],
    );
    return rows.map(toAddressBan);
  }

  async createInvite(invite: InviteRecord): Promise<void> {
    const { codeHash, room, createdBy, createdMs, expiresMs, usesLeft, unlimited } = invite;
    await this.#pool.query(
      `INSERT INTO ${this.#s}.invites (${INVITE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [codeHash, room, createdBy, createdMs, expiresMs, usesLeft, unlimited],
    );
  }

  /**
   * One statement: a second redeem of the same code waits for the first's
   * row lock, then checks the row again as the first left it.
   */
  async redeemInvite(codeHash: string, nowMs: number): Promise<RoomId | undefined> {
    const rows = await this.#rows(
      `UPDATE ${this.#s}.invites
       SET uses_left = CASE WHEN unlimited THEN uses_left ELSE uses_left - 1 END
       WHERE code_hash = $1 AND expires_ms > $2 AND (unlimited OR uses_left > 0)
       RETURNING room`,
      [codeHash, nowMs],
    );
    return rows[0] ? String(rows[0].room) : undefined;
  }

  /**
   * Only a working hook's name conflicts (the partial index), so a clash of
   * id or secret throws rather than reading as a taken name; of two creates
   * of one name at once, the second waits for the first and stores nothing.
   */
  async createWebhook(hook: WebhookRecord): Promise<boolean> {
    const { id, secretHash, room, name, createdBy, createdMs, revokedMs } = hook;
    const { rowCount } = await this.#pool.query(
      `INSERT INTO ${this.#s}.webhooks (${WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (room, name) WHERE revoked_ms = 0 DO NOTHING`,
      [id, secretHash, room, name, createdBy, createdMs, revokedMs],
    );
    return rowCount === 1;
  }

  async webhookBySecret(secretHash: string): Promise<WebhookRecord | undefined> {
    const rows = await this.#rows(
      `SELECT ${WEBHOOK_COLUMNS} FROM ${this.#s}.webhooks WHERE secret_hash = $1`,
      [secretHash],
    );
    return rows[0] ? toWebhook(rows[0]) : undefined;
  }

  // Hooks made in the same millisecond list in id order, as on SQLite.
  async webhooks(room: RoomId): Promise<WebhookRecord[]> {
    const rows = await this.#rows(
      `SELECT ${WEBHOOK_COLUMNS} FROM ${this.#s}.webhooks WHERE room = $1 ORDER BY created_ms, id`,
      [room],
    );
    return rows.map(toWebhook);
  }

  // The partial index allows one working hook of a name, so at most one row changes.
  async revokeWebhook(
    room: RoomId,
    name: string,
    nowMs: number,
  ): Promise<WebhookRecord | undefined> {
    const rows = await this.#rows(
      `UPDATE ${this.#s}.webhooks SET revoked_ms = $3
       WHERE room = $1 AND name = $2 AND revoked_ms = 0
       RETURNING ${WEBHOOK_COLUMNS}`,
      [room, name, nowMs],
    );
    return rows[0] ? toWebhook(rows[0]) : undefined;
  }

  async addReport(report: NewReport): Promise<number> {
    const { room, messageId, reporter, reason, createdMs } = report;
    const rows = await this.#rows(
      `INSERT INTO ${this.#s}.reports (room, message_id, reporter, reason, created_ms)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [room, messageId, reporter, reason, createdMs],
    );
    return Number(rows[0]?.id);
  }

  async reports(
    room: RoomId,
    options: Parameters<GovernanceStore["reports"]>[1],
  ): Promise<ReportRecord[]> {
    checkLimit(options.limit);
    const rows = await this.#rows(
      `SELECT ${REPORT_COLUMNS} FROM ${this.#s}.reports
       WHERE room = $1 AND id < $2 AND ($3 OR NOT resolved) ORDER BY id DESC LIMIT $4`,
      [room, beforeBound(options.beforeId), options.includeResolved, options.limit],
    );
    return rows.map(toReport);
  }

  async resolveReport(
    room: RoomId,
    id: number,
    byId: UserId,
    resolution: string,
    nowMs: number,
  ): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE ${this.#s}.reports
       SET resolved = true, resolved_by = $3, resolution = $4, resolved_ms = $5
       WHERE id = $2 AND room = $1 AND NOT resolved`,
      [room, id, byId, resolution, nowMs],
    );
    return (rowCount ?? 0) > 0;
  }

  async addAudit(entry: NewAuditEntry): Promise<number> {
    const { actor, action, room, target, reason, detail, createdMs } = entry;
    const rows = await this.#rows(
      `INSERT INTO ${this.#s}.audit (${AUDIT_COLUMNS.replace("id, ", "")})
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [actor, action, room, target, reason, detail, createdMs],
    );
    return Number(rows[0]?.id);
  }

  async audit(options: Parameters<GovernanceStore["audit"]>[0]): Promise<AuditRecord[]> {
    checkLimit(options.limit);
    const rows = await this.#rows(
      `SELECT ${AUDIT_COLUMNS} FROM ${this.#s}.audit
       WHERE id < $1 AND ($3::text IS NULL OR room = $3) ORDER BY id DESC LIMIT $2`,
      [beforeBound(options.beforeId), options.limit, options.room ?? null],
    );
    return rows.map(toAudit);
  }

  async admins(): Promise<UserId[]> {
    const rows = await this.#rows(`SELECT user_id FROM ${this.#s}.admins ORDER BY user_id`, []);
    return rows.map((row) => String(row.user_id));
  }

  async setAdmin(userId: UserId, admin: boolean): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      admin
        ? `INSERT INTO ${this.#s}.admins (user_id) VALUES ($1) ON CONFLICT DO NOTHING`
        : `DELETE FROM ${this.#s}.admins WHERE user_id = $1`,
      [userId],
    );
    return (rowCount ?? 0) > 0;
  }

  // The room's rows in id order, by its primary key; rare enough (a ban
  // that erases) not to warrant an index on every append.
  async messageIdsBy(
    room: RoomId,
    userId: UserId,
    sinceMs: number,
    limit: number,
  ): Promise<MessageId[]> {
    checkLimit(limit);
    const rows = await this.#rows(
      `SELECT id FROM ${this.#s}.messages
       WHERE room = $1 AND user_id = $2 AND kind = 'chat' AND NOT deleted AND time_ms >= $3
       ORDER BY id LIMIT $4`,
      [room, userId, sinceMs, limit],
    );
    return rows.map((row) => Number(row.id));
  }

  async #rows(sql: string, values: unknown[]): Promise<pg.QueryResultRow[]> {
    return (await this.#pool.query(sql, values)).rows;
  }

  async #putRole(
    client: pg.PoolClient,
    room: RoomId,
    userId: UserId,
    role: RoomRole,
  ): Promise<void> {
    await client.query(
      `INSERT INTO ${this.#s}.room_roles (room, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (room, user_id) DO UPDATE SET role = excluded.role`,
      [room, userId, role],
    );
  }
}
