// AdminStore's rows as both stores' tables hold them (the same columns on
// SQLite and PostgreSQL), and the checks and orderings both must apply the
// same way so that an export from either imports into either.
import { toRoleMap, toRoomRecord } from "./governance-rows.ts";
import { ACCOUNT_COLUMNS, toAccount, toMessage } from "./rows.ts";
import {
  type AccountListing,
  type ExportedMessage,
  type ExportedRoom,
  ImportConflictError,
  type MessageId,
  type RoomId,
  type UserId,
} from "./store.ts";

type Row = Record<string, unknown>;

/** Every table that holds rows of a room, all keyed by a `room` column. */
export const ROOM_TABLES = [
  "messages",
  "reactions",
  "read_markers",
  "rooms",
  "room_records",
  "room_roles",
  "sanctions",
  "invites",
  "webhooks",
  "reports",
  // A bot's cursor and a user's level in the room; the bot's `rooms` list
  // keeps the name, so a room made again under it is still the bot's.
  "bot_cursors",
  "notify_levels",
];

/**
 * Tables holding rows of an account besides `accounts` and `tokens`, keyed by
 * `user_id`. The bots an account owns are deleted with it, as accounts of
 * their own, in the same transaction.
 */
export const ACCOUNT_TABLES = [
  "reset_codes",
  "room_roles",
  "admins",
  "read_markers",
  "bots",
  "bot_cursors",
  "notify_levels",
  "account_emails",
  "email_digests",
];

export const LISTING_COLUMNS = `${ACCOUNT_COLUMNS}, disabled`;

/** The columns an import writes, in the order `importedValues` gives them. */
export const IMPORT_COLUMNS =
  "room, id, time_ms, user_id, username, text, kind, client_msg_id, ref_id, edited_ms, deleted, count";

export function toAccountListing(row: Row): AccountListing {
  return { ...toAccount(row), disabled: row.disabled === true || Number(row.disabled) === 1 };
}

/**
 * A reaction row as an export reads it: `reacted` is the id of the react
 * entry that made it, null when it was imported (and has no entry).
 */
export interface ReactorRow {
  readonly message_id: unknown;
  readonly emoji: unknown;
  readonly user_id: unknown;
  readonly added_id: unknown;
  readonly reacted: unknown;
}

/**
 * Each message's reactors: emoji in display order (the lowest added_id, as
 * history reads them), users in the order they reacted. A reaction's
 * added_id is its emoji's first id, shared by every user of it, so it cannot
 * order the users: the react entry that made each row does; an imported row
 * has none, and its added_id (see importedReactions) orders it, below every
 * entry made since.
 */
export function collectReactors(rows: readonly ReactorRow[]): Map<MessageId, ExportedReactors> {
  const byMessage = new Map<MessageId, Map<string, EmojiRows>>();
  for (const row of rows) {
    const id = Number(row.message_id);
    const emoji = String(row.emoji);
    const addedId = Number(row.added_id);
    const emojis = byMessage.get(id) ?? new Map<string, EmojiRows>();
    byMessage.set(id, emojis);
    const entry: EmojiRows = emojis.get(emoji) ?? { first: addedId, users: [] };
    emojis.set(emoji, entry);
    entry.first = Math.min(entry.first, addedId);
    const order = row.reacted === null || row.reacted === undefined ? addedId : Number(row.reacted);
    entry.users.push([order, String(row.user_id)]);
  }
  const reactors = new Map<MessageId, ExportedReactors>();
  for (const [id, emojis] of byMessage) {
    const list = [...emojis]
      .sort(([a, x], [b, y]) => x.first - y.first || compare(a, b))
      .map(([emoji, { users }]) => ({
        emoji,
        users: users.sort(([a, x], [b, y]) => a - b || compare(x, y)).map(([, user]) => user),
      }));
    reactors.set(id, list);
  }
  return reactors;
}

type ExportedReactors = ExportedMessage["reactors"];
/** An emoji's lowest added_id, and its users each with what orders them. */
type EmojiRows = { first: number; users: [number, UserId][] };

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A message row (MESSAGE_COLUMNS) in its current state, with its reactors. */
export function toExportedMessage(row: Row, reactors: ExportedReactors = []): ExportedMessage {
  return { ...toMessage(row), reactors };
}

/**
 * Refuses, before anything is written, messages that would not continue the
 * room's history: ids must ascend, all above `newest`. Only chat and system
 * messages are exported, so only they are taken.
 */
export function checkImport(
  room: RoomId,
  messages: readonly ExportedMessage[],
  newest: MessageId,
): void {
  let previous = newest;
  for (const message of messages) {
    if (message.kind !== "chat" && message.kind !== "system") {
      throw new RangeError(`Only chat and system messages are imported, not ${message.kind}.`);
    }
    if (!(Number.isSafeInteger(message.id) && message.id > previous)) {
      throw new ImportConflictError(room);
    }
    previous = message.id;
  }
}

/** One message's columns as IMPORT_COLUMNS lists them; stored under `room`, whatever it says. */
export function importedValues(room: RoomId, message: ExportedMessage) {
  return [
    room,
    message.id,
    message.timeMs,
    message.userId,
    message.username,
    message.text,
    message.kind,
    message.clientMsgId,
    message.refId ?? 0,
    message.editedMs ?? 0,
    message.deleted === true,
    0,
  ] as const;
}

/**
 * A message's reaction rows to store. The entries that gave the source its
 * added ids are not exported, so the rows get ids that reproduce the order:
 * negative and ascending through the list (emoji in display order, each
 * one's users in the order they reacted), below the id of any entry made
 * after the import, so what is reacted later still sorts after them.
 */
export function importedReactions(
  message: ExportedMessage,
): { emoji: string; userId: UserId; addedId: number }[] {
  const rows = message.reactors.flatMap(({ emoji, users }) =>
    users.map((userId) => ({ emoji, userId })),
  );
  return rows.map((row, i) => ({ ...row, addedId: i - rows.length }));
}

/** Rooms (name and topic, sorted) with their records and roles, as exportRooms returns them. */
export function toExportedRooms(
  rooms: readonly { readonly room: RoomId; readonly topic: string }[],
  recordRows: readonly Row[],
  roleRows: readonly Row[],
): ExportedRoom[] {
  const records = new Map(recordRows.map((row) => [String(row.room), toRoomRecord(row)]));
  const roles = new Map<RoomId, Row[]>();
  for (const row of roleRows) {
    const room = String(row.room);
    const list = roles.get(room);
    if (list) list.push(row);
    else roles.set(room, [row]);
  }
  return rooms.map(({ room, topic }) => {
    const record = records.get(room);
    return {
      room,
      topic,
      record: record && {
        owner: record.owner,
        inviteOnly: record.inviteOnly,
        readOnly: record.readOnly,
        createdMs: record.createdMs,
      },
      roles: [...toRoleMap(roles.get(room) ?? [], "user_id")].map(([userId, role]) => ({
        userId,
        role,
      })),
    };
  });
}
