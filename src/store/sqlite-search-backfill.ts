// Indexing for search the messages a database held before migration 8: in
// batches, one transaction each, between the store's other work. The
// position is kept in meta (key search_backfill) in the batch's own
// transaction, so a process stopped or killed at any point continues from
// its last commit. Messages written meanwhile are indexed by the triggers;
// the walk passes over them.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { SearchIndex } from "./sqlite-search-index.ts";

/**
 * How far indexing is: `done` of `total` messages walked (total: what there
 * was to walk at open, and what arrived meanwhile in rooms not yet walked);
 * `finished` once every message is indexed.
 */
export interface SearchIndexProgress {
  readonly done: number;
  readonly total: number;
  readonly finished: boolean;
}

/** The line a server prints for `progress`. */
export function describeSearchIndexProgress(progress: SearchIndexProgress): string {
  const percent = progress.total === 0 ? 100 : Math.floor((progress.done * 100) / progress.total);
  return `Indexing messages for search: ${progress.done} of ${progress.total} (${percent}%)`;
}

/** Rows per transaction: an append waits for at most one batch. */
export const SEARCH_BACKFILL_BATCH = 2_000;

interface Position {
  readonly room: string;
  readonly id: number;
  readonly done: number;
}

export class SearchBackfill {
  readonly #db: DatabaseSync;
  readonly #batchRows: number;
  readonly #position: StatementSync;
  readonly #remaining: StatementSync;
  readonly #batch: StatementSync;
  readonly #insertDoc: StatementSync;
  readonly #pending: StatementSync;
  readonly #index: SearchIndex;
  readonly #save: StatementSync;
  readonly #finish: StatementSync;
  #total = 0;

  constructor(db: DatabaseSync, index: SearchIndex, batchRows = SEARCH_BACKFILL_BATCH) {
    this.#db = db;
    this.#index = index;
    this.#batchRows = batchRows;
    this.#position = db.prepare("SELECT value FROM meta WHERE key = 'search_backfill'");
    this.#remaining = db.prepare("SELECT count(*) AS n FROM messages WHERE (room, id) > (?, ?)");
    this.#batch = db.prepare(
      `SELECT room, id, time_ms, user_id, text, kind, deleted FROM messages
       WHERE (room, id) > (?, ?) ORDER BY room, id LIMIT ?`,
    );
    // As migration 8's insert trigger does it; a message the trigger
    // listed already keeps its doc.
    this.#insertDoc = db.prepare(
      `INSERT INTO search_docs (doc, room, id, user_id, has_link) VALUES (
         coalesce(
           (SELECT doc + 1 FROM search_docs
            WHERE doc >= CAST(:time AS INTEGER) * 65536 AND doc < (CAST(:time AS INTEGER) + 1) * 65536
            ORDER BY doc DESC LIMIT 1),
           CAST(:time AS INTEGER) * 65536),
         :room, :id, :user,
         :text LIKE '%http://%' OR :text LIKE '%https://%' OR :text LIKE '%www.%')
       ON CONFLICT (room, id) DO NOTHING`,
    );
    this.#pending = db.prepare("INSERT INTO search_pending (doc) VALUES (last_insert_rowid())");
    this.#save = db.prepare(
      "UPDATE meta SET value = json_object('room', ?, 'id', ?, 'done', ?) WHERE key = 'search_backfill'",
    );
    this.#finish = db.prepare("DELETE FROM meta WHERE key = 'search_backfill'");
  }

  /** Where indexing stands, counting what is left; undefined when every message is indexed. */
  start(): SearchIndexProgress | undefined {
    const position = this.#saved();
    if (!position) return undefined;
    const left = Number(this.#remaining.get(position.room, position.id)?.n ?? 0);
    this.#total = position.done + left;
    return { done: position.done, total: this.#total, finished: false };
  }

  /** Indexes the next batch in one transaction; undefined once every message is indexed. */
  step(): SearchIndexProgress | undefined {
    const position = this.#saved();
    if (!position) return undefined;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const rows = this.#batch.all(position.room, position.id, this.#batchRows);
      for (const row of rows) {
        if (row.kind !== "chat" || Number(row.deleted) !== 0) continue;
        const text = String(row.text);
        const { changes } = this.#insertDoc.run({
          time: Number(row.time_ms),
          room: String(row.room),
          id: Number(row.id),
          user: String(row.user_id),
          text,
        });
        if (Number(changes) > 0) this.#pending.run();
      }
      this.#index.flush();
      const done = position.done + rows.length;
      const last = rows.at(-1);
      const finished = rows.length < this.#batchRows || !last;
      if (finished) this.#finish.run();
      else this.#save.run(String(last.room), Number(last.id), done);
      this.#db.exec("COMMIT");
      // Messages that arrived in rooms not walked yet are counted as they pass.
      this.#total = finished ? done : Math.max(this.#total, done);
      return { done, total: this.#total, finished };
    } catch (error) {
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {}
      }
      throw error;
    }
  }

  #saved(): Position | undefined {
    const value = this.#position.get()?.value;
    if (typeof value !== "string") return undefined;
    const { room, id, done } = JSON.parse(value) as Position;
    return { room: String(room), id: Number(id), done: Number(done) };
  }
}
