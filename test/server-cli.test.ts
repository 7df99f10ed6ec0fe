import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import { ChatClientError } from "../src/client/chat-client.ts";
import {
  nextMatching,
  spawnCli,
  startServerProcess,
  stopProcess,
  tempDir,
  testClient,
  within,
} from "./helpers.ts";

test("server --help lists every flag with its default and variable", async () => {
  const help = spawnCli(["server", "--help"]);
  assert.equal(await within(help.exited, 10_000, "--help to exit"), 0);
  const text = help.lines.join("\n");
  for (const expected of [
    /--host <host>.*default: "0\.0\.0\.0".*env: GRPC_CHAT_HOST/,
    /--port <port>.*default: 50051.*env: GRPC_CHAT_PORT/,
    /--db <path\|url>.*postgres:\/\/.*default: "\.\/data\/chat\.db".*env: GRPC_CHAT_DB/,
    /--bus <url>.*redis:\/\/.*env: GRPC_CHAT_BUS/,
    /--log-level <level>.*default: "info".*env: GRPC_CHAT_LOG_LEVEL/,
    /--max-message-bytes <n>.*default: 4096.*env: GRPC_CHAT_MAX_MESSAGE_BYTES/,
    /--max-rooms <n>.*default: 100.*env: GRPC_CHAT_MAX_ROOMS/,
    /--max-queued-messages <n>.*default: 1024.*env: GRPC_CHAT_MAX_QUEUED_MESSAGES/,
    /--max-queued-bytes <n>.*default: 1048576.*env: GRPC_CHAT_MAX_QUEUED_BYTES/,
    /--reader-timeout <seconds>.*default: 60.*env: GRPC_CHAT_READER_TIMEOUT/,
    /--presence-max-room <n>.*default: 200.*env: GRPC_CHAT_PRESENCE_MAX_ROOM/,
    /--history-max-age <age>.*default: 365d.*env: GRPC_CHAT_HISTORY_MAX_AGE/,
    /--history-max-per-room <n>.*default: 1000000.*env: GRPC_CHAT_HISTORY_MAX_PER_ROOM/,
    /--durability <level>.*choices: "full", "normal".*default: "full".*env: GRPC_CHAT_DURABILITY/,
  ]) {
    assert.match(text.replace(/\n\s+/g, " "), expected);
  }
});

test("history survives a restart; SIGTERM tells clients, ends streams with UNAVAILABLE and exits 0", async () => {
  const dir = tempDir();
  const db = join(dir.path, "data", "chat.db");
  try {
    const first = await startServerProcess(["--port", "0", "--db", db]);
    assert.match(first.line, new RegExp(`history in ${db.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    assert.match(first.line, /connect with: npm run client -- --server 127\.0\.0\.1:\d+/);
    assert.ok(existsSync(db), "the database file was created");

    const client = testClient({ address: first.address }, { username: "keeper" });
    await client.join();
    await client.sendBatch(["written before the restart"]);
    const session = client.openSession();
    const events = session[Symbol.asyncIterator]();
    await session.join("lobby");
    await nextMatching(events, (e) => e.type === "caught_up", "keeper live");

    const started = Date.now();
    assert.equal(await stopProcess(first.server), 0);
    assert.ok(Date.now() - started < 5_000);
    await nextMatching(
      events,
      (e) => e.type === "notice" && /shutting down/.test(e.text),
      "the shutdown notice",
    );
    const ended = await within(session.ended, 5_000, "the session to end");
    assert.ok(ended instanceof ChatClientError);
    assert.equal(ended.code, status.UNAVAILABLE);
    client.close();

    const second = await startServerProcess([], { GRPC_CHAT_PORT: "0", GRPC_CHAT_DB: db });
    const reader = testClient({ address: second.address }, { username: "reader" });
    try {
      const { messages } = await reader.history({ limit: 10, includeSystem: false });
      assert.deepEqual(
        messages.map((m) => m.text),
        ["written before the restart"],
      );
    } finally {
      reader.close();
      assert.equal(await stopProcess(second.server, "SIGINT"), 0);
    }
  } finally {
    dir.remove();
  }
});

test("a second server on the same SQLite file is refused at start, saying why", async () => {
  const dir = tempDir();
  const db = join(dir.path, "chat.db");
  try {
    const first = await startServerProcess(["--port", "0", "--db", db]);
    try {
      const second = spawnCli([
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--http-port",
        "0",
        "--db",
        db,
      ]);
      assert.equal(await within(second.exited, 10_000, "the second server to give up"), 1);
      assert.match(second.stderr(), /Another process is using the SQLite database/);
      assert.match(second.stderr(), /choose another --db/);
    } finally {
      await stopProcess(first.server);
    }
  } finally {
    dir.remove();
  }
});

test("bad retention and durability flags are refused with the accepted forms", async () => {
  for (const [flag, value, expected] of [
    ["--history-max-age", "soon", /expected an age such as "90d"/],
    ["--durability", "maybe", /Allowed choices are full, normal/],
  ] as const) {
    const server = spawnCli(["server", flag, value]);
    assert.notEqual(await within(server.exited, 10_000, `${flag} to be refused`), 0);
    assert.match(server.stderr(), expected);
  }
});

test("a port already in use is reported, not hidden", async () => {
  const first = await startServerProcess(["--port", "0", "--db", ":memory:"]);
  try {
    const port = first.address.split(":")[1] ?? "";
    const second = spawnCli([
      "server",
      "--host",
      "127.0.0.1",
      "--port",
      port,
      "--http-port",
      "0",
      "--db",
      ":memory:",
    ]);
    assert.notEqual(await within(second.exited, 10_000, "the second server to give up"), 0);
    assert.match(second.stderr(), /No address added out of total 1 resolved|EADDRINUSE|in use/);
  } finally {
    await stopProcess(first.server);
  }
});
