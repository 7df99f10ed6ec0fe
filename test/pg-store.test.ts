import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { openPgStore } from "../src/store/pg-store.ts";
import { BackupUnsupportedError } from "../src/store/store.ts";
import { PG_URL, scratchSchemas } from "./engine-urls.ts";
import { UNDO_VERSION_5, UNDO_VERSION_6, UNDO_VERSION_7 } from "./pg-versions.ts";
import { adminContract } from "./store-admin-contract.ts";
import { storeContract } from "./store-contract.ts";
import { governanceContract } from "./store-governance-contract.ts";
import { integrationContract } from "./store-integration-contract.ts";
import { searchContract } from "./store-search-contract.ts";

// Each test gets a schema of its own, dropped at the end.
const schema = scratchSchemas("test");

storeContract("PgStore", (now) => openPgStore({ url: PG_URL, schema: schema(), now }));

governanceContract("PgStore", (now) => openPgStore({ url: PG_URL, schema: schema(), now }));

adminContract("PgStore", (now) => openPgStore({ url: PG_URL, schema: schema(), now }));

integrationContract("PgStore", (now) => openPgStore({ url: PG_URL, schema: schema(), now }));

searchContract("PgStore", (now) => openPgStore({ url: PG_URL, schema: schema(), now }));

// Two nodes on one database: a client that retries a send on another node
// while the first node's commit is still in flight.
test("the same send through two nodes at once is stored once, and both answer with it", async () => {
  const name = schema();
  const [first, second] = await Promise.all([
    openPgStore({ url: PG_URL, schema: name }),
    openPgStore({ url: PG_URL, schema: name }),
  ]);
  try {
    let stored = 0;
    for (let round = 0; round < 20; round++) {
      // Odd rounds send a batch of two: one transaction, retried as a whole.
      const batch = Array.from({ length: 1 + (round % 2) }, (_, i) => ({
        room: "lobby",
        userId: "u1",
        username: "una",
        text: `retried ${round}.${i}`,
        kind: "chat" as const,
        clientMsgId: `key-${round}-${i}`,
      }));
      const [a, b] = await Promise.all([first.append(batch), second.append(batch)]);
      assert.deepEqual(
        a?.map((r) => r.message.id),
        b?.map((r) => r.message.id),
        `round ${round}: the same ids`,
      );
      const duplicates = [a?.[0]?.duplicate, b?.[0]?.duplicate].sort();
      assert.deepEqual(duplicates, [false, true], `round ${round}: stored once`);
      stored += batch.length;
    }
    const page = await first.after("lobby", 0, 100);
    assert.deepEqual(
      page.messages.map((m) => m.id),
      Array.from({ length: stored }, (_, i) => i + 1),
      "no gap, no repeat",
    );
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});

test("two nodes appending to the same rooms in opposite orders never deadlock", async () => {
  const name = schema();
  // One lane each, so that a group holds both rooms.
  const [first, second] = await Promise.all([
    openPgStore({ url: PG_URL, schema: name, appendLanes: 1 }),
    openPgStore({ url: PG_URL, schema: name, appendLanes: 1 }),
  ]);
  const message = (room: string, text: string) => ({
    room,
    userId: "u1",
    username: "una",
    text,
    kind: "chat" as const,
    clientMsgId: "",
  });
  try {
    for (let round = 0; round < 30; round++) {
      const sends = [];
      for (let i = 0; i < 4; i++) {
        sends.push(first.append([message(i % 2 ? "b" : "a", `first ${round}.${i}`)]));
        sends.push(second.append([message(i % 2 ? "a" : "b", `second ${round}.${i}`)]));
      }
      await Promise.all(sends);
    }
    for (const room of ["a", "b"]) {
      const page = await first.after(room, 0, 1000);
      assert.deepEqual(
        page.messages.map((m) => m.id),
        Array.from({ length: 120 }, (_, i) => i + 1),
        `room ${room}: every send, no gap`,
      );
    }
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});

// What version 4 added, undone again to turn a fresh schema back into
// version 3: versions 1 to 3 are never edited, so what remains is what they made.
const UNDO_VERSION_4 = (name: string) => `
DROP TABLE ${name}.reset_codes;
DROP INDEX ${name}.tokens_user, ${name}.accounts_name_key_c;
ALTER TABLE ${name}.accounts DROP COLUMN disabled;
DELETE FROM ${name}.schema_migrations WHERE version = 4`;

// Version 3's tables, dropped again (after version 4's) to turn a fresh
// schema back into version 2.
const VERSION_3_TABLES = [
  "room_records",
  "room_roles",
  "sanctions",
  "address_bans",
  "invites",
  "reports",
  "audit",
  "admins",
];

test("a version 2 schema gets version 3: its messages stay, and its rooms can be governed", async () => {
  const T0 = 1_700_000_000_000;
  const name = schema();
  const chat = (text: string) => ({
    room: "lobby",
    userId: "g-una",
    username: "una",
    text,
    kind: "chat" as const,
    clientMsgId: "",
  });
  const before = await openPgStore({ url: PG_URL, schema: name, now: () => T0 });
  await before.append([chat("from before"), chat("and more")]);
  await before.append([{ ...chat("👍"), kind: "react", refId: 1 }]);
  await before.setTopic("topical", "kept");
  await before.close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const migrations = async () =>
    (
      await client.query(
        `SELECT version, applied_at_ms FROM ${name}.schema_migrations ORDER BY version`,
      )
    ).rows.map((row) => [Number(row.version), Number(row.applied_at_ms)]);
  try {
    await client.query(UNDO_VERSION_7(name));
    await client.query(UNDO_VERSION_6(name));
    await client.query(UNDO_VERSION_5(name));
    await client.query(UNDO_VERSION_4(name));
    await client.query(
      `DROP TABLE ${VERSION_3_TABLES.map((table) => `${name}.${table}`).join(", ")};
       DELETE FROM ${name}.schema_migrations WHERE version = 3`,
    );
    assert.deepEqual(await migrations(), [
      [1, T0],
      [2, T0],
    ]);

    const store = await openPgStore({ url: PG_URL, schema: name, now: () => T0 + 100 });
    try {
      const kept = await store.message("lobby", 1, "g-una");
      assert.deepEqual(
        [kept?.text, kept?.reactions],
        ["from before", [{ emoji: "👍", count: 1, mine: true }]],
      );
      assert.equal(await store.topic("topical"), "kept");
      const record = { owner: "a-una", inviteOnly: false, readOnly: false, createdMs: T0 };
      assert.equal(await store.createRoom({ room: "lobby", ...record }), false);
      assert.equal(await store.createRoom({ room: "topical", ...record }), false);
      assert.equal(await store.createRoom({ room: "fresh", ...record }), true);
      await store.setRole("fresh", "a-bob", "owner", T0 + 100);
      assert.deepEqual(
        await store.roles("fresh"),
        new Map([
          ["a-una", "moderator"],
          ["a-bob", "owner"],
        ]),
      );
      assert.deepEqual(await store.messageIdsBy("lobby", "g-una", 0, 10), [1, 2]);
      const id = await store.addAudit({
        actor: "a-bob",
        action: "set_role",
        room: "fresh",
        target: "a-bob",
        reason: "",
        detail: "role owner",
        createdMs: T0 + 100,
      });
      assert.deepEqual(
        (await store.audit({ room: "fresh", limit: 5 })).map((entry) => entry.id),
        [id],
      );
      assert.equal(await store.setAdmin("a-bob", true), true);
    } finally {
      await store.close();
    }
    assert.deepEqual(await migrations(), [
      [1, T0],
      [2, T0],
      [3, T0 + 100],
      [4, T0 + 100],
      [5, T0 + 100],
      [6, T0 + 100],
      [7, T0 + 100],
    ]);
  } finally {
    await client.end();
  }
});

test("a version 3 schema gets version 4: its accounts are enabled, and can be administered", async () => {
  const T0 = 1_700_000_000_000;
  const name = schema();
  const before = await openPgStore({ url: PG_URL, schema: name, now: () => T0 });
  await before.append([
    { room: "lobby", userId: "a-una", username: "una", text: "hi", kind: "chat", clientMsgId: "" },
  ]);
  await before.append([
    {
      room: "lobby",
      userId: "a-una",
      username: "una",
      text: "👍",
      kind: "react",
      clientMsgId: "",
      refId: 1,
    },
  ]);
  for (const [userId, username] of [
    ["a-una", "Una"],
    ["a-bob", "Bob"],
  ] as const) {
    await before.createAccount({
      userId,
      username,
      nameKey: username.toLowerCase(),
      passwordHash: `${username}-hash`,
      createdMs: T0,
    });
    await before.saveToken({ tokenHash: userId.repeat(16), userId, expiresMs: T0 + 1_000 });
  }
  await before.close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const migrations = async () =>
    (
      await client.query(
        `SELECT version, applied_at_ms FROM ${name}.schema_migrations ORDER BY version`,
      )
    ).rows.map((row) => [Number(row.version), Number(row.applied_at_ms)]);
  try {
    await client.query(UNDO_VERSION_7(name));
    await client.query(UNDO_VERSION_6(name));
    await client.query(UNDO_VERSION_5(name));
    await client.query(UNDO_VERSION_4(name));
    assert.deepEqual(await migrations(), [
      [1, T0],
      [2, T0],
      [3, T0],
    ]);

    const store = await openPgStore({ url: PG_URL, schema: name, now: () => T0 + 100 });
    try {
      assert.deepEqual(
        (await store.listAccounts({ limit: 10 })).map((a) => [a.userId, a.disabled]),
        [
          ["a-bob", false],
          ["a-una", false],
        ],
      );
      assert.equal((await store.tokenAccount("a-una".repeat(16), T0))?.account.username, "Una");
      assert.equal(await store.setDisabled("a-una", true), true);
      assert.equal(await store.tokenAccount("a-una".repeat(16), T0), undefined);
      assert.equal(await store.setPasswordHash("a-bob", "new-hash"), true);
      assert.equal(await store.tokenAccount("a-bob".repeat(16), T0), undefined);
      await store.saveResetCode({
        codeHash: "cc".repeat(32),
        userId: "a-bob",
        expiresMs: T0 + 500,
      });
      assert.equal(await store.takeResetCode("cc".repeat(32), T0 + 100), "a-bob");
      const [kept] = await store.exportMessages("lobby", 0, 10);
      assert.deepEqual([kept?.text, kept?.reactors], ["hi", [{ emoji: "👍", users: ["a-una"] }]]);
      await store.setEmail("a-una", "una@example.test");
      await store.setNotify("a-una", "lobby", "off");
      assert.equal(await store.deleteAccount("a-una"), true);
      assert.equal(await store.emailOf("a-una"), "");
      assert.equal(await store.deleteRoom("lobby"), 1);
    } finally {
      await store.close();
    }
    assert.deepEqual(await migrations(), [
      [1, T0],
      [2, T0],
      [3, T0],
      [4, T0 + 100],
      [5, T0 + 100],
      [6, T0 + 100],
      [7, T0 + 100],
    ]);
  } finally {
    await client.end();
  }
});

test("PostgreSQL has no backup of its own: pg_dump is the tool", async () => {
  const store = await openPgStore({ url: PG_URL, schema: schema() });
  try {
    await assert.rejects(store.backup("anywhere.db"), (error: Error) => {
      assert.ok(error instanceof BackupUnsupportedError);
      assert.match(error.message, /pg_dump/);
      return true;
    });
  } finally {
    await store.close();
  }
});
