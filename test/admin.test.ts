// Administration through `grpc-chat admin` against real servers: the first
// admin granted on the database, accounts disabled and reset, rooms deleted,
// an export imported into a fresh server reading the same, and an online
// backup taken under write load holding every acknowledged message.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { type ChatClient, ChatClientError } from "../src/client/chat-client.ts";
import {
  liveUser,
  nextMatching,
  spawnCli,
  startServerProcess,
  stopProcess,
  tempDir,
  testClient,
} from "./helpers.ts";

const PASSWORD = "correct horse battery";

/** Runs `grpc-chat admin ...`; resolves to its exit code and output. */
async function adminCli(args: string[], env: Record<string, string> = {}) {
  const cli = spawnCli(["admin", ...args], env);
  const code = await cli.exited;
  return { code, out: cli.lines.join("\n"), err: cli.stderr() };
}

async function account(server: { address: string }, username: string): Promise<ChatClient> {
  const client = testClient(server, { username });
  await client.register(username, PASSWORD);
  return client;
}

describe("grpc-chat admin", () => {
  const dir = tempDir();
  const db = join(dir.path, "chat.db");
  let server: Awaited<ReturnType<typeof startServerProcess>>;
  let root: ChatClient;
  let token: string;

  before(async () => {
    // The first admin: registered, then granted on the stopped database.
    server = await startServerProcess(["--port", "0", "--db", db]);
    root = await account(server, "root");
    root.close();
    await stopProcess(server.server);
    const granted = await adminCli(["grant", "root", "--db", db]);
    assert.equal(granted.code, 0, granted.err);
    assert.match(granted.out, /root is a server admin/);
    // The backup's writers send as fast as the store takes them.
    server = await startServerProcess(["--port", "0", "--db", db, "--send-rate", "0"]);
    root = testClient(server, { username: "root" });
    token = (await root.login("root", PASSWORD)).token;
  });
  after(async () => {
    root.close();
    await stopProcess(server.server);
    dir.remove();
  });

  const admin = (...args: string[]) =>
    adminCli(["--server", server.address, "--token", token, ...args]);

  test("a non-admin is refused, saying what it needs", async () => {
    const mallory = await account(server, "mallory0");
    const refused = await adminCli([
      "--server",
      server.address,
      "--token",
      (await mallory.login("mallory0", PASSWORD)).token,
      "users",
    ]);
    mallory.close();
    assert.equal(refused.code, 1);
    assert.match(refused.err, /Only a server admin can do this/);
  });

  test("disable ends the account's streams at once and refuses its login; enable lets it back", async () => {
    const eve = await liveUser(server, "eve-guest");
    eve.client.close();
    const user = await account(server, "eve");
    const session = user.openSession();
    const events = session[Symbol.asyncIterator]();
    await nextMatching(events, (e) => e.type === "welcome", "eve's welcome");
    const disabled = await admin("disable", "eve", "spam");
    assert.equal(disabled.code, 0, disabled.err);
    const ended = await session.ended;
    assert.ok(ended instanceof ChatClientError);
    assert.equal(ended.code, status.PERMISSION_DENIED);
    assert.match(ended.message, /disabled/);
    await assert.rejects(user.login("eve", PASSWORD), (error: ChatClientError) => {
      assert.equal(error.code, status.PERMISSION_DENIED);
      assert.match(error.message, /disabled by the server's admins/);
      return true;
    });
    assert.equal((await admin("enable", "eve")).code, 0);
    await user.login("eve", PASSWORD);
    user.close();
  });

  test("a password reset gives a one-time code; the old password and tokens stop working", async () => {
    const bob = await account(server, "bobby");
    const reset = await admin("reset-password", "bobby");
    assert.equal(reset.code, 0, reset.err);
    const code = /: (\S+)$/m.exec(reset.out)?.[1];
    assert.ok(code, reset.out);
    await assert.rejects(bob.login("bobby", PASSWORD));
    const cli = spawnCli(["reset-password", "--server", server.address, code], {
      XDG_CONFIG_HOME: dir.path,
    });
    cli.child.stdin?.end("a brand new password\n");
    assert.equal(await cli.exited, 0, cli.stderr());
    await bob.login("bobby", "a brand new password");
    const again = spawnCli(["reset-password", "--server", server.address, code], {
      XDG_CONFIG_HOME: dir.path,
    });
    again.child.stdin?.end("another password here\n");
    assert.equal(await again.exited, 1, "a code works once");
    assert.match(again.stderr(), /unknown, used or expired/);
    bob.close();
  });

  test("delete-room removes a room and takes its streams out; the audit log has every action", async () => {
    const carol = await liveUser(server, "carol", { room: "doomed" });
    await carol.client.send("soon gone", { room: "doomed" });
    const deleted = await admin("delete-room", "doomed", "cleanup");
    assert.equal(deleted.code, 0, deleted.err);
    const left = await nextMatching(
      carol.events,
      (e) => e.type === "left",
      "carol leaves the room",
    );
    assert.ok(left.type === "left");
    assert.equal(left.code, status.NOT_FOUND);
    const { messages } = await root.history({ room: "doomed", limit: 10 });
    assert.deepEqual(messages, []);
    carol.client.close();
    const audit = await admin("audit");
    for (const action of ["disable_user", "enable_user", "reset_password", "delete_room"]) {
      assert.match(audit.out, new RegExp(`\\t${action}\\t`), `${action} in the audit log`);
    }
  });

  test("an export imported into a fresh server gives the same History", async () => {
    const ann = await account(server, "ann");
    const first = await ann.send("first", { room: "archive" });
    const second = await ann.send("second, to be edited", { room: "archive" });
    await ann
      .send("third, to be deleted", { room: "archive" })
      .then((m) => ann.delete("archive", m.id));
    await ann.edit("archive", second.id, "second, edited");
    await ann.react("archive", first.id, "👍");
    await root.react("archive", first.id, "🎉");
    const file = join(dir.path, "export.jsonl");
    const exported = await admin("export", "archive", "--out", file);
    assert.equal(exported.code, 0, exported.err);
    const before = await ann.history({ room: "archive", limit: 50 });

    const fresh = await startServerProcess(["--port", "0", "--db", ":memory:", "--admin", "root"]);
    try {
      const freshRoot = await account(fresh, "root");
      const freshToken = (await freshRoot.login("root", PASSWORD)).token;
      const imported = await adminCli([
        "--server",
        fresh.address,
        "--token",
        freshToken,
        "import",
        file,
      ]);
      assert.equal(imported.code, 0, imported.err);
      assert.match(imported.out, /Imported 1 rooms, \d+ messages/);
      const reader = testClient(fresh, { username: "reader" });
      await reader.join();
      const afterImport = await reader.history({ room: "archive", limit: 50 });
      const shape = (page: typeof before) =>
        page.messages.map((m) => [
          m.id,
          m.timeMs,
          m.userId,
          m.text,
          Boolean(m.editedAtMs),
          Boolean(m.deleted),
          m.reactions?.map((r) => [r.emoji, r.count]),
        ]);
      assert.deepEqual(shape(afterImport), shape(before));
      const again = await adminCli([
        "--server",
        fresh.address,
        "--token",
        freshToken,
        "import",
        file,
      ]);
      assert.equal(again.code, 1, "a second import into the same room is refused");
      assert.match(again.err, /already has messages/);
      reader.close();
      freshRoot.close();
    } finally {
      await stopProcess(fresh.server);
    }
    ann.close();
  });

  test("an online backup under write load restores with every acknowledged message", async () => {
    const writers = await Promise.all([0, 1, 2, 3].map((i) => account(server, `writer${i}`)));
    const acked = new Map<string, number[]>();
    let writing = true;
    const loops = writers.map(async (writer, i) => {
      const room = `load-${i}`;
      const ids: number[] = [];
      acked.set(room, ids);
      while (writing) {
        const { id } = await writer.send(`m${ids.length}`, { room });
        ids.push(id);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = new Map([...acked].map(([room, ids]) => [room, ids.length]));
    const file = join(dir.path, "backup.db");
    const backup = await admin("backup", file);
    writing = false;
    await Promise.all(loops);
    for (const writer of writers) writer.close();
    assert.equal(backup.code, 0, backup.err);
    assert.ok(existsSync(file));

    const restored = await startServerProcess(["--port", "0", "--db", file]);
    try {
      const reader = testClient(restored, { username: "reader2" });
      await reader.join();
      for (const [room, count] of started) {
        const ids = (acked.get(room) ?? []).slice(0, count);
        const { messages } = await reader.history({ room, limit: 1000 });
        const stored = new Set(messages.map((m) => m.id));
        for (const id of ids)
          assert.ok(
            stored.has(id),
            `${room}: message ${id}, acknowledged before the backup, is in it`,
          );
        assert.deepEqual(
          messages.map((m) => m.id),
          messages.map((_, i) => i + 1),
          `${room}: gapless`,
        );
      }
      reader.close();
    } finally {
      await stopProcess(restored.server);
    }
  });
});
