// The SQLite store's governance SQL (migrations 6 and 9's tables), run on the
// worker's connection; calls arrive as GovernanceCall data (see dispatch).

import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { GovernanceCall, SyncGovernance } from "./governance-calls.ts";
import { dispatch } from "./governance-calls.ts";
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
import { SqliteStatements } from "./sqlite-statements.ts";
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

const bit = (value: boolean | undefined) => (value === undefined ? null : value ? 1 : 0);

/**
 * Roles, room records, bans, invites, webhooks, reports, audit and admins.
 * Everything here is small and rare, so statements are prepared on first use
 * and kept rather than all at open.
 */
export class SqliteGovernance implements SyncGovernance {
  readonly #q: SqliteStatements;

  constructor(db: DatabaseSync) {
    this.#q = new SqliteStatements(db);
  }

  /** One call that crossed from the main thread. */
  run(call: GovernanceCall): unknown {
    return dispatch(this, call);
  }

  roomRecord(room: RoomId): RoomRecord | undefined {
    const row = this.#q
      .sql(`SELECT ${ROOM_RECORD_COLUMNS} FROM room_records WHERE room = ?`)
      .get(room);
    return row ? toRoomRecord(row) : undefined;
  }

  createRoom(record: RoomRecord): boolean {
    const { room, owner, inviteOnly, readOnly, createdMs } = record;
    return this.#q.transaction(() => {
      const { changes } = this.#q
        .sql(
          `INSERT INTO room_records (${ROOM_RECORD_COLUMNS}) SELECT ?1, ?2, ?3, ?4, ?5
         WHERE NOT EXISTS (SELECT 1 FROM messages WHERE room = ?1)
           AND NOT EXISTS (SELECT 1 FROM rooms WHERE room = ?1 AND topic <> '')
         ON CONFLICT (room) DO NOTHING`,
        )
        .run(room, owner, bit(inviteOnly), bit(readOnly), createdMs);
      if (Number(changes) === 0) return false;
      if (owner !== "") this.#putRole(room, owner, "owner");
      return true;
    });
  }

  updateRoom(room: RoomId, changes: Parameters<GovernanceStore["updateRoom"]>[1], nowMs: number) {
    const row = this.#q
      .sql(
        `INSERT INTO room_records (${ROOM_RECORD_COLUMNS})
       VALUES (?1, '', coalesce(?2, 0), coalesce(?3, 0), ?4)
       ON CONFLICT (room) DO UPDATE SET
         invite_only = coalesce(?2, invite_only), read_only = coalesce(?3, read_only)
       RETURNING ${ROOM_RECORD_COLUMNS}`,
      )
      .get(room, bit(changes.inviteOnly), bit(changes.readOnly), nowMs);
    if (!row) throw new Error("an upsert returned no row");
    return toRoomRecord(row);
  }

  setRole(room: RoomId, userId: UserId, role: RoomRole | undefined, nowMs: number): void {
    this.#q.transaction(() => {
      if (role !== "owner") {
        if (role === undefined) {
          this.#q.sql("DELETE FROM room_roles WHERE room = ? AND user_id = ?").run(room, userId);
        } else this.#putRole(room, userId, role);
        // An owner who is no longer one leaves the room to the server's admins.
        this.#q
          .sql("UPDATE room_records SET owner = '' WHERE room = ? AND owner = ?")
          .run(room, userId);
        return;
      }
      const previous = this.roomRecord(room)?.owner ?? "";
      this.#q
        .sql(
          `INSERT INTO room_records (${ROOM_RECORD_COLUMNS}) VALUES (?1, ?2, 0, 0, ?3)
         ON CONFLICT (room) DO UPDATE SET owner = excluded.owner`,
        )
        .run(room, userId, nowMs);
      // Any owner role left over from before goes down with the record's owner.
      this.#q
        .sql(
          "UPDATE room_roles SET role = 'moderator' WHERE room = ? AND role = 'owner' AND user_id <> ?",
        )
        .run(room, userId);
      if (previous !== "" && previous !== userId) this.#putRole(room, previous, "moderator");
      this.#putRole(room, userId, "owner");
    });
  }

  roles(room: RoomId): Map<UserId, RoomRole> {
    const rows = this.#q
      .sql("SELECT user_id, role FROM room_roles WHERE room = ? ORDER BY user_id")
      .all(room);
    return toRoleMap(rows, "user_id");
  }

  rolesOf(userId: UserId): Map<RoomId, RoomRole> {
    const rows = this.#q
      .sql("SELECT room, role FROM room_roles WHERE user_id = ? ORDER BY room")
      .all(userId);
    return toRoleMap(rows, "room");
  }

  setSanction(sanction: Sanction): void {
    const { room, userId, kind, untilMs, reason, byId, createdMs } = sanction;
    this.#q
      .sql(
        `INSERT INTO sanctions (${SANCTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room, user_id, kind) DO UPDATE SET until_ms = excluded.until_ms,
         reason = excluded.reason, by_id = excluded.by_id, created_ms = excluded.created_ms`,
      )
      .run(room, userId, kind, untilMs, reason, byId, createdMs);
  }

  liftSanction(room: RoomId, userId: UserId, kind: Sanction["kind"]): boolean {
    const { changes } = this.#q
      .sql("DELETE FROM sanctions WHERE room = ? AND user_id = ? AND kind = ?")
      .run(room, userId, kind);
    return Number(changes) > 0;
  }

  sanctions(room: RoomId | undefined, nowMs: number): Sanction[] {
    const inRoom = room === undefined ? "" : "room = ?2 AND";
    return this.#q
      .sql(
        `SELECT ${SANCTION_COLUMNS} FROM sanctions
       WHERE ${inRoom} (until_ms = 0 OR until_ms > ?1) ORDER BY room, user_id, kind`,
      )
      .all(...(room === undefined ? [nowMs] : [nowMs, room]))
      .map(toSanction);
  }

  setAddressBan(ban: AddressBan): void {
    const { cidr, untilMs, reason, byId, createdMs } = ban;
    this.#q
      .sql(
        `INSERT INTO address_bans (${ADDRESS_BAN_COLUMNS}) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (cidr) DO UPDATE SET until_ms = excluded.until_ms,
         reason = excluded.reason, by_id = excluded.by_id, created_ms = excluded.created_ms`,
      )
      .run(cidr, untilMs, reason, byId, createdMs);
  }

  liftAddressBan(cidr: string): boolean {
    const { changes } = this.#q.sql("DELETE FROM address_bans WHERE cidr = ?").run(cidr);
    return Number(changes) > 0;
  }

  addressBans(nowMs: number): AddressBan[] {
    return this.#q
      .sql(
        `SELECT ${ADDRESS_BAN_COLUMNS} FROM address_bans
       WHERE until_ms = 0 OR until_ms > ? ORDER BY cidr`,
      )
      .all(nowMs)
      .map(toAddressBan);
  }

  createInvite(invite: InviteRecord): void {
    const { codeHash, room, createdBy, createdMs, expiresMs, usesLeft, unlimited } = invite;
    this.#q
      .sql(`INSERT INTO invites (${INVITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(codeHash, room, createdBy, createdMs, expiresMs, usesLeft, bit(unlimited));
  }

  // One statement: the check and the use cannot be split by another redeem.
  redeemInvite(codeHash: string, nowMs: number): RoomId | undefined {
    const row = this.#q
      .sql(
        `UPDATE invites SET uses_left = CASE WHEN unlimited THEN uses_left ELSE uses_left - 1 END
       WHERE code_hash = ? AND expires_ms > ? AND (unlimited OR uses_left > 0)
       RETURNING room`,
      )
      .get(codeHash, nowMs);
    return row ? String(row.room) : undefined;
  }

  // Only a working hook's name conflicts (the partial index); a clash of id
  // or secret is not a taken name, so it throws.
  createWebhook(hook: WebhookRecord): boolean {
    const { id, secretHash, room, name, createdBy, createdMs, revokedMs } = hook;
    const { changes } = this.#q
      .sql(
        `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room, name) WHERE revoked_ms = 0 DO NOTHING`,
      )
      .run(id, secretHash, room, name, createdBy, createdMs, revokedMs);
    return Number(changes) > 0;
  }

  webhookBySecret(secretHash: string): WebhookRecord | undefined {
    const row = this.#q
      .sql(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE secret_hash = ?`)
      .get(secretHash);
    return row ? toWebhook(row) : undefined;
  }

  // Hooks made in the same millisecond list in id order, the same on every engine.
  webhooks(room: RoomId): WebhookRecord[] {
    return this.#q
      .sql(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE room = ? ORDER BY created_ms, id`)
      .all(room)
      .map(toWebhook);
  }

  // The partial index allows one working hook of a name, so at most one row changes.
  revokeWebhook(room: RoomId, name: string, nowMs: number): WebhookRecord | undefined {
    const row = this.#q
      .sql(
        `UPDATE webhooks SET revoked_ms = ? WHERE room = ? AND name = ? AND revoked_ms = 0
       RETURNING ${WEBHOOK_COLUMNS}`,
      )
      .get(nowMs, room, name);
    return row ? toWebhook(row) : undefined;
  }

  addReport(report: NewReport): number {
    const { room, messageId, reporter, reason, createdMs } = report;
    const row = this.#q
      .sql(
        `INSERT INTO reports (room, message_id, reporter, reason, created_ms)
       VALUES (?, ?, ?, ?, ?) RETURNING id`,
      )
      .get(room, messageId, reporter, reason, createdMs);
    return Number(row?.id);
  }

  reports(room: RoomId, options: Parameters<GovernanceStore["reports"]>[1]): ReportRecord[] {
    checkLimit(options.limit);
    const open = options.includeResolved ? "" : "AND resolved = 0";
    return this.#q
      .sql(
        `SELECT ${REPORT_COLUMNS} FROM reports WHERE room = ? AND id < ? ${open}
       ORDER BY id DESC LIMIT ?`,
      )
      .all(room, beforeBound(options.beforeId), options.limit)
      .map(toReport);
  }

  resolveReport(
    room: RoomId,
    id: number,
    byId: UserId,
    resolution: string,
    nowMs: number,
  ): boolean {
    const { changes } = this.#q
      .sql(
        `UPDATE reports SET resolved = 1, resolved_by = ?, resolution = ?, resolved_ms = ?
       WHERE id = ? AND room = ? AND resolved = 0`,
      )
      .run(byId, resolution, nowMs, id, room);
    return Number(changes) > 0;
  }

  addAudit(entry: NewAuditEntry): number {
    const { actor, action, room, target, reason, detail, createdMs } = entry;
    const row = this.#q
      .sql(
        `INSERT INTO audit (${AUDIT_COLUMNS.replace("id, ", "")})
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      )
      .get(actor, action, room, target, reason, detail, createdMs);
    return Number(row?.id);
  }

  audit(options: Parameters<GovernanceStore["audit"]>[0]): AuditRecord[] {
    checkLimit(options.limit);
    const { room } = options;
    const inRoom = room === undefined ? "" : "AND room = ?3";
    const values: SQLInputValue[] = [beforeBound(options.beforeId), options.limit];
    return this.#q
      .sql(`SELECT ${AUDIT_COLUMNS} FROM audit WHERE id < ?1 ${inRoom} ORDER BY id DESC LIMIT ?2`)
      .all(...(room === undefined ? values : [...values, room]))
      .map(toAudit);
  }

  admins(): UserId[] {
    return this.#q
      .sql("SELECT user_id FROM admins ORDER BY user_id")
      .all()
      .map((row) => String(row.user_id));
  }

  setAdmin(userId: UserId, admin: boolean): boolean {
    const { changes } = admin
      ? this.#q.sql("INSERT INTO admins (user_id) VALUES (?) ON CONFLICT DO NOTHING").run(userId)
      : this.#q.sql("DELETE FROM admins WHERE user_id = ?").run(userId);
    return Number(changes) > 0;
  }

  // The room's rows in id order, by its primary key; rare enough (a ban
  // that erases) not to warrant an index on every append.
  messageIdsBy(room: RoomId, userId: UserId, sinceMs: number, limit: number): MessageId[] {
    checkLimit(limit);
    return this.#q
      .sql(
        `SELECT id FROM messages
       WHERE room = ? AND user_id = ? AND kind = 'chat' AND deleted = 0 AND time_ms >= ?
       ORDER BY id LIMIT ?`,
      )
      .all(room, userId, sinceMs, limit)
      .map((row) => Number(row.id));
  }

  #putRole(room: RoomId, userId: UserId, role: RoomRole): void {
    this.#q
      .sql(
        `INSERT INTO room_roles (room, user_id, role) VALUES (?, ?, ?)
       ON CONFLICT (room, user_id) DO UPDATE SET role = excluded.role`,
      )
      .run(room, userId, role);
  }
}
