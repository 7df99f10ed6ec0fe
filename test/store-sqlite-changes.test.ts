// SQLite's side of messages people can change: a version 4 file upgraded in
// place, a deleted or edited text gone from the file's bytes, and the change
// lookups served by indexes. Also a version 5 file upgraded to 6 (rooms a team
// governs), whose lookups are served by indexes too, and a version 6 file
// upgraded to 7 (what admins do to accounts and rooms), a deleted room gone
// from the bytes.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { openSqliteStore, type SqliteStore } from "../src/store/sqlite-store.ts";
import type { NewMessage, Sanction } from "../src/store/store.ts";
import { manualClock } from "./store-contract.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-sqlite-changes-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;

const message = (room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  room,
  userId: "g-una",
  username: "una",
  text,
  kind: "chat",
  clientMsgId: "",
  ...extra,
});

const change = (kind: "edit" | "delete" | "react", refId: number, text = ""): NewMessage => ({
  ...message("lobby", text),
  kind,
  refId,
});

// Version 4's schema as it shipped: what a file written before this version holds.
const VERSION_4_SCHEMA = `
CREATE TABLE messages (
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
CREATE UNIQUE INDEX messages_client_msg_id
  ON messages (room, user_id, client_msg_id) WHERE client_msg_id <> '';
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL);
CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE rooms (
  room           TEXT    PRIMARY KEY,
  pruned_through INTEGER NOT NULL DEFAULT 0,
  topic          TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX rooms_with_topic ON rooms (room) WHERE topic <> '';
CREATE TABLE accounts (
  user_id TEXT NOT NULL PRIMARY KEY, username TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL, created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE tokens (
  token_hash TEXT NOT NULL PRIMARY KEY, user_id TEXT NOT NULL, expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_expires_ms ON tokens (expires_ms);
INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0), (4, 0);
INSERT INTO meta VALUES ('epoch', 'epoch-from-version-4'), ('id_key', '${"cd".repeat(32)}');
`;

test("a version 4 database gets version 5: its messages read as before and can be changed", async () => {
  const path = join(tempDir(), "v4.db");
  const old = new DatabaseSync(path);
  old.exec("PRAGMA journal_mode = WAL;");
  old.exec(VERSION_4_SCHEMA);
  const insert = old.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  insert.run("lobby", 1, T0, "g-una", "una", "from before", "chat", "k1");
  insert.run("lobby", 2, T0 + 1, "system", "System", "bob joined", "system", "");
  old.close();

  const store = await openSqliteStore({ path, now: manualClock(T0 + 100).now });
  try {
    assert.equal(store.epoch, "epoch-from-version-4");
    assert.deepEqual(await store.history("lobby", { limit: 10, includeSystem: true }), [
      {
        room: "lobby",
        id: 2,
        timeMs: T0 + 1,
        userId: "system",
        username: "System",
        text: "bob joined",
        kind: "system",
        clientMsgId: "",
      },
      {
        room: "lobby",
        id: 1,
        timeMs: T0,
        userId: "g-una",
        username: "una",
        text: "from before",
        kind: "chat",
        clientMsgId: "k1",
      },
    ]);
    await store.append([change("edit", 1, "from before, edited")]);
    await store.append([change("react", 1, "👍")]);
    const edited = await store.message("lobby", 1, "g-una");
    assert.deepEqual(
      [edited?.text, edited?.editedMs, edited?.reactions],
      ["from before, edited", T0 + 100, [{ emoji: "👍", count: 1, mine: true }]],
    );
    assert.equal(await store.markRead("g-una", "lobby", 2), 2);
  } finally {
    await store.close();
  }
  const check = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual(
    check
      .prepare("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version")
      .all()
      .map((row) => [row.version, row.applied_at_ms]),
    [
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, T0 + 100],
      [6, T0 + 100],
      [7, T0 + 100],
      [8, T0 + 100],
      [9, T0 + 100],
      [10, T0 + 100],
    ],
  );
  check.close();
});

/** Which of `texts` are anywhere in the database file or its WAL, as bytes. */
function textsInFiles(path: string, texts: readonly string[]): string[] {
  const files = [path, `${path}-wal`].filter((file) => existsSync(file));
  const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
  return texts.filter((text) => bytes.includes(Buffer.from(text, "utf8")));
}

test("an edited or deleted text is gone from the database file's bytes; other texts stay", async () => {
  const path = join(tempDir(), "erasure.db");
  const marker = (what: string) => `${what}-${randomUUID()}`;
  const control = marker("control");
  const original = marker("original");
  const replacement = marker("replacement");
  // Longer than a page, so it lives in overflow pages of its own.
  const long = `${marker("long")} ${"padding ".repeat(1_000)}`;
  const longEdit = `${marker("long-edit")} ${"more padding ".repeat(1_000)}`;
  const longMarker = long.slice(0, 41);
  const longEditMarker = longEdit.slice(0, 46);
  const secrets = [original, replacement, longMarker, longEditMarker];

  let store: SqliteStore = await openSqliteStore({ path });
  try {
    // Neighbours on the same pages, before and after.
    await store.append(Array.from({ length: 50 }, (_, i) => message("lobby", `before ${i}`)));
    const [sent, sentLong] = await store.append([
      message("lobby", original),
      message("lobby", long),
    ]);
    await store.append([message("lobby", control)]);
    await store.append(Array.from({ length: 50 }, (_, i) => message("lobby", `after ${i}`)));
    const id = sent?.message.id ?? 0;
    const longId = sentLong?.message.id ?? 0;

    await store.append([change("edit", id, replacement)]);
    await store.append([change("edit", longId, longEdit)]);
    assert.deepEqual(textsInFiles(path, [control, ...secrets]), [
      control,
      replacement,
      longEditMarker,
    ]);

    await store.append([change("delete", id)]);
    await store.append([change("delete", longId)]);
    // The store checkpoints after a commit that erased text: nothing to wait for.
    assert.deepEqual(textsInFiles(path, [control, ...secrets]), [control]);
    const tombstone = await store.message("lobby", id);
    assert.deepEqual([tombstone?.text, tombstone?.deleted], ["", true]);
  } finally {
    await store.close();
  }
  assert.deepEqual(textsInFiles(path, [control, ...secrets]), [control]);

  // Still the same history when opened again.
  store = await openSqliteStore({ path });
  try {
    const page = await store.after("lobby", 0, 1_000);
    assert.ok(page.messages.some((m) => m.text === control));
    assert.ok(page.messages.every((m) => !secrets.some((secret) => m.text.includes(secret))));
  } finally {
    await store.close();
  }
});

test("change entries, reactions and markers are found by index, never by walking the room", async () => {
  const path = join(tempDir(), "plans.db");
  const store = await openSqliteStore({ path });
  await store.append([message("lobby", "hi")]);
  await store.close();
  const db = new DatabaseSync(path, { readOnly: true });
  const plan = (sql: string) =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all()
      .map((row) => String(row.detail))
      .join("; ");
  try {
    assert.match(
      plan(
        "SELECT id FROM messages WHERE room = 'r' AND ref_id <> 0 AND kind <> 'chat' AND ref_id <= 5",
      ),
      /USING INDEX messages_changes \(room=\? AND ref_id<\?\)/,
    );
    assert.match(
      plan("SELECT emoji FROM reactions WHERE room = 'r' AND message_id <= 5"),
      /USING PRIMARY KEY \(room=\? AND message_id<\?\)/,
    );
    assert.match(
      plan("SELECT count(*) FROM reactions WHERE room = 'r' AND message_id = 1 AND emoji = 'x'"),
      /USING PRIMARY KEY \(room=\? AND message_id=\? AND emoji=\?\)/,
    );
    assert.match(
      plan("SELECT last_read_id FROM read_markers WHERE user_id = 'u' AND room = 'r'"),
      /USING PRIMARY KEY \(user_id=\? AND room=\?\)/,
    );
  } finally {
    db.close();
  }
});

// What version 5 added to VERSION_4_SCHEMA, as it shipped.
const VERSION_5_SCHEMA = `${VERSION_4_SCHEMA}
ALTER TABLE messages ADD COLUMN ref_id    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN count     INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_changes ON messages (room, ref_id) WHERE ref_id <> 0 AND kind <> 'chat';
CREATE TABLE reactions (
  room TEXT NOT NULL, message_id INTEGER NOT NULL, emoji TEXT NOT NULL, user_id TEXT NOT NULL,
  added_id INTEGER NOT NULL, PRIMARY KEY (room, message_id, emoji, user_id)
) WITHOUT ROWID;
CREATE TABLE read_markers (
  user_id TEXT NOT NULL, room TEXT NOT NULL, last_read_id INTEGER NOT NULL,
  PRIMARY KEY (user_id, room)
) WITHOUT ROWID;
INSERT INTO schema_migrations VALUES (5, 0);
`;

test("a version 5 database gets version 6: its messages stay, and its rooms can be governed", async () => {
  const path = join(tempDir(), "v5.db");
  const old = new DatabaseSync(path);
  old.exec("PRAGMA journal_mode = WAL;");
  old.exec(VERSION_5_SCHEMA);
  const insert = old.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.run("lobby", 1, T0, "g-una", "una", "from before", "chat", "", 0, 0, 0, 0);
  insert.run("lobby", 2, T0 + 1, "g-una", "una", "👍", "react", "", 1, 0, 0, 1);
  insert.run("lobby", 3, T0 + 2, "g-una", "una", "", "chat", "", 0, 0, 1, 0);
  old.prepare("INSERT INTO reactions VALUES ('lobby', 1, '👍', 'g-una', 2)").run();
  old.prepare("INSERT INTO rooms (room, topic) VALUES ('topical', 'kept')").run();
  old.close();

  const clock = manualClock(T0 + 100);
  const store = await openSqliteStore({ path, now: clock.now });
  try {
    const kept = await store.message("lobby", 1, "g-una");
    assert.deepEqual(
      [kept?.text, kept?.reactions],
      ["from before", [{ emoji: "👍", count: 1, mine: true }]],
    );
    assert.equal(await store.topic("topical"), "kept");
    assert.equal(await store.lastId("lobby"), 3);
    // Rooms that were there before are not created again.
    const record = { owner: "a-una", inviteOnly: false, readOnly: false, createdMs: T0 };
    assert.equal(await store.createRoom({ room: "lobby", ...record }), false);
    assert.equal(await store.createRoom({ room: "topical", ...record }), false);
    assert.equal(await store.createRoom({ room: "fresh", ...record, inviteOnly: true }), true);
    await store.setRole("fresh", "a-bob", "owner", clock.now());
    assert.deepEqual(
      await store.roles("fresh"),
      new Map([
        ["a-una", "moderator"],
        ["a-bob", "owner"],
      ]),
    );
    const ban: Sanction = {
      room: "lobby",
      userId: "g-una",
      kind: "ban",
      untilMs: 0,
      reason: "old spam",
      byId: "a-bob",
      createdMs: T0 + 100,
    };
    await store.setSanction(ban);
    assert.deepEqual(await store.sanctions("lobby", clock.now()), [ban]);
    assert.deepEqual(await store.messageIdsBy("lobby", "g-una", 0, 10), [1]);
    const reportId = await store.addReport({
      room: "lobby",
      messageId: 1,
      reporter: "a-bob",
      reason: "old",
      createdMs: T0 + 100,
    });
    assert.equal(await store.resolveReport("lobby", reportId, "a-bob", "banned", T0 + 101), true);
    await store.createInvite({
      codeHash: "ab".repeat(32),
      room: "fresh",
      createdBy: "a-bob",
      createdMs: T0 + 100,
      expiresMs: T0 + 200,
      usesLeft: 1,
      unlimited: false,
    });
    assert.equal(await store.redeemInvite("ab".repeat(32), T0 + 150), "fresh");
    assert.equal(await store.setAdmin("a-bob", true), true);
  } finally {
    await store.close();
  }
  const check = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual(
    check
      .prepare("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version")
      .all()
      .map((row) => [row.version, row.applied_at_ms]),
    [
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 0],
      [6, T0 + 100],
      [7, T0 + 100],
      [8, T0 + 100],
      [9, T0 + 100],
      [10, T0 + 100],
    ],
  );
  assert.equal(check.prepare("SELECT count(*) AS n FROM messages").get()?.n, 3);
  check.close();

  // What was governed is there after a reopen.
  const reopened = await openSqliteStore({ path, now: clock.now });
  try {
    assert.equal((await reopened.roomRecord("fresh"))?.owner, "a-bob");
    assert.deepEqual(await reopened.admins(), ["a-bob"]);
    const [resolved] = await reopened.reports("lobby", { limit: 5, includeResolved: true });
    assert.deepEqual([resolved?.resolvedBy, resolved?.resolution], ["a-bob", "banned"]);
  } finally {
    await reopened.close();
  }
});

test("governance lookups are found by index, never by walking a table", async () => {
  const path = join(tempDir(), "governance-plans.db");
  const store = await openSqliteStore({ path });
  await store.close();
  const db = new DatabaseSync(path, { readOnly: true });
  const plan = (sql: string) =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all()
      .map((row) => String(row.detail))
      .join("; ");
  try {
    assert.match(
      plan("SELECT room, role FROM room_roles WHERE user_id = 'u' ORDER BY room"),
      /USING (COVERING )?INDEX room_roles_user \(user_id=\?\)/,
    );
    assert.match(
      plan("SELECT user_id, role FROM room_roles WHERE room = 'r' ORDER BY user_id"),
      /USING PRIMARY KEY \(room=\?\)/,
    );
    assert.match(
      plan("SELECT * FROM sanctions WHERE room = 'r' AND (until_ms = 0 OR until_ms > 5)"),
      /USING PRIMARY KEY \(room=\?\)/,
    );
    assert.match(
      plan("SELECT * FROM reports WHERE room = 'r' AND id < 9 ORDER BY id DESC LIMIT 5"),
      /USING INDEX reports_room \(room=\? AND id<\?\)/,
    );
    assert.match(
      plan("SELECT * FROM audit WHERE id < 9 AND room = 'r' ORDER BY id DESC LIMIT 5"),
      /USING INDEX audit_room \(room=\? AND id<\?\)/,
    );
  } finally {
    db.close();
  }
});

// What version 6 added to VERSION_5_SCHEMA, as it shipped.
const VERSION_6_SCHEMA = `${VERSION_5_SCHEMA}
CREATE TABLE room_records (
  room        TEXT    NOT NULL PRIMARY KEY,
  owner       TEXT    NOT NULL,
  invite_only INTEGER NOT NULL,
  read_only   INTEGER NOT NULL,
  created_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE room_roles (
  room    TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role    TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'owner')),
  PRIMARY KEY (room, user_id)
) WITHOUT ROWID;
CREATE INDEX room_roles_user ON room_roles (user_id);
CREATE TABLE sanctions (
  room       TEXT    NOT NULL,
  user_id    TEXT    NOT NULL,
  kind       TEXT    NOT NULL CHECK (kind IN ('ban', 'mute')),
  until_ms   INTEGER NOT NULL,
  reason     TEXT    NOT NULL,
  by_id      TEXT    NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (room, user_id, kind)
) WITHOUT ROWID;
CREATE TABLE address_bans (
  cidr       TEXT    NOT NULL PRIMARY KEY,
  until_ms   INTEGER NOT NULL,
  reason     TEXT    NOT NULL,
  by_id      TEXT    NOT NULL,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE invites (
  code_hash  TEXT    NOT NULL PRIMARY KEY,
  room       TEXT    NOT NULL,
  created_by TEXT    NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  uses_left  INTEGER NOT NULL,
  unlimited  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE reports (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  room        TEXT    NOT NULL,
  message_id  INTEGER NOT NULL,
  reporter    TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  created_ms  INTEGER NOT NULL,
  resolved    INTEGER NOT NULL DEFAULT 0,
  resolved_by TEXT    NOT NULL DEFAULT '',
  resolution  TEXT    NOT NULL DEFAULT '',
  resolved_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reports_room ON reports (room, id);
CREATE TABLE audit (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  actor      TEXT    NOT NULL,
  action     TEXT    NOT NULL,
  room       TEXT    NOT NULL,
  target     TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  detail     TEXT    NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX audit_room ON audit (room, id);
CREATE TABLE admins (
  user_id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;
INSERT INTO schema_migrations VALUES (6, 0);
`;

test("a version 6 database gets version 7: its accounts are enabled, and can be administered", async () => {
  const path = join(tempDir(), "v6.db");
  const old = new DatabaseSync(path);
  old.exec("PRAGMA journal_mode = WAL;");
  old.exec(VERSION_6_SCHEMA);
  const insert = old.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.run("lobby", 1, T0, "a-una", "una", "from before", "chat", "", 0, 0, 0, 0);
  insert.run("lobby", 2, T0 + 1, "a-una", "una", "👍", "react", "", 1, 0, 0, 1);
  old.prepare("INSERT INTO reactions VALUES ('lobby', 1, '👍', 'a-una', 2)").run();
  const account = old.prepare("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)");
  account.run("a-una", "Una", "una", "old-hash", T0);
  account.run("a-bob", "Bob", "bob", "bob-hash", T0);
  const token = old.prepare("INSERT INTO tokens VALUES (?, ?, ?)");
  token.run("aa".repeat(32), "a-una", T0 + 1_000);
  token.run("bb".repeat(32), "a-bob", T0 + 1_000);
  old.prepare("INSERT INTO room_roles VALUES ('lobby', 'a-una', 'owner')").run();
  old.close();

  const clock = manualClock(T0 + 100);
  const store = await openSqliteStore({ path, now: clock.now });
  try {
    const una = { userId: "a-una", username: "Una", nameKey: "una", createdMs: T0 };
    assert.deepEqual(await store.listAccounts({ limit: 10 }), [
      {
        ...una,
        passwordHash: "bob-hash",
        userId: "a-bob",
        username: "Bob",
        nameKey: "bob",
        disabled: false,
      },
      { ...una, passwordHash: "old-hash", disabled: false },
    ]);
    assert.equal((await store.tokenAccount("aa".repeat(32), T0 + 100))?.account.userId, "a-una");
    assert.equal(await store.setPasswordHash("a-una", "new-hash"), true);
    assert.equal(await store.tokenAccount("aa".repeat(32), T0 + 100), undefined);
    await store.saveResetCode({ codeHash: "cc".repeat(32), userId: "a-una", expiresMs: T0 + 500 });
    assert.equal(await store.takeResetCode("cc".repeat(32), T0 + 100), "a-una");
    assert.equal(await store.setDisabled("a-bob", true), true);
    assert.equal(await store.tokenAccount("bb".repeat(32), T0 + 100), undefined);
    const [exported] = await store.exportMessages("lobby", 0, 10);
    assert.deepEqual(exported?.reactors, [{ emoji: "👍", users: ["a-una"] }]);
    assert.equal(await store.deleteAccount("a-una"), true);
    assert.equal((await store.roles("lobby")).size, 0);
    assert.equal(await store.deleteRoom("lobby"), 1);
  } finally {
    await store.close();
  }
  const check = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual(
    check
      .prepare("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version")
      .all()
      .map((row) => [row.version, row.applied_at_ms]),
    [
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 0],
      [6, 0],
      [7, T0 + 100],
      [8, T0 + 100],
      [9, T0 + 100],
      [10, T0 + 100],
    ],
  );
  assert.deepEqual(
    check
      .prepare("SELECT user_id, disabled FROM accounts")
      .all()
      .map((row) => [row.user_id, row.disabled]),
    [["a-bob", 1]],
  );
  check.close();
});

test("a deleted room's texts are gone from the database file's bytes; other rooms' stay", async () => {
  const path = join(tempDir(), "deleted-room.db");
  const control = `control-${randomUUID()}`;
  const secrets = [
    `secret-${randomUUID()}`,
    `${`long-${randomUUID()}`} ${"padding ".repeat(1_000)}`,
  ];
  const store = await openSqliteStore({ path });
  try {
    await store.append(Array.from({ length: 50 }, (_, i) => message("doomed", `before ${i}`)));
    await store.append(secrets.map((text) => message("doomed", text)));
    await store.append([message("kept", control)]);
    await store.setTopic("doomed", secrets[0] ?? "");
    const markers = [control, ...secrets.map((secret) => secret.slice(0, 40))];
    assert.deepEqual(textsInFiles(path, markers), markers);
    assert.equal(await store.deleteRoom("doomed"), 52);
    // The store checkpoints after deleting a room: nothing to wait for.
    assert.deepEqual(textsInFiles(path, markers), [control]);
  } finally {
    await store.close();
  }
});

test("what an admin does to an account is found by index, never by walking a table", async () => {
  const path = join(tempDir(), "admin-plans.db");
  const store = await openSqliteStore({ path });
  await store.close();
  const db = new DatabaseSync(path, { readOnly: true });
  const plan = (sql: string) =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all()
      .map((row) => String(row.detail))
      .join("; ");
  try {
    assert.match(
      plan("SELECT token_hash FROM tokens WHERE user_id = 'u'"),
      /USING (COVERING )?INDEX tokens_user \(user_id=\?\)/,
    );
    assert.match(
      plan("SELECT code_hash FROM reset_codes WHERE user_id = 'u'"),
      /USING (COVERING )?INDEX sqlite_autoindex_reset_codes_2 \(user_id=\?\)/,
    );
    assert.match(
      plan("SELECT user_id FROM accounts WHERE name_key > 'b' ORDER BY name_key LIMIT 5"),
      /USING INDEX sqlite_autoindex_accounts_2 \(name_key>\?\)/,
    );
  } finally {
    db.close();
  }
});
