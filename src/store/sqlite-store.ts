import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type Clock, systemClock } from "../core/clock.ts";
import type { MessageId, MessageKind, NewMessage, RoomId, StoredMessage } from "../core/types.ts";
import type { AppendResult, HistoryOptions, Store } from "./store.ts";

export interface SqliteStoreOptions {
  /** A file path (its directory is created) or ":memory:". */
  readonly path: string;
  readonly clock?: Clock;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  room          TEXT    NOT NULL,
  id            INTEGER NOT NULL,
  time_ms       INTEGER NOT NULL,
  user_id       TEXT    NOT NULL,
  username      TEXT    NOT NULL,
  text          TEXT    NOT NULL,
  kind          TEXT    NOT NULL,
  client_msg_id TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (room, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_msg_id
  ON messages (room, user_id, client_msg_id) WHERE client_msg_id <> '';
`;

const COLUMNS = "room, id, time_ms, user_id, username, text, kind, client_msg_id";

interface Row {
  room: string;
  id: number;
  time_ms: number;
  user_id: string;
  username: string;
  text: string;
  kind: string;
  client_msg_id: string;
}

function toMessage(row: Row): StoredMessage {
  return {
    room: row.room,
    id: row.id,
    timeMs: row.time_ms,
    userId: row.user_id,
    username: row.username,
    text: row.text,
    kind: row.kind as MessageKind,
    clientMsgId: row.client_msg_id,
  };
}

/** The embedded store: one SQLite file in WAL mode, through Node's built-in driver. */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  // This process is the file's only writer, so each room's next id can be
  // kept here instead of read back on every append.
  readonly #lastIds = new Map<RoomId, MessageId>();
  readonly #insert: StatementSync;
  readonly #byClientMsgId: StatementSync;
  readonly #maxId: StatementSync;
  readonly #newest: StatementSync;
  readonly #newestChat: StatementSync;
  readonly #after: StatementSync;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new DatabaseSync(options.path);
    this.#db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
    );
    this.#db.exec(SCHEMA);
    this.#clock = options.clock ?? systemClock;
    this.#insert = this.#db.prepare(
      `INSERT INTO messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // The repeated "<> ''" lets SQLite use the partial index; without it every
    // lookup scans the room.
    this.#byClientMsgId = this.#db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND user_id = ? AND client_msg_id = ? AND client_msg_id <> ''`,
    );
    this.#maxId = this.#db.prepare(
      "SELECT coalesce(max(id), 0) AS id FROM messages WHERE room = ?",
    );
    this.#newest = this.#db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    );
    this.#newestChat = this.#db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND id < ? AND kind <> 'system' ORDER BY id DESC LIMIT ?`,
    );
    this.#after = this.#db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?`,
    );
  }

  async append(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    const timeMs = this.#clock.now();
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const message of messages) {
        if (message.clientMsgId !== "") {
          const row = this.#byClientMsgId.get(message.room, message.userId, message.clientMsgId);
          if (row) {
            results.push({ message: toMessage(row as unknown as Row), duplicate: true });
            continue;
          }
        }
        const id = this.#lastIdSync(message.room) + 1;
        this.#insert.run(
          message.room,
          id,
          timeMs,
          message.userId,
          message.username,
          message.text,
          message.kind,
          message.clientMsgId,
        );
        this.#lastIds.set(message.room, id);
        results.push({ message: { ...message, id, timeMs }, duplicate: false });
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      // Ids taken inside the rolled-back transaction are free again.
      for (const message of messages) this.#lastIds.delete(message.room);
      throw error;
    }
    return results;
  }

  async history(room: RoomId, options: HistoryOptions): Promise<StoredMessage[]> {
    const before =
      options.beforeId && options.beforeId > 0 ? options.beforeId : Number.MAX_SAFE_INTEGER;
    const statement = options.includeSystem ? this.#newest : this.#newestChat;
    return statement
      .all(room, before, options.limit)
      .map((row) => toMessage(row as unknown as Row));
  }

  async after(room: RoomId, afterId: MessageId, limit: number): Promise<StoredMessage[]> {
    return this.#after.all(room, afterId, limit).map((row) => toMessage(row as unknown as Row));
  }

  async lastId(room: RoomId): Promise<MessageId> {
    return this.#lastIdSync(room);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }

  #lastIdSync(room: RoomId): MessageId {
    let id = this.#lastIds.get(room);
    if (id === undefined) {
      id = Number((this.#maxId.get(room) as { id: number }).id);
      this.#lastIds.set(room, id);
    }
    return id;
  }
}

export function createSqliteStore(options: SqliteStoreOptions): Store {
  return new SqliteStore(options);
}
