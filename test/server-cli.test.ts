import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import { ChatClientError } from "../src/client/chat-client.ts";
import { type CliProcess, nextMatching, spawnCli, tempDir, testClient, within } from "./helpers.ts";

/** Starts `grpc-chat server` and reads the port from its startup line. */
async function startServerProcess(args: string[], env: Record<string, string> = {}) {
  const server = spawnCli(["server", "--host", "127.0.0.1", ...args], env);
  const line = await server.waitForLine("listening on");
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
  assert.ok(port > 0, `no port in: ${line}`);
  return { server, line, address: `127.0.0.1:${port}` };
}

async function stopProcess(
  server: CliProcess,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<number | null> {
  server.child.kill(signal);
  return within(server.exited, 5_000, `the server to exit after ${signal}`);
}

test("server --help lists every flag with its default and variable", async () => {
  const help = spawnCli(["server", "--help"]);
  assert.equal(await within(help.exited, 10_000, "--help to exit"), 0);
  const text = help.lines.join("\n");
  for (const expected of [
    /--host <host>.*default: "0\.0\.0\.0".*env: GRPC_CHAT_HOST/,
    /--port <port>.*default: 50051.*env: GRPC_CHAT_PORT/,
    /--db <path>.*default: "\.\/data\/chat\.db".*env: GRPC_CHAT_DB/,
    /--log-level <level>.*default: "info".*env: GRPC_CHAT_LOG_LEVEL/,
    /--max-message-bytes <n>.*default: 4096.*env: GRPC_CHAT_MAX_MESSAGE_BYTES/,
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

test("a port already in use is reported, not hidden", async () => {
  const first = await startServerProcess(["--port", "0", "--db", ":memory:"]);
  try {
    const port = first.address.split(":")[1] ?? "";
    const second = spawnCli(["server", "--host", "127.0.0.1", "--port", port, "--db", ":memory:"]);
    assert.notEqual(await within(second.exited, 10_000, "the second server to give up"), 0);
    assert.match(second.stderr(), /No address added out of total 1 resolved|EADDRINUSE|in use/);
  } finally {
    await stopProcess(first.server);
  }
});
