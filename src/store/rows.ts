// Rows as both stores' tables hold them (the same columns on SQLite and
// PostgreSQL), mapped to the store's types. PostgreSQL hands BIGINT columns
// back as strings and node:sqlite hands back numbers, hence Number().
import type { Account, MessageId, MessageKind, NewMessage, StoredMessage } from "./store.ts";

/** A message's columns, in the order every message query selects them. */
export const MESSAGE_COLUMNS = "room, id, time_ms, user_id, username, text, kind, client_msg_id";
export const ACCOUNT_COLUMNS = "user_id, username, name_key, password_hash, created_ms";

export function toMessage(row: Record<string, unknown>): StoredMessage {
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

export function toAccount(row: Record<string, unknown>): Account {
  return {
    userId: String(row.user_id),
    username: String(row.username),
    nameKey: String(row.name_key),
    passwordHash: String(row.password_hash),
    createdMs: Number(row.created_ms),
  };
}

/** A new message as stored with its id and time: only the fields a StoredMessage has. */
export function storedMessage(message: NewMessage, id: MessageId, timeMs: number): StoredMessage {
  const { room, userId, username, text, kind, clientMsgId } = message;
  return { room, id, timeMs, userId, username, text, kind, clientMsgId };
}
