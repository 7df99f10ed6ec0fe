import type { DatabaseSync, StatementSync } from "node:sqlite";
import { MESSAGE_COLUMNS, toMessage } from "./rows.ts";
import type {
  AfterPage,
  HistoryOptions,
  MessageId,
  RoomId,
  StoredMessage,
  UserId,
} from "./store.ts";

/** Messages read back in their current state, and the log read forwards; on the store's one connection. */
export class SqliteReads {
  readonly #newest: StatementSync;
  readonly #newestChat: StatementSync;
  readonly #message: StatementSync;
  readonly #after: StatementSync;
  readonly #afterChat: StatementSync;
  readonly #prunedThrough: StatementSync;

  constructor(db: DatabaseSync) {
    // Each message with its reactions: one probe of the reactions' primary
    // key per message, emoji in first-added order; `mine` for the viewer ?4.
    const withReactions = `${MESSAGE_COLUMNS}, (
  SELECT json_group_array(json_array(emoji, n, mine) ORDER BY first) FROM (
    SELECT emoji, count(*) AS n, max(user_id = ?4) AS mine, min(added_id) AS first
    FROM reactions r WHERE r.room = m.room AND r.message_id = m.id GROUP BY emoji
  )
) AS reactions`;
    const newest = (kinds: string) =>
      db.prepare(
        `SELECT ${withReactions} FROM messages m
         WHERE room = ?1 AND id < ?2 AND kind IN (${kinds}) ORDER BY id DESC LIMIT ?3`,
      );
    this.#newest = newest("'chat', 'system'");
    this.#newestChat = newest("'chat'");
    this.#message = db.prepare(
      `SELECT ${withReactions} FROM messages m
       WHERE room = ?1 AND id = ?2 AND kind IN ('chat', 'system')`,
    );
    // An edit entry keeps no text: it reads its target's text now, so no text
    // an edit replaced, or a delete erased, is kept in the log.
    const after = (filter: string) =>
      db.prepare(
        `SELECT ${MESSAGE_COLUMNS.replace(
          "text,",
          `CASE WHEN kind = 'edit' THEN coalesce(
             (SELECT t.text FROM messages t WHERE t.room = m.room AND t.id = m.ref_id), '')
           ELSE text END AS text,`,
        )} FROM messages m WHERE room = ? AND id > ? ${filter} ORDER BY id LIMIT ?`,
      );
    this.#after = after("");
    this.#afterChat = after("AND kind <> 'system'");
    this.#prunedThrough = db.prepare("SELECT pruned_through AS id FROM rooms WHERE room = ?");
  }

  /** The newest messages before `options.beforeId`, newest first, in their current state. */
  history(room: RoomId, options: HistoryOptions): StoredMessage[] {
    const before =
      options.beforeId && options.beforeId > 0 ? options.beforeId : Number.MAX_SAFE_INTEGER;
    const statement = options.includeSystem ? this.#newest : this.#newestChat;
    return statement.all(room, before, options.limit, options.viewer ?? null).map(toMessage);
  }

  message(room: RoomId, id: MessageId, viewer: UserId | undefined): StoredMessage | undefined {
    const row = this.#message.get(room, id, null, viewer ?? null);
    return row ? toMessage(row) : undefined;
  }

  after(room: RoomId, afterId: MessageId, limit: number, includeSystem: boolean): AfterPage {
    // One connection on one thread: nothing can write between these two
    // reads, so they see the same snapshot.
    const statement = includeSystem ? this.#after : this.#afterChat;
    const messages = statement.all(room, afterId, limit).map(toMessage);
    const pruned = this.#prunedThrough.get(room);
    return { messages, prunedThrough: pruned ? Number(pruned.id) : 0 };
  }
}
