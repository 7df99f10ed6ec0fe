// The search bench's PostgreSQL databases, each a schema: a cached corpus
// keeps its schema (marked complete by a comment on it, written last); a
// scratch one is dropped after.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { openPgStore } from "../src/store/pg-store.ts";
import type { Database, Engine, StorageSizes } from "./search-engines.ts";

/** The same server and variable as the cluster scenarios use. */
const PG_URL = process.env.GRPC_CHAT_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";

async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Index access methods the word and trigram indexes use; the store's other indexes are b-trees. */
const SEARCH_METHODS = new Set(["gin", "gist"]);
const SEARCH_NAME = /search|fts|trgm|tsv/i;

async function sizesOf(client: pg.Client, schema: string): Promise<StorageSizes> {
  const relations = await client.query(
    `SELECT c.relname AS name, c.relkind AS kind, am.amname AS method,
            coalesce(t.relname, c.relname) AS table_name,
            CASE WHEN c.relkind = 'i' THEN pg_relation_size(c.oid) ELSE pg_table_size(c.oid) END AS bytes
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_am am ON am.oid = c.relam
       LEFT JOIN pg_index i ON i.indexrelid = c.oid
       LEFT JOIN pg_class t ON t.oid = i.indrelid
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'i', 'm')`,
    [schema],
  );
  // A tsvector kept in the messages row is part of the index, though stored in the table.
  const vectors = await client.query(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = 'messages' AND data_type = 'tsvector'`,
    [schema],
  );
  let vectorBytes = 0;
  for (const { column_name } of vectors.rows) {
    const { rows } = await client.query(
      `SELECT coalesce(sum(pg_column_size("${column_name}")), 0) AS bytes FROM ${schema}.messages`,
    );
    vectorBytes += Number(rows[0]?.bytes ?? 0);
  }
  const parts: Record<string, number> = {};
  let messages = 0;
  let messageIndexes = 0;
  let search = vectorBytes;
  let total = 0;
  for (const row of relations.rows) {
    const bytes = Number(row.bytes);
    parts[row.name] = bytes;
    total += bytes;
    const isSearch =
      (row.kind === "i" && SEARCH_METHODS.has(row.method)) ||
      SEARCH_NAME.test(row.name) ||
      SEARCH_NAME.test(row.table_name);
    if (isSearch) search += bytes;
    else if (row.name === "messages") messages += bytes - vectorBytes;
    else if (row.table_name === "messages") messageIndexes += bytes;
  }
  if (vectorBytes) parts["messages tsvector columns"] = vectorBytes;
  return {
    messages,
    messageIndexes,
    search,
    total,
    parts,
    method: "pg_table_size and pg_relation_size per index; tsvector columns by pg_column_size",
  };
}

/** What makes the schema what it is, with its name taken out so two schemas compare. */
const SCHEMA_SQL = `
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(generation_expression, '') AS item
  FROM information_schema.columns WHERE table_schema = $1
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = $1
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND NOT t.tgisinternal
UNION ALL
SELECT 'function ' || pg_get_functiondef(p.oid)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.prokind = 'f'
ORDER BY 1`;

async function dropSearchIndex(client: pg.Client, schema: string): Promise<string[]> {
  const dropped: string[] = [];
  const indexes = await client.query(
    `SELECT c.relname AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = c.relam
      WHERE n.nspname = $1 AND c.relkind = 'i' AND (am.amname = ANY($2) OR c.relname ~* $3)`,
    [schema, [...SEARCH_METHODS], SEARCH_NAME.source],
  );
  for (const { name } of indexes.rows) {
    await client.query(`DROP INDEX ${schema}."${name}"`);
    dropped.push(`index ${name}`);
  }
  // Triggers that keep search data (a tsvector, a search table) on append.
  const triggers = await client.query(
    `SELECT t.tgname AS name, c.relname AS table_name FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE n.nspname = $1 AND NOT t.tgisinternal
        AND (pg_get_functiondef(p.oid) ~* 'tsvector|to_tsvector' OR pg_get_functiondef(p.oid) ~* $2)`,
    [schema, SEARCH_NAME.source],
  );
  for (const { name, table_name } of triggers.rows) {
    await client.query(`DROP TRIGGER "${name}" ON ${schema}."${table_name}"`);
    dropped.push(`trigger ${name}`);
  }
  const vectors = await client.query(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = 'messages' AND data_type = 'tsvector'`,
    [schema],
  );
  for (const { column_name } of vectors.rows) {
    await client.query(`ALTER TABLE ${schema}.messages DROP COLUMN "${column_name}"`);
    dropped.push(`column messages.${column_name}`);
  }
  return dropped;
}

function database(schema: string): Database {
  return {
    where: `schema ${schema}`,
    open: (now) => openPgStore({ url: PG_URL, schema, now }),
    marker: () =>
      withClient(async (client) => {
        const { rows } = await client.query(
          `SELECT obj_description(oid, 'pg_namespace') AS marker FROM pg_namespace WHERE nspname = $1`,
          [schema],
        );
        return rows[0]?.marker ?? undefined;
      }),
    setMarker: (marker) =>
      withClient(async (client) => {
        await client.query(`COMMENT ON SCHEMA ${schema} IS ${client.escapeLiteral(marker)}`);
      }),
    schemaDigest: () =>
      withClient(async (client) => {
        const { rows } = await client.query(SCHEMA_SQL, [schema]);
        const text = rows.map((row) => String(row.item).replaceAll(`${schema}.`, "")).join("\n");
        return createHash("sha256").update(text).digest("hex");
      }),
    settle: () =>
      withClient(async (client) => {
        const { rows } = await client.query(
          "SELECT tablename FROM pg_tables WHERE schemaname = $1",
          [schema],
        );
        for (const { tablename } of rows) {
          await client.query(`VACUUM (ANALYZE) ${schema}."${tablename}"`);
        }
      }),
    sizes: () => withClient((client) => sizesOf(client, schema)),
    async dropSearchIndex(store, reopen) {
      await store.close();
      const again = await reopen();
      // Dropped while the store is open: it may make missing indexes when it opens.
      return {
        store: again,
        dropped: await withClient((client) => dropSearchIndex(client, schema)),
      };
    },
    remove: () =>
      withClient(async (client) => {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }),
  };
}

/** CPU seconds of every postgres process on this machine (the bench's connections among them), ended ones included. */
function postgresCpuSeconds(): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (!stat.includes("(postgres)")) continue;
      const fields = stat.split(") ")[1]?.split(" ") ?? [];
      // With the children's: the server's own process gains the time of
      // connections that have ended (a load's pool is gone by its end).
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // It ended while we looked.
    }
  }
  return ticks / 100;
}

export const pgEngine: Engine = {
  label: "PostgreSQL",
  cached: async (key) => database(`bench_search_${key}`),
  scratch: async () => database(`bench_search_scratch_${randomBytes(4).toString("hex")}`),
  serverCpuSeconds: postgresCpuSeconds,
};
