// The search bench's SQLite databases: a cached corpus is a file under
// ./data/bench with a JSON marker beside it, written only once the load is
// complete; a scratch one lives in a temporary directory.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../src/store/sqlite-store.ts";
import type { Database, Engine, StorageSizes } from "./search-engines.ts";

const CACHE_DIR = resolve("data", "bench");

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** The store keeps the file locked while open, so these read it only between opens. */
function withFile<T>(path: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const schemaRows = (db: DatabaseSync) =>
  db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )
    .all() as unknown as SchemaRow[];

/** The FTS5 tables, whose shadow tables (`<name>_data` and the rest) are theirs too. */
const ftsTables = (rows: readonly SchemaRow[]) =>
  rows
    .filter((row) => row.type === "table" && /USING\s+fts5/i.test(row.sql ?? ""))
    .map((row) => row.name);

/** The index's own tables (a store may keep a key table beside its FTS5 ones) go by its name. */
const SEARCH_NAME = /search|fts|trgm/i;

function belongsToSearch(name: string, fts: readonly string[]): boolean {
  return (
    SEARCH_NAME.test(name) || fts.some((table) => name === table || name.startsWith(`${table}_`))
  );
}

function sizesOf(path: string): StorageSizes {
  return withFile(path, (db) => {
    const rows = schemaRows(db);
    const fts = ftsTables(rows);
    const tableOf = new Map(rows.map((row) => [row.name, row.tbl_name]));
    const parts: Record<string, number> = {};
    let messages = 0;
    let messageIndexes = 0;
    let search = 0;
    let total = 0;
    const pages = db
      .prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name")
      .all() as unknown as { name: string; bytes: number }[];
    for (const { name, bytes } of pages) {
      parts[name] = bytes;
      total += bytes;
      // Automatic indexes are named after their table: sqlite_autoindex_<table>_<n>.
      const table = tableOf.get(name) ?? /^sqlite_autoindex_(.+)_\d+$/.exec(name)?.[1] ?? name;
      if (belongsToSearch(table, fts)) search += bytes;
      else if (name === "messages") messages += bytes;
      else if (table === "messages") messageIndexes += bytes;
    }
    return { messages, messageIndexes, search, total, parts, method: "dbstat" };
  });
}

function database(path: string, removeAll: () => void): Database {
  const markerPath = `${path}.json`;
  return {
    where: relative(process.cwd(), path),
    open: (now, durability) => openSqliteStore({ path, now, durability }),
    marker: async () => (existsSync(markerPath) ? readFileSync(markerPath, "utf8") : undefined),
    setMarker: async (marker) => writeFileSync(markerPath, marker),
    schemaDigest: async () =>
      createHash("sha256")
        .update(JSON.stringify(withFile(path, schemaRows)))
        .digest("hex"),
    // The store never runs ANALYZE, so neither does the bench.
    settle: async () => {},
    sizes: async () => sizesOf(path),
    async dropSearchIndex(store, reopen) {
      // The store holds the file's lock while open.
      await store.close();
      const dropped = withFile(path, (db) => {
        const rows = schemaRows(db);
        const fts = ftsTables(rows);
        const searchTables = rows
          .filter((row) => row.type === "table" && belongsToSearch(row.name, fts))
          .map((row) => row.name);
        const removed: string[] = [];
        // Triggers are what write the index (or list what the store then
        // indexes) on append; its tables stay, empty.
        for (const row of rows) {
          if (row.type !== "trigger") continue;
          const writesIndex = searchTables.some((table) =>
            new RegExp(`\\b${table}\\b`).test(row.sql ?? ""),
          );
          if (!writesIndex) continue;
          db.exec(`DROP TRIGGER "${row.name}"`);
          removed.push(`trigger ${row.name}`);
        }
        return removed;
      });
      return { store: await reopen(), dropped };
    },
    remove: async () => removeAll(),
  };
}

export const sqliteEngine: Engine = {
  label: "SQLite",
  async cached(key) {
    const path = join(CACHE_DIR, `search-${key}.db`);
    mkdirSync(dirname(path), { recursive: true });
    return database(path, () => {
      for (const suffix of ["", "-wal", "-shm", ".json"])
        rmSync(`${path}${suffix}`, { force: true });
    });
  },
  async scratch() {
    const dir = mkdtempSync(join(tmpdir(), "grpc-chat-bench-search-"));
    return database(join(dir, "chat.db"), () => rmSync(dir, { recursive: true, force: true }));
  },
  serverCpuSeconds: () => 0,
};
