// A database from before search (schema version 7) gains the index in
// migration 8 and has its messages indexed after it opens, in batches that
// survive an interruption: stopped or killed, the next open continues from
// the last batch committed, and every message ends up found exactly once.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { migrate } from "../src/store/sqlite-migrations.ts";
import { SearchBackfill, type SearchIndexProgress } from "../src/store/sqlite-search-backfill.ts";
import { registerSearchFunctions, SearchIndex } from "../src/store/sqlite-search-index.ts";
import { openSqliteStore, type SqliteStore } from "../src/store/sqlite-store.ts";
import type { SearchQuery } from "../src/store/store.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-search-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;
const STORE_URL = new URL("../src/store/sqlite-store.ts", import.meta.url).href;

/**
 * A version 7 file holding `count` rows over ten rooms, three to a
 * millisecond; every fifth is a system line and every seventh chat message
 * was deleted. Returns the (room, id) of the chat messages search must find.
 */
function versionSevenFile(path: string, count: number): Set<string> {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    migrate(db, path, T0, 7);
    const insert = db.prepare(
      `INSERT INTO messages (room, id, time_ms, user_id, username, text, kind, client_msg_id, ref_id, edited_ms, deleted, count)
       VALUES (?, ?, ?, 'a-writer', 'wendy', ?, ?, '', 0, 0, ?, 0)`,
    );
    const findable = new Set<string>();
    db.exec("BEGIN");
    for (let i = 0; i < count; i++) {
      const room = `r${i % 10}`;
      const id = Math.floor(i / 10) + 1;
      const system = i % 5 === 0;
      const deleted = !system && i % 7 === 0;
      const text = deleted ? "" : `alpha note ${i}${system ? " joined" : ""}`;
      insert.run(
        room,
        id,
        T0 + Math.floor(i / 3),
        text,
        system ? "system" : "chat",
        deleted ? 1 : 0,
      );
      if (!system && !deleted) findable.add(`${room}/${id}`);
    }
    db.exec("COMMIT");
    return findable;
  } finally {
    db.close();
  }
}

/** Every hit of `words` for an admin, paged newest first, as room/id in page order. */
async function everyHit(store: SqliteStore, words: string[], limit = 97): Promise<string[]> {
  const hits: string[] = [];
  let cursor: SearchQuery["after"];
  for (;;) {
    const page = await store.search({
      reader: "a-admin",
      admin: true,
      nowMs: T0,
      include: [{ kind: "words", words, prefix: false }],
      exclude: [],
      limit,
      ...(cursor ? { after: cursor } : {}),
    });
    hits.push(...page.map((m) => `${m.room}/${m.id}`));
    const last = page.at(-1);
    if (page.length < limit || !last) return hits;
    cursor = { timeMs: last.timeMs, room: last.room, id: last.id };
  }
}

/** Opens the store, keeping its indexing reports; `finished` settles with the last. */
async function openReporting(path: string) {
  const reports: SearchIndexProgress[] = [];
  let done: (progress: SearchIndexProgress) => void = () => {};
  const finished = new Promise<SearchIndexProgress>((resolve) => {
    done = resolve;
  });
  const store = await openSqliteStore({
    path,
    now: () => T0 + 10_000_000,
    onSearchIndexProgress(progress) {
      reports.push(progress);
      if (progress.finished) done(progress);
    },
    onSearchIndexError(error) {
      assert.fail(error);
    },
  });
  return { store, reports, finished };
}

function savedPosition(path: string): { room: string; id: number; done: number } | undefined {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const value = db.prepare("SELECT value FROM meta WHERE key = 'search_backfill'").get()?.value;
    return typeof value === "string" ? JSON.parse(value) : undefined;
  } finally {
    db.close();
  }
}

test("a version 7 file stopped after one batch of indexing continues from it on the next open, and every message is found once", async () => {
  const path = join(tempDir(), "v7.db");
  const findable = versionSevenFile(path, 5_000);

  // Migration 8 and one batch, then the connection ends, as a process killed
  // after that commit would leave it.
  const db = new DatabaseSync(path);
  registerSearchFunctions(db);
  migrate(db, path, T0 + 100);
  const backfill = new SearchBackfill(db, new SearchIndex(db));
  assert.deepEqual(backfill.start(), { done: 0, total: 5_000, finished: false });
  assert.deepEqual(backfill.step(), { done: 2_000, total: 5_000, finished: false });
  db.close();
  assert.deepEqual(savedPosition(path), { room: "r3", id: 500, done: 2_000 });

  const { store, reports, finished } = await openReporting(path);
  try {
    // It resumes where it stopped rather than starting over.
    assert.deepEqual(reports[0], { done: 2_000, total: 5_000, finished: false });
    // Written while indexing goes on, in a room not walked yet: indexed by
    // the append itself, and passed over by the walk.
    const [late] = await store.append([
      {
        room: "r9",
        userId: "a-writer",
        username: "wendy",
        text: "alpha arrives late",
        kind: "chat",
        clientMsgId: "",
      },
    ]);
    assert.ok(late);
    findable.add(`r9/${late.message.id}`);
    const last = await finished;
    assert.equal(last.done, last.total);
    assert.ok(last.done >= 5_000, JSON.stringify(last));
    assert.deepEqual(
      reports.map((r) => r.done),
      [...reports.map((r) => r.done)].sort((a, b) => a - b),
    );

    const hits = await everyHit(store, ["alpha"]);
    assert.equal(new Set(hits).size, hits.length, "each message once");
    assert.deepEqual(new Set(hits), findable);
    assert.deepEqual(await everyHit(store, ["joined"]), [], "system lines are not indexed");
    const [one] = await everyHit(store, ["note", "4999"]);
    assert.equal(one, "r9/500");
  } finally {
    await store.close();
  }
  assert.equal(savedPosition(path), undefined, "nothing left to index");

  // Indexed once and for all: a later open has nothing to do.
  const again = await openReporting(path);
  try {
    assert.deepEqual(again.reports, []);
    assert.equal((await everyHit(again.store, ["alpha"])).length, findable.size);
  } finally {
    await again.store.close();
  }
});

test("indexing killed mid-way (SIGKILL) continues on the next open from its last batch", {
  timeout: 60_000,
}, async () => {
  const path = join(tempDir(), "killed.db");
  const findable = versionSevenFile(path, 20_000);
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const { openSqliteStore } = await import(process.argv[1]);
       await openSqliteStore({
         path: process.argv[2],
         onSearchIndexProgress: (p) => console.log(JSON.stringify(p)),
       });
       setInterval(() => {}, 60_000);`,
      STORE_URL,
      path,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  // Killed as soon as it reports a batch done.
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const lines = out.split("\n").filter((line) => line.startsWith("{"));
      if (lines.some((line) => (JSON.parse(line) as SearchIndexProgress).done > 0)) {
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.once("exit", () => reject(new Error(`the child exited first:\n${out}`)));
  });
  assert.equal(await exited, null);

  const saved = savedPosition(path);
  const { store, reports, finished } = await openReporting(path);
  try {
    // Killed before the end (as it nearly always is): the next open starts
    // from the batch it had committed, not from the beginning.
    if (saved) {
      assert.ok(saved.done > 0 && saved.done < 20_000, JSON.stringify(saved));
      assert.equal(reports[0]?.done, saved.done);
      await finished;
    } else assert.deepEqual(reports, []);
    const hits = await everyHit(store, ["alpha"], 1_000);
    assert.equal(new Set(hits).size, hits.length, "each message once");
    assert.deepEqual(new Set(hits), findable);
  } finally {
    await store.close();
  }
});

test("a new database, or one that held no messages, has nothing to index", async () => {
  const fresh = join(tempDir(), "fresh.db");
  const first = await openReporting(fresh);
  await first.store.close();
  assert.deepEqual(first.reports, []);

  const empty = join(tempDir(), "empty-v7.db");
  versionSevenFile(empty, 0);
  const second = await openReporting(empty);
  await second.store.close();
  assert.deepEqual(second.reports, []);
  assert.equal(savedPosition(empty), undefined);
});
