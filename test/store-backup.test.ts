// SQLite's online backup: a copy of the open file made on the store's own
// connection while appends go on, which openSqliteStore opens like any file.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSqliteStore } from "../src/store/sqlite-store.ts";
import type { NewMessage } from "../src/store/store.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-backup-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const LOOPS = 20;
const ROOMS = 5;

const message = (room: string, text: string): NewMessage => ({
  room,
  userId: "g-una",
  username: "una",
  text,
  kind: "chat",
  clientMsgId: "",
});

test("a backup taken while 20 loops append holds every acknowledged message, ids gapless", async () => {
  const dir = tempDir();
  const store = await openSqliteStore({ path: join(dir, "live.db") });
  const copyPath = join(dir, "copy.db");
  // Enough pages that the copy takes many steps, with appends between them.
  const filler = "x".repeat(400);
  for (let i = 0; i < 40; i++) {
    await store.append(
      Array.from({ length: 100 }, (_, j) => message(`room-${j % ROOMS}`, `${filler} ${i}.${j}`)),
    );
  }

  const acknowledged: { room: string; id: number; text: string }[] = [];
  let running = true;
  const loops = Array.from({ length: LOOPS }, async (_, loop) => {
    for (let n = 0; running; n++) {
      const room = `room-${loop % ROOMS}`;
      const text = `loop ${loop} #${n}`;
      const [result] = await store.append([message(room, text)]);
      acknowledged.push({ room, id: result?.message.id ?? 0, text });
    }
  });
  try {
    // Let the loops get going before the copy starts.
    while (acknowledged.length < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = [...acknowledged];
    await store.backup(copyPath);
    const during = acknowledged.length - before.length;
    running = false;
    await Promise.all(loops);
    assert.ok(during > 0, "appends went on while the copy was made");

    const copy = await openSqliteStore({ path: copyPath });
    try {
      assert.notEqual(copy.epoch, store.epoch, "a restored copy is another history");
      assert.equal(copy.idKey, store.idKey, "the same users");
      for (const { room, id, text } of before) {
        assert.equal((await copy.message(room, id))?.text, text, `${room} ${id}`);
      }
      for (let r = 0; r < ROOMS; r++) {
        const room = `room-${r}`;
        const ids = (await copy.after(room, 0, 100_000)).messages.map((m) => m.id);
        assert.deepEqual(
          ids,
          Array.from({ length: ids.length }, (_, i) => i + 1),
          `${room}: no gap`,
        );
        assert.equal(await copy.lastId(room), ids.length);
        // What the copy has is what the live store has under those ids.
        const live = await store.after(room, 0, ids.length);
        assert.deepEqual((await copy.after(room, 0, ids.length)).messages, live.messages);
      }
      // The copy is a store like any other: it takes appends.
      const [next] = await copy.append([message("room-0", "after the restore")]);
      assert.equal(next?.message.id, await copy.lastId("room-0"));
    } finally {
      await copy.close();
    }
  } finally {
    running = false;
    await Promise.all(loops);
    await store.close();
  }
  assert.deepEqual(
    readdirSync(dir).sort(),
    ["copy.db", "live.db"],
    "no journal left beside the copy",
  );
});

test("a backup never overwrites a file, and a failed one leaves nothing behind", async () => {
  const dir = tempDir();
  const store = await openSqliteStore({ path: join(dir, "live.db") });
  try {
    await store.append([message("r", "kept")]);
    const taken = join(dir, "taken.db");
    writeFileSync(taken, "not a database, but someone's");
    await assert.rejects(store.backup(taken), (error: Error) => {
      assert.match(
        error.message,
        /taken\.db already exists: a backup is written to a new file only\./,
      );
      return true;
    });
    assert.equal(readFileSync(taken, "utf8"), "not a database, but someone's");
    await assert.rejects(store.backup(join(dir, "missing", "copy.db")), /ENOENT/);
    assert.equal(existsSync(join(dir, "missing")), false);
    // The store is unharmed, and a backup to a new name works.
    const [next] = await store.append([message("r", "still here")]);
    assert.equal(next?.message.id, 2);
    await store.backup(join(dir, "fresh.db"));
  } finally {
    await store.close();
  }
  const copy = await openSqliteStore({ path: join(dir, "fresh.db") });
  try {
    assert.deepEqual(
      (await copy.after("r", 0, 10)).messages.map((m) => m.text),
      ["kept", "still here"],
    );
  } finally {
    await copy.close();
  }
});

test("close waits for a backup under way, and an in-memory store can be backed up", async () => {
  const dir = tempDir();
  const store = await openSqliteStore({ path: ":memory:" });
  await store.append(
    Array.from({ length: 500 }, (_, i) => message("r", `${"y".repeat(300)} ${i}`)),
  );
  const copyPath = join(dir, "memory-copy.db");
  const backup = store.backup(copyPath);
  await store.close();
  await backup;
  const copy = await openSqliteStore({ path: copyPath });
  try {
    assert.equal(await copy.lastId("r"), 500);
  } finally {
    await copy.close();
  }
});
