// The search indexes (see pg-search-schema.ts): built after the schema's
// migrations, concurrently on a big table, with progress, carrying on after
// an interruption.
import type pg from "pg";
import { INDEXED_ROWS, pieceRows, TRIGRAM_INDEX, wordIndexName } from "./pg-search-schema.ts";

/** How far along the search indexes' build is, for the operator watching the start. */
export interface SearchIndexProgress {
  readonly index: string;
  /** Which index this is, from 1, of `steps`. */
  readonly step: number;
  readonly steps: number;
  /**
   * PostgreSQL's phase ("building index: scanning table", "waiting for
   * writers before build", ...), or "waiting for another node", "building",
   * "done".
   */
  readonly phase: string;
  /** Blocks or tuples of the phase done, of `total` (0 when the phase has no count). */
  readonly done: number;
  readonly total: number;
  /** The server process building it. */
  readonly pid: number;
}

export interface SearchIndexOptions {
  readonly language: string;
  readonly onProgress?: (progress: SearchIndexProgress) => void;
  /** How often a concurrent build's progress is read. */
  readonly progressEveryMs?: number;
}

/**
 * Below this size a table gets its indexes the plain way, in moments: a
 * concurrent build waits for every transaction in the database that is older.
 */
const CONCURRENT_FROM_BYTES = 4 * 1024 * 1024;
/** How often a node waits its turn while another one builds. */
const TURN_RETRY_MS = 1_000;

/**
 * Makes sure the search indexes exist and are valid. Each is built with
 * CREATE INDEX CONCURRENTLY on a big table, so appends go on meanwhile; an
 * index left INVALID by an interrupted build is dropped and built again, and
 * the indexes already built are kept, so a start after an interruption
 * carries on from the index it stopped in. Nodes take turns (an advisory
 * lock, tried rather than waited for: a session waiting inside a statement
 * holds a snapshot that the concurrent build would wait for in turn).
 */
export async function ensureSearchIndexes(
  client: pg.PoolClient,
  pool: pg.Pool,
  s: string,
  options: SearchIndexOptions,
): Promise<void> {
  const language = await checkLanguage(client, options.language);
  const trigramOps = await trigramOpclass(client);
  const wanted = [
    {
      name: wordIndexName(language),
      columns: `to_tsvector('${language}'::regconfig, ${s}.search_words(text)), ${s}.search_keys(time_ms, room)`,
    },
    {
      name: TRIGRAM_INDEX,
      columns: `${s}.search_pieces(text) ${trigramOps}, ${s}.search_keys(time_ms, room)`,
      where: ` AND ${pieceRows(s)}`,
    },
  ];
  const pid = Number((await client.query("SELECT pg_backend_pid() AS pid")).rows[0]?.pid);
  const lockKey = `grpc-chat-search:${s}`;
  for (let waited = false; ; waited = true) {
    const missing = await missingIndexes(client, s, wanted);
    if (missing.length === 0 && !(await obsoleteWordIndexes(client, s, language)).length) return;
    const { rows } = await client.query("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [
      lockKey,
    ]);
    if (rows[0]?.ok === true) break;
    if (!waited) {
      const first = missing[0]?.name ?? wordIndexName(language);
      options.onProgress?.({
        index: first,
        step: 1,
        steps: wanted.length,
        phase: "waiting for another node",
        done: 0,
        total: 0,
        pid,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, TURN_RETRY_MS));
  }
  // A build stopped from outside ends the connection; the build's query fails
  // with that, and the client's own error event would otherwise be thrown.
  const failed = () => {};
  client.on("error", failed);
  try {
    const concurrent = await isBig(client, s);
    for (const [i, index] of wanted.entries()) {
      const state = await indexState(client, s, index.name);
      if (state === "valid") continue;
      const progress = { index: index.name, step: i + 1, steps: wanted.length, pid };
      if (state === "invalid") {
        await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${s}.${index.name}`);
      }
      options.onProgress?.({ ...progress, phase: "building", done: 0, total: 0 });
      const sql = `CREATE INDEX ${concurrent ? "CONCURRENTLY" : ""} IF NOT EXISTS ${index.name}
        ON ${s}.messages USING gin (${index.columns}) WHERE ${INDEXED_ROWS}${index.where ?? ""}`;
      if (concurrent) await watched(client.query(sql), pool, progress, options);
      else await client.query(sql);
      options.onProgress?.({ ...progress, phase: "done", done: 0, total: 0 });
    }
    for (const name of await obsoleteWordIndexes(client, s, language)) {
      await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${s}.${name}`);
    }
  } finally {
    // A connection that broke took the lock with it, and its error is the one to tell.
    await client.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]).catch(() => {});
    client.off("error", failed);
  }
}

/** Runs `build`, reading its progress every so often from another connection. */
async function watched(
  build: Promise<unknown>,
  pool: pg.Pool,
  progress: Omit<SearchIndexProgress, "phase" | "done" | "total">,
  options: SearchIndexOptions,
): Promise<void> {
  let polling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(async () => {
      const { rows } = await pool
        .query(
          `SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total
           FROM pg_stat_progress_create_index WHERE pid = $1`,
          [progress.pid],
        )
        .catch(() => ({ rows: [] }));
      const row = rows[0];
      if (!row) return;
      const byBlocks = Number(row.blocks_total) > 0;
      options.onProgress?.({
        ...progress,
        phase: String(row.phase),
        done: Number(byBlocks ? row.blocks_done : row.tuples_done),
        total: Number(byBlocks ? row.blocks_total : row.tuples_total),
      });
    });
  }, options.progressEveryMs ?? 1_000);
  try {
    await build;
  } finally {
    clearInterval(timer);
    await polling;
  }
}

async function checkLanguage(client: pg.PoolClient, language: string): Promise<string> {
  const { rows } = await client.query(
    "SELECT cfgname FROM pg_ts_config ORDER BY cfgname = 'simple' DESC, cfgname",
  );
  const known = rows.map((row) => String(row.cfgname));
  if (/^[a-z_][a-z0-9_]{0,39}$/.test(language) && known.includes(language)) return language;
  throw new Error(
    `"${language}" is not a text search configuration of this PostgreSQL server; use one of: ${known.join(", ")}.`,
  );
}

/** gin_trgm_ops, named with the schema pg_trgm was created in, which need not be on the search path. */
async function trigramOpclass(client: pg.PoolClient): Promise<string> {
  const { rows } = await client.query(
    `SELECT quote_ident(n.nspname) AS schema FROM pg_extension e
     JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`,
  );
  const schema = rows[0]?.schema;
  if (schema === undefined) throw new Error("The pg_trgm extension is gone from the database.");
  return `${schema}.gin_trgm_ops`;
}

async function indexState(
  client: pg.PoolClient,
  s: string,
  name: string,
): Promise<"valid" | "invalid" | "missing"> {
  const { rows } = await client.query(
    `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [s, name],
  );
  if (!rows[0]) return "missing";
  return rows[0].indisvalid === true ? "valid" : "invalid";
}

async function missingIndexes<T extends { name: string }>(
  client: pg.PoolClient,
  s: string,
  wanted: readonly T[],
): Promise<T[]> {
  const missing: T[] = [];
  for (const index of wanted) {
    if ((await indexState(client, s, index.name)) !== "valid") missing.push(index);
  }
  return missing;
}

/** Word indexes of another text search configuration, left from before it changed. */
async function obsoleteWordIndexes(
  client: pg.PoolClient,
  s: string,
  language: string,
): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'i' AND starts_with(c.relname, $2) AND c.relname <> $3`,
    [s, wordIndexName(""), wordIndexName(language)],
  );
  return rows.map((row) => String(row.relname));
}

async function isBig(client: pg.PoolClient, s: string): Promise<boolean> {
  const { rows } = await client.query(`SELECT pg_relation_size('${s}.messages') AS bytes`);
  return Number(rows[0]?.bytes ?? 0) >= CONCURRENT_FROM_BYTES;
}
