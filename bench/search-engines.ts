// What the search bench needs from a database beside the Store interface:
// where a corpus is kept between runs, whether it is complete and of the
// schema the code makes today, how big its tables and indexes are, and how
// to take the search index out of a fresh one (for the ingest comparison).
import type { Store } from "../src/store/store.ts";

/** Bytes of each part of the database that matters to search. */
export interface StorageSizes {
  /** The messages table itself (SQLite: its b-tree; PostgreSQL: heap, TOAST and maps). */
  readonly messages: number;
  /** The messages table's other indexes (primary key and the rest). */
  readonly messageIndexes: number;
  /** Everything the search index adds: tables, shadow tables, indexes. */
  readonly search: number;
  /** The whole database (SQLite: the file; PostgreSQL: the schema). */
  readonly total: number;
  /** Each object by name, for the JSON line. */
  readonly parts: Readonly<Record<string, number>>;
  /** How the sizes were read. */
  readonly method: string;
}

/** One database: a SQLite file or a PostgreSQL schema. */
export interface Database {
  /** For people: the file or the schema. */
  readonly where: string;
  open(now: () => number, durability: "full" | "normal"): Promise<Store>;
  /** The stored marker of a complete load (undefined: none, or an incomplete load). */
  marker(): Promise<string | undefined>;
  setMarker(marker: string): Promise<void>;
  /** A digest of the schema as stored (tables, indexes, triggers); the store must be closed. */
  schemaDigest(): Promise<string>;
  /**
   * After a bulk load, what a database in service does by itself before
   * long (PostgreSQL: autovacuum's VACUUM and ANALYZE), done at once so
   * that the first run does not measure a database half way through it.
   */
  settle(): Promise<void>;
  /** The store must be closed. */
  sizes(): Promise<StorageSizes>;
  /**
   * Takes out of a new database what keeps the search index up to date on
   * append, once `store` has made the schema, and resolves to the store to
   * append with and what was removed (nothing when there is no index). The
   * store is closed and opened again (`reopen`) first, as the run with the
   * index does, since a store may make a missing index when it opens.
   */
  dropSearchIndex(
    store: Store,
    reopen: () => Promise<Store>,
  ): Promise<{ store: Store; dropped: string[] }>;
  remove(): Promise<void>;
}

export interface Engine {
  /** "SQLite" or "PostgreSQL". */
  readonly label: string;
  /** The database a corpus with this key is cached in. */
  cached(key: string): Promise<Database>;
  /** A new, empty database, gone after `remove()`. */
  scratch(): Promise<Database>;
  /** CPU seconds used so far by the engine's own processes (PostgreSQL's server); 0 when it runs in ours. */
  serverCpuSeconds(): number;
}
