import type pg from "pg";
import type { Account, MessageKind, StoredMessage } from "./store.ts";

/** A message's columns, in the order every message query selects them. */
export const COLUMNS = "room, id, time_ms, user_id, username, text, kind, client_msg_id";
export const ACCOUNT_COLUMNS = "user_id, username, name_key, password_hash, created_ms";

export function toMessage(row: pg.QueryResultRow): StoredMessage {
  return {
    room: String(row.room),
    id: Number(row.id),
    timeMs: Number(row.time_ms),
    userId: String(row.user_id),
    username: String(row.username),
    text: String(row.text),
    kind: String(row.kind) as MessageKind,
    clientMsgId: String(row.client_msg_id),
  };
}

export function toAccount(row: pg.QueryResultRow): Account {
  return {
    userId: String(row.user_id),
    username: String(row.username),
    nameKey: String(row.name_key),
    passwordHash: String(row.password_hash),
    createdMs: Number(row.created_ms),
  };
}
