import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { guestPublicId } from "../src/store/public-id.ts";
import { planSearch } from "../src/store/sqlite-search.ts";
import { registerSearchFunctions } from "../src/store/sqlite-search-index.ts";
import { openSqliteStore } from "../src/store/sqlite-store.ts";
import { type NewMessage, StoreUnavailableError } from "../src/store/store.ts";
import { adminContract } from "./store-admin-contract.ts";
import { manualClock, storeContract } from "./store-contract.ts";
import { governanceContract } from "./store-governance-contract.ts";
import { integrationContract } from "./store-integration-contract.ts";
import { searchContract } from "./store-search-contract.ts";

/** The migrations a database file records, as [version, applied at ms], in order. */
function appliedMigrations(db: DatabaseSync): Array<[unknown, unknown]> {
  return db
    .prepare("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version")
    .all()
    .map((row) => [row.version, row.applied_at_ms]);
}

// Our own temp dirs rather than helpers.ts: that module loads the server and
// the client, which a store-only suite should not depend on.
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-sqlite-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;
const STORE_URL = new URL("../src/store/sqlite-store.ts", import.meta.url).href;
const LOCKED =
  /^Another process is using the SQLite database .* only one server may use a file at a time\. Stop it, or choose another --db\.$/;

const message = (room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  room,
  userId: "u",
  username: "una",
  text,
  kind: "chat",
  clientMsgId: "",
  ...extra,
});

const isLocked = (error: unknown) => {
  assert.ok(error instanceof StoreUnavailableError, String(error));
  assert.match(error.message, LOCKED);
  return true;
};

storeContract("SqliteStore (:memory:)", (now) => openSqliteStore({ path: ":memory:", now }));

storeContract("SqliteStore (file)", (now) =>
  openSqliteStore({ path: join(tempDir(), "chat.db"), now }),
);

governanceContract("SqliteStore (:memory:)", (now) => openSqliteStore({ path: ":memory:", now }));

governanceContract("SqliteStore (file)", (now) =>
  openSqliteStore({ path: join(tempDir(), "chat.db"), now }),
);

adminContract("SqliteStore (:memory:)", (now) => openSqliteStore({ path: ":memory:", now }));

adminContract("SqliteStore (file)", (now) =>
  openSqliteStore({ path: join(tempDir(), "chat.db"), now }),
);

integrationContract("SqliteStore (:memory:)", (now) => openSqliteStore({ path: ":memory:", now }));

integrationContract("SqliteStore (file)", (now) =>
  openSqliteStore({ path: join(tempDir(), "chat.db"), now }),
);

searchContract("SqliteStore (:memory:)", (now) => openSqliteStore({ path: ":memory:", now }));

searchContract("SqliteStore (file)", (now) =>
  openSqliteStore({ path: join(tempDir(), "chat.db"), now }),
);

test("a file reopened keeps its messages, its ids (pruned ones too) and its epoch", async () => {
  const path = join(tempDir(), "nested", "deeper", "chat.db");
  const clock = manualClock(T0);
  const first = await openSqliteStore({ path, now: clock.now });
  await first.append([message("emptied", "e1"), message("emptied", "e2")]);
  clock.advance(10);
  await first.append([message("r", "one"), message("r", "two", { clientMsgId: "k" })]);
  assert.equal(await first.prune({ olderThanMs: T0 + 5 }), 2);
  const epoch = first.epoch;
  await first.close();

  const second = await openSqliteStore({ path, now: clock.now });
  try {
    assert.equal(second.epoch, epoch);
    assert.deepEqual(
      (await second.history("r", { limit: 5, includeSystem: true })).map((m) => [m.id, m.text]),
      [
        [2, "two"],
        [1, "one"],
      ],
    );
    assert.equal(await second.lastId("emptied"), 2);
    assert.deepEqual(await second.after("emptied", 0, 10), { messages: [], prunedThrough: 2 });
    const [again] = await second.append([message("r", "two again", { clientMsgId: "k" })]);
    assert.deepEqual([again?.duplicate, again?.message.id], [true, 2]);
    const [r3, e3] = await second.append([message("r", "three"), message("emptied", "e3")]);
    assert.equal(r3?.message.id, 3);
    assert.equal(e3?.message.id, 3);
  } finally {
    await second.close();
  }

  const other = await openSqliteStore({ path: join(tempDir(), "other.db") });
  const memory = await openSqliteStore({ path: ":memory:" });
  assert.equal(new Set([epoch, other.epoch, memory.epoch]).size, 3);
  await Promise.all([other.close(), memory.close()]);
});

test("a file reopened keeps its idKey; another history has its own", async () => {
  const path = join(tempDir(), "chat.db");
  const first = await openSqliteStore({ path });
  const idKey = first.idKey;
  assert.match(idKey, /^[0-9a-f]{64}$/);
  await first.close();

  const second = await openSqliteStore({ path });
  assert.equal(second.idKey, idKey);
  await second.close();

  const other = await openSqliteStore({ path: join(tempDir(), "other.db") });
  const memory = await openSqliteStore({ path: ":memory:" });
  assert.equal(new Set([idKey, other.idKey, memory.idKey]).size, 3);
  await Promise.all([other.close(), memory.close()]);
});

// The schema as the store created it before migrations were numbered.
const OLD_SCHEMA = `
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

test("a database written before migrations opens as version 1 and is migrated, rows intact", async () => {
  const path = join(tempDir(), "old.db");
  const old = new DatabaseSync(path);
  old.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  old.exec(OLD_SCHEMA);
  const insert = old.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  insert.run("lobby", 1, T0, "u", "una", "first", "chat", "");
  insert.run("lobby", 2, T0 + 1, "system", "System", "una joined", "system", "");
  insert.run("lobby", 3, T0 + 2, "u", "una", "keyed", "chat", "k1");
  insert.run("side", 1, T0 + 3, "v", "vic", "aside", "chat", "");
  old.close();

  const store = await openSqliteStore({ path, now: manualClock(T0 + 100).now });
  let epoch: string;
  let idKey: string;
  try {
    epoch = store.epoch;
    idKey = store.idKey;
    assert.ok(epoch.length > 0);
    const u = guestPublicId(idKey, "u");
    assert.deepEqual(await store.history("lobby", { limit: 10, includeSystem: true }), [
      {
        room: "lobby",
        id: 3,
        timeMs: T0 + 2,
        userId: u,
        username: "una",
        text: "keyed",
        kind: "chat",
        clientMsgId: "k1",
      },
      {
        room: "lobby",
        id: 2,
        timeMs: T0 + 1,
        userId: "system",
        username: "System",
        text: "una joined",
        kind: "system",
        clientMsgId: "",
      },
      {
        room: "lobby",
        id: 1,
        timeMs: T0,
        userId: u,
        username: "una",
        text: "first",
        kind: "chat",
        clientMsgId: "",
      },
    ]);
    const [dup] = await store.append([
      message("lobby", "keyed again", { clientMsgId: "k1", userId: u }),
    ]);
    assert.deepEqual([dup?.duplicate, dup?.message.id, dup?.message.text], [true, 3, "keyed"]);
    const [next] = await store.append([message("lobby", "new")]);
    assert.equal(next?.message.id, 4);
    assert.equal(await store.lastId("side"), 1);
    assert.equal((await store.after("lobby", 0, 10)).prunedThrough, 0);
    const hook = {
      id: "h-bot",
      secretHash: "ab".repeat(32),
      room: "lobby",
      name: "bot",
      createdBy: u,
      createdMs: T0 + 100,
      revokedMs: 0,
    };
    assert.equal(await store.createWebhook(hook), true);
    assert.deepEqual(await store.webhooks("lobby"), [hook]);
    const bot = {
      userId: "b-bot",
      username: "Bot",
      ownerId: u,
      rooms: ["lobby"],
      canRead: true,
      tokenHash: "cd".repeat(32),
      createdMs: T0 + 100,
      revokedMs: 0,
      lastError: "",
      lastErrorMs: 0,
      outgoing: undefined,
    };
    const account = { ...bot, nameKey: "bot", passwordHash: "!" };
    assert.equal(await store.createBot(account, bot, [{ room: "lobby", deliveredId: 4 }]), true);
    assert.deepEqual(await store.botByToken(bot.tokenHash), bot);
  } finally {
    await store.close();
  }

  const check = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual(appliedMigrations(check), [
    [1, T0 + 100],
    [2, T0 + 100],
    [3, T0 + 100],
    [4, T0 + 100],
    [5, T0 + 100],
    [6, T0 + 100],
    [7, T0 + 100],
    [8, T0 + 100],
    [9, T0 + 100],
    [10, T0 + 100],
  ]);
  assert.equal(check.prepare("SELECT count(*) AS n FROM messages").get()?.n, 5);
  check.close();

  const reopened = await openSqliteStore({ path });
  assert.equal(reopened.epoch, epoch);
  assert.equal(reopened.idKey, idKey);
  await reopened.close();
});

// What version 2 added to OLD_SCHEMA, and the table that records migrations.
const VERSION_2_SCHEMA = `
CREATE TABLE schema_migrations (
  version       INTEGER PRIMARY KEY,
  applied_at_ms INTEGER NOT NULL
);
CREATE TABLE meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE rooms (
  room           TEXT    PRIMARY KEY,
  pruned_through INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO schema_migrations VALUES (1, 0), (2, 0);
INSERT INTO meta VALUES ('epoch', 'epoch-from-version-2');
INSERT INTO rooms VALUES ('lobby', 1);
`;

test("a version 2 database gets version 3: its claimed user ids become public ids, system rows stay", async () => {
  const path = join(tempDir(), "v2.db");
  const old = new DatabaseSync(path);
  old.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  old.exec(OLD_SCHEMA);
  old.exec(VERSION_2_SCHEMA);
  const insert = old.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  // Id 1 was pruned.
  insert.run("lobby", 2, T0, "alice-secret", "alice", "hi", "chat", "k1");
  insert.run("lobby", 3, T0 + 1, "system", "System", "bob joined", "system", "");
  insert.run("lobby", 4, T0 + 2, "bob-secret", "bob", "hey", "chat", "k1");
  insert.run("side", 1, T0 + 3, "alice-secret", "alice", "aside", "chat", "");
  old.close();

  const store = await openSqliteStore({ path, now: manualClock(T0 + 100).now });
  try {
    assert.equal(store.epoch, "epoch-from-version-2");
    assert.match(store.idKey, /^[0-9a-f]{64}$/);
    const alice = guestPublicId(store.idKey, "alice-secret");
    const bob = guestPublicId(store.idKey, "bob-secret");
    const lobby = await store.after("lobby", 0, 10);
    assert.equal(lobby.prunedThrough, 1);
    assert.deepEqual(
      lobby.messages.map((m) => [m.id, m.userId, m.username, m.text, m.kind, m.clientMsgId]),
      [
        [2, alice, "alice", "hi", "chat", "k1"],
        [3, "system", "System", "bob joined", "system", ""],
        [4, bob, "bob", "hey", "chat", "k1"],
      ],
    );
    assert.deepEqual(
      (await store.after("side", 0, 10)).messages.map((m) => m.userId),
      [alice],
    );
    // The idempotency key now belongs to the public id, and to nobody else.
    const [dup] = await store.append([
      message("lobby", "hi again", { userId: alice, clientMsgId: "k1" }),
    ]);
    assert.deepEqual([dup?.duplicate, dup?.message.id], [true, 2]);
    const [claimed] = await store.append([
      message("lobby", "hi again", { userId: "alice-secret", clientMsgId: "k1" }),
    ]);
    assert.deepEqual([claimed?.duplicate, claimed?.message.id], [false, 5]);
  } finally {
    await store.close();
  }

  const check = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual(appliedMigrations(check), [
    [1, 0],
    [2, 0],
    [3, T0 + 100],
    [4, T0 + 100],
    [5, T0 + 100],
    [6, T0 + 100],
    [7, T0 + 100],
    [8, T0 + 100],
    [9, T0 + 100],
    [10, T0 + 100],
  ]);
  // Only the message appended after the upgrade carries the claimed id.
  assert.deepEqual(
    check
      .prepare("SELECT room, id FROM messages WHERE user_id = 'alice-secret'")
      .all()
      .map((row) => [row.room, row.id]),
    [["lobby", 5]],
  );
  check.close();
});

// What version 3 added to VERSION_2_SCHEMA.
const VERSION_3_SCHEMA = `
CREATE TABLE accounts (
  user_id       TEXT    NOT NULL PRIMARY KEY,
  username      TEXT    NOT NULL,
  name_key      TEXT    NOT NULL UNIQUE,
  password_hash TEXT    NOT NULL,
  created_ms    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE tokens (
  token_hash TEXT    NOT NULL PRIMARY KEY,
  user_id    TEXT    NOT NULL,
  expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_expires_ms ON tokens (expires_ms);
INSERT INTO meta VALUES ('id_key', '${"ab".repeat(32)}');
INSERT INTO schema_migrations VALUES (3, 0);
`;

test("a version 3 database gets version 4: every room's topic is empty, its rows intact", async () => {
  const path = join(tempDir(), "v3.db");
  const old = new DatabaseSync(path);
  old.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  old.exec(OLD_SCHEMA);
  old.exec(VERSION_2_SCHEMA);
  old.exec(VERSION_3_SCHEMA);
  // "lobby" lost id 1 to retention and "emptied" everything; the ids stay public ids.
  old.exec("INSERT INTO rooms VALUES ('emptied', 2)");
  const insert = old.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  insert.run("lobby", 2, T0, "g-alice", "alice", "hi", "chat", "k1");
  insert.run("lobby", 3, T0 + 1, "system", "System", "bob joined", "system", "");
  insert.run("side", 1, T0 + 3, "a-bob", "bob", "aside", "chat", "");
  old
    .prepare("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)")
    .run("a-bob", "bob", "bob", "$scrypt$hash", T0 - 50);
  old.prepare("INSERT INTO tokens VALUES (?, ?, ?)").run("f".repeat(64), "a-bob", T0 + 1_000);
  old.close();

  const store = await openSqliteStore({ path, now: manualClock(T0 + 100).now });
  try {
    assert.equal(store.epoch, "epoch-from-version-2");
    assert.equal(store.idKey, "ab".repeat(32));
    assert.deepEqual(await store.listRooms({ limit: 10 }), [
      { room: "lobby", lastId: 3, lastTimeMs: T0 + 1, topic: "" },
      { room: "side", lastId: 1, lastTimeMs: T0 + 3, topic: "" },
    ]);
    for (const room of ["lobby", "side", "emptied", "nowhere"]) {
      assert.equal(await store.topic(room), "", room);
    }
    const lobby = await store.after("lobby", 0, 10);
    assert.equal(lobby.prunedThrough, 1);
    assert.deepEqual(
      lobby.messages.map((m) => [m.id, m.timeMs, m.userId, m.text, m.kind, m.clientMsgId]),
      [
        [2, T0, "g-alice", "hi", "chat", "k1"],
        [3, T0 + 1, "system", "bob joined", "system", ""],
      ],
    );
    assert.deepEqual(await store.after("emptied", 0, 10), { messages: [], prunedThrough: 2 });
    assert.equal(await store.lastId("emptied"), 2);
    assert.deepEqual(await store.tokenAccount("f".repeat(64), T0), {
      account: {
        userId: "a-bob",
        username: "bob",
        nameKey: "bob",
        passwordHash: "$scrypt$hash",
        createdMs: T0 - 50,
      },
      expiresMs: T0 + 1_000,
    });
    await store.setTopic("emptied", "quiet now");
  } finally {
    await store.close();
  }

  const check = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual(appliedMigrations(check), [
    [1, 0],
    [2, 0],
    [3, 0],
    [4, T0 + 100],
    [5, T0 + 100],
    [6, T0 + 100],
    [7, T0 + 100],
    [8, T0 + 100],
    [9, T0 + 100],
    [10, T0 + 100],
  ]);
  assert.deepEqual(
    check
      .prepare("SELECT room, pruned_through, topic FROM rooms ORDER BY room")
      .all()
      .map((row) => [row.room, row.pruned_through, row.topic]),
    [
      ["emptied", 2, "quiet now"],
      ["lobby", 1, ""],
    ],
  );
  assert.equal(check.prepare("SELECT count(*) AS n FROM messages").get()?.n, 3);
  check.close();
});

test("a database from a newer server is refused and left as it was", async () => {
  const path = join(tempDir(), "newer.db");
  const store = await openSqliteStore({ path });
  await store.append([message("r", "kept")]);
  await store.close();
  const db = new DatabaseSync(path);
  db.prepare("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (99, 0)").run();
  db.close();

  await assert.rejects(openSqliteStore({ path }), (error: Error) => {
    assert.ok(!(error instanceof StoreUnavailableError));
    assert.match(error.message, /schema version 99/);
    assert.match(error.message, /a newer grpc-chat server wrote it/);
    return true;
  });

  const after = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual(
    appliedMigrations(after).map(([version]) => version),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99],
  );
  assert.equal(after.prepare("SELECT text FROM messages").get()?.text, "kept");
  after.close();
});

test("a second open of a file in use fails at once with what to do, and works once it is free", async () => {
  const path = join(tempDir(), "chat.db");
  const first = await openSqliteStore({ path });
  const started = performance.now();
  await assert.rejects(openSqliteStore({ path }), isLocked);
  // Well under the 5 s busy timeout that applies once a store is open.
  assert.ok(performance.now() - started < 2_000, `took ${performance.now() - started} ms`);
  await first.append([message("r", "still mine")]);
  await first.close();

  const second = await openSqliteStore({ path });
  assert.equal(await second.lastId("r"), 1);
  await second.close();
});

/** Waits for `child` to print `text`; rejects if it exits first. */
function printed(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (out.includes(text)) resolve();
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
    });
    child.once("exit", (code) =>
      reject(new Error(`the child exited (${code}) before printing ${text}:\n${out}\n${err}`)),
    );
  });
}

test("another process's open store holds the file until it dies, even by SIGKILL", {
  timeout: 30_000,
}, async () => {
  const path = join(tempDir(), "chat.db");
  const holder = spawn(
    process.execPath,
    [
      // No --input-type: the store's worker inherits execArgv, and that flag
      // is refused anywhere but the -e script itself.
      "-e",
      `const { openSqliteStore } = await import(process.argv[1]);
       await openSqliteStore({ path: process.argv[2] });
       console.log("open");
       setInterval(() => {}, 60_000);`,
      STORE_URL,
      path,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise((resolve) => holder.once("exit", resolve));
  try {
    await printed(holder, "open");
    await assert.rejects(openSqliteStore({ path }), isLocked);
  } finally {
    holder.kill("SIGKILL");
  }
  assert.equal(await exited, null);
  const store = await openSqliteStore({ path });
  await store.close();
});

test("appends that arrive together share commits", async () => {
  const store = await openSqliteStore({ path: join(tempDir(), "chat.db") });
  try {
    assert.equal(store.commits, 0);
    const calls = 50;
    const results = await Promise.all(
      Array.from({ length: calls }, (_, i) => store.append([message("r", `m${i}`)])),
    );
    assert.deepEqual(
      results.map(([r]) => r?.message.id),
      Array.from({ length: calls }, (_, i) => i + 1),
    );
    assert.ok(store.commits >= 1 && store.commits < calls, `${store.commits} commits`);
  } finally {
    await store.close();
  }
});

test('durability "normal" and "full" both store and reopen; anything else is refused', async () => {
  const path = join(tempDir(), "chat.db");
  for (const durability of ["normal", "full"] as const) {
    const store = await openSqliteStore({ path, durability });
    await store.append([message("r", durability)]);
    await store.close();
  }
  const store = await openSqliteStore({ path });
  assert.deepEqual(
    (await store.after("r", 0, 10)).messages.map((m) => m.text),
    ["normal", "full"],
  );
  await store.close();
  await assert.rejects(
    openSqliteStore({ path, durability: "off" as "full" }),
    /durability must be "full" or "normal"/,
  );
});

test("a full database refuses appends as unavailable, keeps serving reads, and recovers", async () => {
  // A 60-page cap makes SQLite answer SQLITE_FULL for real after a few appends
  // (the schema alone takes 41: a page or more per table and index, the
  // search indexes' included).
  const store = await openSqliteStore({ path: join(tempDir(), "small.db"), maxPageCount: 60 });
  try {
    const text = "x".repeat(2_000);
    let full: unknown;
    for (let i = 0; i < 500 && full === undefined; i++) {
      await store.append([message("r", `${i}${text}`)]).catch((error: unknown) => {
        full = error;
      });
    }
    assert.ok(full instanceof StoreUnavailableError, `never full: ${String(full)}`);
    assert.match(full.message, /^The database is full \(disk or quota\); nothing was stored\./);
    assert.equal(((full.cause as { errcode: number }).errcode & 0xff) === 13, true);

    const stored = await store.lastId("r");
    assert.ok(stored > 0);
    const page = await store.after("r", 0, 1_000);
    assert.deepEqual(
      page.messages.map((m) => m.id),
      Array.from({ length: stored }, (_, i) => i + 1),
    );

    assert.equal(await store.prune({ maxPerRoom: 1 }), stored - 1);
    const [next] = await store.append([message("r", "room again")]);
    assert.equal(next?.message.id, stored + 1);
  } finally {
    await store.close();
  }
});

test("a prune runs in batches, letting appends through between them", async () => {
  // Appends go at once here, not paced: the point is where they land among the batches.
  const store = await openSqliteStore({ path: ":memory:", groupIntervalMs: 0 });
  // Ten batches: the append's round trip has ten chances to land between them.
  const stored = 5_000;
  try {
    await store.append(Array.from({ length: stored }, (_, i) => message("big", `m${i}`)));
    const order: string[] = [];
    const pruning = store.prune({ maxPerRoom: 0 }).then((removed) => {
      order.push("prune");
      return removed;
    });
    const appending = store.append([message("new", "during")]).then((results) => {
      order.push("append");
      return results;
    });
    assert.equal(await pruning, stored);
    await appending;
    assert.deepEqual(order, ["append", "prune"]);
    assert.deepEqual(await store.after("big", 0, 10), { messages: [], prunedThrough: stored });
    // A room that began after the prune did is not part of it.
    assert.equal((await store.after("new", 0, 10)).messages.length, 1);
  } finally {
    await store.close();
  }
});

test("close() ends a running prune after a batch; what it removed stays consistent", async () => {
  const path = join(tempDir(), "chat.db");
  const store = await openSqliteStore({ path });
  await store.append(Array.from({ length: 1_200 }, (_, i) => message("big", `m${i}`)));
  const pruning = store.prune({ maxPerRoom: 0 });
  await store.close();
  const removed = await pruning;
  assert.ok(removed > 0 && removed < 1_200, `removed ${removed}`);

  const reopened = await openSqliteStore({ path });
  try {
    const page = await reopened.after("big", 0, 2_000);
    assert.equal(page.prunedThrough, removed);
    assert.deepEqual(
      page.messages.map((m) => m.id),
      Array.from({ length: 1_200 - removed }, (_, i) => removed + i + 1),
    );
  } finally {
    await reopened.close();
  }
});

/** A word no other text holds: letters only, so the word index keeps it whole. */
const distinctive = (start: string) =>
  start +
  randomUUID()
    .replaceAll("-", "")
    .replace(/[0-9]/g, (d) => "ghijklmnop".charAt(Number(d)));

test("a deleted or edited message's words leave the search index, its freed pages and the WAL", async () => {
  const path = join(tempDir(), "search-erasure.db");
  const deleted = distinctive("qzj");
  const replaced = distinctive("qzk");
  const inDoomedRoom = distinctive("qzv");
  const control = distinctive("qzw");
  const secrets = [deleted, replaced, inDoomedRoom];
  // Stored with the shared start of the term before it left out, so look
  // for each word's end. Each is also in a file name, which the trigram
  // index holds (it holds only pieces of text with punctuation).
  const tail = (word: string) => word.slice(-16);
  /** Which words' ends the file or its WAL holds as bytes, and which the word index's blocks hold. */
  const traces = (words: readonly string[]) => {
    const files = [path, `${path}-wal`].filter((file) => existsSync(file));
    const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const blocks = Buffer.concat(
        db
          .prepare("SELECT block FROM search_words_data")
          .all()
          .map((row) => Buffer.from(row.block as Uint8Array)),
      );
      const trigrams = new Set(
        db
          .prepare("SELECT term FROM fts5vocab_trigrams")
          .all()
          .map((row) => String(row.term)),
      );
      return {
        file: words.filter((w) => bytes.includes(Buffer.from(tail(w)))),
        index: words.filter((w) => blocks.includes(Buffer.from(tail(w)))),
        trigrams: words.filter((w) => trigrams.has(w.slice(0, 3))),
      };
    } finally {
      db.close();
    }
  };

  let store = await openSqliteStore({ path });
  let ids: number[] = [];
  try {
    await store.append(Array.from({ length: 50 }, (_, i) => message("lobby", `sunny ${i}`)));
    const sent = await store.append([
      message("lobby", `the ${deleted} plan, in ${deleted}.md`),
      message("lobby", `the ${replaced} plan, in ${replaced}.md`),
      message("lobby", `the ${control} plan, in ${control}.md`),
      message("doomed", `the ${inDoomedRoom} plan, in ${inDoomedRoom}.md`),
    ]);
    ids = sent.map((r) => r.message.id);
    await store.append(Array.from({ length: 50 }, (_, i) => message("lobby", `tulip ${i}`)));
  } finally {
    await store.close();
  }
  // fts5vocab reads the trigram index's terms; made once, read-only after.
  const vocab = new DatabaseSync(path);
  vocab.exec("CREATE VIRTUAL TABLE fts5vocab_trigrams USING fts5vocab(search_trigrams, row)");
  vocab.close();
  const all = [...secrets, control];
  assert.deepEqual(traces(all), { file: all, index: all, trigrams: all });
  assert.deepEqual(
    // Neither word's first three letters can occur in a distinctive word
    // (letters a-p after a "qz" start), so only their own texts could index them.
    traces(["sunny", "tulip"]).trigrams,
    [],
    "a text without punctuation has no trigrams",
  );

  store = await openSqliteStore({ path });
  try {
    await store.append([message("lobby", "", { kind: "delete", refId: ids[0] })]);
    await store.append([message("lobby", "the new plan", { kind: "edit", refId: ids[1] })]);
    await store.deleteRoom("doomed");
    const find = async (word: string) =>
      (
        await store.search({
          reader: "u",
          admin: false,
          nowMs: T0,
          include: [{ kind: "words", words: [word], prefix: false }],
          exclude: [],
          limit: 10,
        })
      ).map((m) => m.text);
    // Same millisecond: in the order they were appended, newest first.
    assert.deepEqual(await find("plan"), [`the ${control} plan, in ${control}.md`, "the new plan"]);
  } finally {
    await store.close();
  }
  assert.deepEqual(traces(all), { file: [control], index: [control], trigrams: [control] });
});

test("a search walks one index newest first and stops at its limit: no sort, every other table by key", async () => {
  const path = join(tempDir(), "search-plans.db");
  const store = await openSqliteStore({ path });
  await store.append([message("lobby", "hi")]);
  await store.close();
  const db = new DatabaseSync(path, { readOnly: true });
  registerSearchFunctions(db);
  const words = (...list: string[]) => ({ kind: "words" as const, words: list, prefix: false });
  const plan = (query: Partial<Parameters<typeof planSearch>[0]>) => {
    const { sql, params } = planSearch({
      reader: "a-r",
      admin: false,
      nowMs: T0,
      include: [],
      exclude: [],
      limit: 20,
      ...query,
    });
    return db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(params)
      .map((row) => String(row.detail))
      .join("; ");
  };
  try {
    const filtered = {
      rooms: ["lobby"],
      senders: ["u"],
      hasLink: true,
      afterMs: T0,
      beforeMs: T0 + 1,
      after: { timeMs: T0, room: "lobby", id: 1 },
    };
    for (const query of [
      { include: [words("the"), words("plan")], exclude: [words("lunch")], ...filtered },
      { include: [{ kind: "substring" as const, text: "foo.png" }], exclude: [words("x")] },
      { include: [words("plan")], admin: true, oldestFirst: true },
    ]) {
      const detail = plan(query);
      assert.match(detail, /^SCAN f VIRTUAL TABLE INDEX \d+:M1></, detail);
      assert.match(detail, /SEARCH d USING INTEGER PRIMARY KEY \(rowid=\?\)/, detail);
      assert.doesNotMatch(detail, /TEMP B-TREE|SCAN (d|m|s)\b/, detail);
    }
    // Only filters: search_docs by its key, newest first, still no sort.
    const detail = plan({ senders: ["u"] });
    assert.match(detail, /^SEARCH d USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/, detail);
    assert.doesNotMatch(detail, /TEMP B-TREE/, detail);
    // What an append lists is indexed from search_pending, each a seek.
    assert.match(
      db
        .prepare(`EXPLAIN QUERY PLAN SELECT p.doc FROM search_pending p
          CROSS JOIN search_docs d ON d.doc = p.doc
          CROSS JOIN messages m ON m.room = d.room AND m.id = d.id`)
        .all()
        .map((row) => String(row.detail))
        .join("; "),
      /^SCAN p; SEARCH d USING INTEGER PRIMARY KEY \(rowid=\?\); SEARCH m USING PRIMARY KEY \(room=\? AND id=\?\)$/,
    );
  } finally {
    db.close();
  }
});
