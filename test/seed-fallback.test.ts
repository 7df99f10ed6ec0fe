// Our terminal client against a server that speaks only the seed's protocol:
// the stand-in for the seed's original Python server (test/interop/seed_server.py,
// grpcio) answers our API UNIMPLEMENTED, so the client says so once and chats
// over JoinChat, ChatStream, GetChatHistory and SendMessages. The other side
// is the seed-style Python client (test/interop/seed_client.py).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { type CliProcess, nextMatching, spawnCli, spawnLines, within } from "./helpers.ts";
import { SeedClient, seedUser } from "./seed-client.ts";
import { PYTHON, requirePythonGrpc, type SeedServer, startSeedServer } from "./seed-server.ts";

const TIME = String.raw`\[\d{2}:\d{2}:\d{2}\]`;
const NOTICE = "This server speaks only the original chat protocol";
const WAIT_MS = 10_000;

/** The `count` lines printed after the first line that is exactly `header`. */
function linesAfter(cli: CliProcess, header: string, count: number): string[] {
  const at = cli.lines.indexOf(header);
  assert.ok(at >= 0, `no line "${header}" in:\n${cli.lines.join("\n")}`);
  return cli.lines.slice(at + 1, at + 1 + count);
}

const stripTime = (line: string) => line.replace(new RegExp(`^${TIME} `), "");

test("on a seed-only server the terminal client says so once and chats, /history, /batch and /ping over the seed's RPCs", async (t) => {
  requirePythonGrpc();
  const server = await startSeedServer();
  const cli = spawnCli(["client", "--server", server.address, "--name", "ours"]);
  let python: CliProcess | undefined;
  t.after(async () => {
    cli.child.kill();
    python?.child.kill();
    await server.stop();
  });
  const type = (line: string) => cli.child.stdin.write(`${line}\n`);

  await cli.waitForLine("Server: Welcome to the chat, ours!");
  await cli.waitForLine(NOTICE);
  await cli.waitForLine("No messages yet.");
  // The seed never says a stream is open; the stand-in does, so nothing is sent before.
  await server.process.waitForLine("stream open: ours");

  python = spawnLines(PYTHON, [
    "test/interop/seed_client.py",
    ...["--address", server.address, "--name", "PySeed"],
    ...["--send", "hello from python", "--expect", "hello from ours"],
    ...["--batch", "batch one", "--batch", "batch two"],
    ...["--timeout", String(WAIT_MS / 1000)],
  ]);
  // Python sends once its stream is open: after this line, ours reaches it.
  await cli.waitForLine(new RegExp(`^${TIME} PySeed: hello from python$`));
  type("hello from ours");
  await python.waitForLine(/"step": "received".*"message": "hello from ours"/);
  await cli.waitForLine(new RegExp(`^${TIME} PySeed: batch one$`));
  await cli.waitForLine(new RegExp(`^${TIME} PySeed: batch two$`));
  assert.equal(
    await within(python.exited, WAIT_MS * 2, "the Python client to finish"),
    0,
    `the Python client failed:\n${python.lines.join("\n")}\n${python.stderr()}`,
  );
  await cli.waitForLine(new RegExp(`^${TIME} System: PySeed has left the chat$`));
  assert.ok(
    !cli.lines.some((line) => line.includes("ours: hello from ours")),
    "the client showed its own message back",
  );

  // The seed streams history newest first; the client shows it oldest first.
  type("/history 4");
  // Lines come in order: once the pong is out, so is the history before it.
  type("/ping");
  await cli.waitForLine(/^Pong in \d+\.\d ms$/);
  assert.deepEqual(linesAfter(cli, "Last 4 messages:", 4).map(stripTime), [
    "ours: hello from ours",
    "PySeed: batch one",
    "PySeed: batch two",
    "System: PySeed has left the chat",
  ]);

  for (const line of ["/batch", "first of batch", "second of batch", "/end"]) type(line);
  await cli.waitForLine("Server: Successfully processed 2 messages from ours");

  type("/join #dev");
  await cli.waitForLine(
    "error: /join is not available: this server speaks only the original chat protocol, which has no rooms.",
  );
  type("/msg PySeed hi");
  await cli.waitForLine(/^error: \/msg is not available: .* no direct messages\.$/);
  // ... and the chat goes on.
  type("/history 1");
  await cli.waitForLine("Last 1 messages:");

  // What the batch sent is in the server's history, in order, once.
  const reader = new SeedClient(server.address, randomUUID(), "reader");
  try {
    const newestFirst = await reader.getChatHistory(2, false);
    assert.deepEqual(
      newestFirst.map((m) => `${m.username}: ${m.message}`),
      ["ours: second of batch", "ours: first of batch"],
    );
  } finally {
    reader.close();
  }

  type("/quit");
  assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
  assert.equal(cli.lines.filter((line) => line.startsWith(NOTICE)).length, 1, "notice not once");
});

test("the terminal client reports a lost seed server and chats again once it is back", async (t) => {
  requirePythonGrpc();
  let server: SeedServer = await startSeedServer();
  const cli = spawnCli(["client", "--server", server.address, "--name", "stay"]);
  let watcher: Awaited<ReturnType<typeof seedUser>> | undefined;
  t.after(async () => {
    cli.child.kill();
    watcher?.call.cancel();
    watcher?.client.close();
    await server.stop();
  });
  const type = (line: string) => cli.child.stdin.write(`${line}\n`);
  await cli.waitForLine(NOTICE);
  await cli.waitForLine("No messages yet.");

  assert.equal(await server.stop("SIGKILL"), null);
  await cli.waitForLine(/^-- connection lost: /);
  await cli.waitForLine(/^-- reconnecting in [\d.]+ s \(attempt 1\)$/);
  type("typed while the server was down");

  server = await startSeedServer(server.port);
  watcher = await seedUser(server, "watcher");
  await server.process.waitForLine("stream open: watcher");
  await cli.waitForLine("-- reconnected", 15_000);
  await server.process.waitForLine("stream open: stay");
  watcher.call.write({
    user_id: watcher.client.userId,
    username: "watcher",
    message: "are you back?",
    timestamp: "",
  });
  await cli.waitForLine(new RegExp(`^${TIME} watcher: are you back\\?$`));
  type("yes, back");
  const iterator = watcher.iterator;
  await nextMatching(iterator, (m) => m.message === "yes, back", '"yes, back" at the watcher');
  // The line typed while the server was down went before it, on the same stream.
  const history = (await watcher.client.getChatHistory(3, false))
    .reverse()
    .map((m) => `${m.username}: ${m.message}`);
  assert.deepEqual(
    history.filter((line) => line.startsWith("stay: ")),
    ["stay: typed while the server was down", "stay: yes, back"],
  );
  assert.ok(history.includes("watcher: are you back?"), history.join("\n"));

  type("/quit");
  assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
});
