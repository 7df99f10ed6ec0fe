// Governance rows as both stores' tables hold them (the same columns on
// SQLite and PostgreSQL), mapped to the store's types, and the arguments both
// check the same way. PostgreSQL hands BIGINT columns back as strings and
// booleans as booleans; node:sqlite hands back numbers and 0/1.
import type {
  AddressBan,
  AuditRecord,
  ReportRecord,
  RoomRecord,
  RoomRole,
  Sanction,
  WebhookRecord,
} from "./store.ts";

export const ROOM_RECORD_COLUMNS = "room, owner, invite_only, read_only, created_ms";
export const SANCTION_COLUMNS = "room, user_id, kind, until_ms, reason, by_id, created_ms";
export const ADDRESS_BAN_COLUMNS = "cidr, until_ms, reason, by_id, created_ms";
export const INVITE_COLUMNS =
  "code_hash, room, created_by, created_ms, expires_ms, uses_left, unlimited";
export const WEBHOOK_COLUMNS = "id, secret_hash, room, name, created_by, created_ms, revoked_ms";
export const REPORT_COLUMNS =
  "id, room, message_id, reporter, reason, created_ms, resolved_by, resolution, resolved_ms";
export const AUDIT_COLUMNS = "id, actor, action, room, target, reason, detail, created_ms";

type Row = Record<string, unknown>;

const flag = (value: unknown) => value === true || Number(value) === 1;

export function toRoomRecord(row: Row): RoomRecord {
  return {
    room: String(row.room),
    owner: String(row.owner),
    inviteOnly: flag(row.invite_only),
    readOnly: flag(row.read_only),
    createdMs: Number(row.created_ms),
  };
}

export function toSanction(row: Row): Sanction {
  return {
    room: String(row.room),
    userId: String(row.user_id),
    kind: String(row.kind) as Sanction["kind"],
    untilMs: Number(row.until_ms),
    reason: String(row.reason),
    byId: String(row.by_id),
    createdMs: Number(row.created_ms),
  };
}

export function toAddressBan(row: Row): AddressBan {
  return {
    cidr: String(row.cidr),
    untilMs: Number(row.until_ms),
    reason: String(row.reason),
    byId: String(row.by_id),
    createdMs: Number(row.created_ms),
  };
}

export function toWebhook(row: Row): WebhookRecord {
  return {
    id: String(row.id),
    secretHash: String(row.secret_hash),
    room: String(row.room),
    name: String(row.name),
    createdBy: String(row.created_by),
    createdMs: Number(row.created_ms),
    revokedMs: Number(row.revoked_ms),
  };
}

export function toReport(row: Row): ReportRecord {
  return {
    id: Number(row.id),
    room: String(row.room),
    messageId: Number(row.message_id),
    reporter: String(row.reporter),
    reason: String(row.reason),
    createdMs: Number(row.created_ms),
    resolvedBy: String(row.resolved_by),
    resolution: String(row.resolution),
    resolvedMs: Number(row.resolved_ms),
  };
}

export function toAudit(row: Row): AuditRecord {
  return {
    id: Number(row.id),
    actor: String(row.actor),
    action: String(row.action),
    room: String(row.room),
    target: String(row.target),
    reason: String(row.reason),
    detail: String(row.detail),
    createdMs: Number(row.created_ms),
  };
}

/** Rows of (key, role), as roles() and rolesOf() return them. */
export function toRoleMap(rows: readonly Row[], key: string): Map<string, RoomRole> {
  return new Map(rows.map((row) => [String(row[key]), String(row.role) as RoomRole]));
}

/**
 * A page's size: SQLite reads a negative LIMIT as "no limit" where
 * PostgreSQL refuses it, so both refuse it here first.
 */
export function checkLimit(limit: number): void {
  if (!(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RangeError(`A limit must be an integer >= 0, not ${limit}.`);
  }
}

/**
 * The id a page reads below: none (the newest) for 0 or absent, as
 * HistoryOptions.beforeId reads, so a page token of 0 means the first page.
 */
export function beforeBound(beforeId: number | undefined): number {
  return beforeId !== undefined && beforeId > 0 ? beforeId : Number.MAX_SAFE_INTEGER;
}
