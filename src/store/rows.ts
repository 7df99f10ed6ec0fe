// Rows as both stores' tables hold them (the same columns on SQLite and
// PostgreSQL), mapped to the store's types. PostgreSQL hands BIGINT columns
// back as strings and booleans as booleans; node:sqlite hands back numbers,
// hence Number() and the 0/1 reading of `deleted`.
import type {
  Account,
  AppendResult,
  MessageId,
  MessageKind,
  NewMessage,
  ReactionCount,
  StoredMessage,
} from "./store.ts";

/** A message's columns, in the order every message query selects them. */
export const MESSAGE_COLUMNS =
  "room, id, time_ms, user_id, username, text, kind, client_msg_id, ref_id, edited_ms, deleted, count";
/** The columns an append writes; edited_ms and deleted start at their defaults. */
export const INSERT_COLUMNS =
  "room, id, time_ms, user_id, username, text, kind, client_msg_id, ref_id, count";
export const ACCOUNT_COLUMNS = "user_id, username, name_key, password_hash, created_ms";

/**
 * A message row; a `reactions` column, when selected, holds the message's
 * reactions as a JSON array of [emoji, count, mine] in first-added order
 * (text from SQLite, already parsed from PostgreSQL, null when none).
 * Fields at their defaults are left out, so a plain message reads back as it
 * was sent.
 */
export function toMessage(row: Record<string, unknown>): StoredMessage {
  const kind = String(row.kind) as MessageKind;
  const refId = Number(row.ref_id ?? 0);
  const editedMs = Number(row.edited_ms ?? 0);
  const reactions = toReactions(row.reactions);
  return {
    room: String(row.room),
    id: Number(row.id),
    timeMs: Number(row.time_ms),
    userId: String(row.user_id),
    username: String(row.username),
    text: String(row.text),
    kind,
    clientMsgId: String(row.client_msg_id),
    ...(refId > 0 ? { refId } : {}),
    ...(editedMs > 0 ? { editedMs } : {}),
    ...(row.deleted === true || Number(row.deleted) === 1 ? { deleted: true } : {}),
    ...(kind === "react" || kind === "unreact" ? { count: Number(row.count ?? 0) } : {}),
    ...(reactions.length > 0 ? { reactions } : {}),
  };
}

function toReactions(value: unknown): ReactionCount[] {
  if (value === null || value === undefined) return [];
  const list = (typeof value === "string" ? JSON.parse(value) : value) as unknown[][];
  return list.map(([emoji, count, mine]) => ({
    emoji: String(emoji),
    count: Number(count),
    mine: mine === true || Number(mine) === 1,
  }));
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
  const { room, userId, username, text, kind, clientMsgId, refId } = message;
  const stored = { room, id, timeMs, userId, username, text, kind, clientMsgId };
  return refId !== undefined && refId > 0 ? { ...stored, refId } : stored;
}

/**
 * A change entry's result: `id` 0 when it changed nothing (and was not
 * stored); `count` for react/unreact.
 */
export function changeResult(
  message: NewMessage,
  id: MessageId,
  timeMs: number,
  count: number,
): AppendResult {
  const stored = storedMessage(message, id, timeMs);
  const reaction = message.kind === "react" || message.kind === "unreact";
  return {
    message: reaction ? { ...stored, count } : stored,
    duplicate: false,
    ...(id === 0 ? { unchanged: true } : {}),
  };
}

/** The texts a change entry keeps in its own row: an edit's text lives in its target only. */
export function entryText(message: NewMessage): string {
  return message.kind === "edit" || message.kind === "delete" ? "" : message.text;
}

/**
 * How a mention name is matched: lower-cased here, so each engine only
 * lower-cases the text (SQLite through the fold_case function the worker
 * registers, since its own lower() folds ASCII only).
 */
export function foldedNames(names: readonly string[]): string[] {
  return [...new Set(names.map((name) => name.toLowerCase()).filter((name) => name !== ""))];
}
