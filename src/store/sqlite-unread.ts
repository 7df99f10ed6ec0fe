import type { DatabaseSync, StatementSync } from "node:sqlite";
import { foldedNames } from "./rows.ts";
import type { MessageId, RoomId, UnreadCount, UserId } from "./store.ts";

/** One room of an unread() call as it crosses to the worker: a Set does not need to. */
export interface UnreadRoom {
  readonly room: RoomId;
  /** Count from id 0 when the user has no marker here (a DM). */
  readonly fromStart: boolean;
}

/** Read markers and unread counts, on the store's one connection. */
export class SqliteReadMarkers {
  readonly #markRead: StatementSync;
  readonly #marker: StatementSync;
  readonly #unread: StatementSync;

  constructor(db: DatabaseSync) {
    // SQLite's lower() folds ASCII only; names and texts are folded alike here.
    db.function("fold_case", { deterministic: true }, (text) => String(text).toLowerCase());
    this.#markRead = db.prepare(
      `INSERT INTO read_markers (user_id, room, last_read_id) VALUES (?, ?, ?)
       ON CONFLICT (user_id, room) DO UPDATE SET last_read_id = max(last_read_id, excluded.last_read_id)
       RETURNING last_read_id`,
    );
    this.#marker = db.prepare(
      "SELECT last_read_id FROM read_markers WHERE user_id = ? AND room = ?",
    );
    // One room per run: the marker, then the unread messages newest first,
    // at most ?4 of them (so a room far behind costs at most the cap), each
    // with its text only when it holds one of the folded names in ?5 (a JSON
    // array). With no marker the start is ?3: 0, or NULL for "count
    // nothing", which no id is above. instr() rather than LIKE: names may
    // hold % and _.
    const marker = "(SELECT last_read_id FROM read_markers WHERE user_id = ?1 AND room = ?2)";
    this.#unread = db.prepare(`
SELECT ${marker} AS marker, u.id, u.text
FROM (SELECT 1) LEFT JOIN (
  SELECT m.id, CASE WHEN EXISTS (
      SELECT 1 FROM json_each(?5) AS n WHERE instr(fold_case(m.text), n.value) > 0
    ) THEN m.text END AS text
  FROM messages m
  WHERE m.room = ?2 AND m.id > coalesce(${marker}, ?3)
    AND m.kind = 'chat' AND m.deleted = 0 AND m.user_id <> ?1
  ORDER BY m.id DESC LIMIT ?4
) AS u ON true
ORDER BY u.id DESC`);
  }

  /** Raises the marker to `lastReadId` if that is higher; the marker now. */
  markRead(userId: UserId, room: RoomId, lastReadId: MessageId): MessageId {
    return Number(this.#markRead.get(userId, room, lastReadId)?.last_read_id ?? 0);
  }

  marker(userId: UserId, room: RoomId): MessageId {
    return Number(this.#marker.get(userId, room)?.last_read_id ?? 0);
  }

  unread(
    userId: UserId,
    rooms: readonly UnreadRoom[],
    cap: number,
    mentionNames: readonly string[],
  ): UnreadCount[] {
    const names = JSON.stringify(foldedNames(mentionNames));
    return rooms.map(({ room, fromStart }) => {
      const rows = this.#unread.all(userId, room, fromStart ? 0 : null, cap, names);
      const unread = rows.filter((row) => row.id !== null);
      return {
        room,
        lastReadId: Number(rows[0]?.marker ?? 0),
        unread: unread.length,
        mentionCandidates: unread.flatMap((row) => (row.text === null ? [] : [String(row.text)])),
      };
    });
  }
}
