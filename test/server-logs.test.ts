// The server's log is for whoever reads its stderr: lines for a person on a
// terminal (tmux gives the server a real one), JSON lines for a machine
// anywhere else.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CLI, ROOT, startServerProcess, stopProcess, tempDir } from "./helpers.ts";

const run = promisify(execFile);

// A TMUX variable inherited from a surrounding tmux must not reach this test's own server.
const { TMUX: _tmux, TMUX_PANE: _pane, ...env } = process.env;

/** Polls `read` (a terminal's screen has no event to await) until `ok`, within a deadline. */
async function waitFor(what: string, read: () => Promise<string>, ok: (text: string) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await read();
    if (ok(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; saw:\n${text}`);
    await sleep(50);
  }
}

const quoted = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

test("on a terminal the log is for a person: no JSON, the start-up line readable", async () => {
  const socket = `grpc-chat-logs-${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmux = async (...args: string[]) =>
    (await run("tmux", ["-L", socket, "-f", "/dev/null", ...args], { env })).stdout;
  const dir = tempDir();
  const stdout = join(dir.path, "stdout");
  // stdout to a file, so the pane shows stderr alone.
  const command = [process.execPath, CLI, "server", "--host", "127.0.0.1"]
    .concat(["--port", "0", "--http-port", "0", "--db", ":memory:"])
    .map(quoted)
    .join(" ");
  try {
    await tmux(
      "start-server",
      ";",
      "set-option",
      "-g",
      "remain-on-exit",
      "on",
      ";",
      "new-session",
      "-d",
      "-x",
      "160",
      "-y",
      "40",
      "-c",
      ROOT,
      `exec ${command} > ${quoted(stdout)}`,
    );
    const screen = () => tmux("capture-pane", "-p", "-J", "-t", "0");
    await waitFor(
      "the start-up line on stdout",
      // The pane's shell creates the file when it starts the server, which may be later.
      async () => (existsSync(stdout) ? readFileSync(stdout, "utf8") : ""),
      (text) => text.includes("listening on"),
    );
    const started = await waitFor("the start-up log line", screen, (text) =>
      text.includes("server started"),
    );
    const pid = Number((await tmux("display-message", "-p", "-t", "0", "#{pane_pid}")).trim());
    process.kill(pid, "SIGTERM");
    const ended = await waitFor("the server to stop", screen, (text) => /\bstopped\b/.test(text));
    for (const text of [started, ended]) {
      const lines = text.split("\n").filter((line) => line.trim() !== "");
      assert.deepEqual(
        lines.filter((line) => line.trimStart().startsWith("{")),
        [],
        `no JSON on the terminal:\n${text}`,
      );
    }
    assert.match(started, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: server started$/m);
    assert.match(started, /^\s+httpUrl: "http:\/\/127\.0\.0\.1:\d+\/"$/m);
    assert.match(ended, /INFO: shutting down/);
    assert.match(ended, /INFO: stopped/);
  } finally {
    await tmux("kill-server").catch(() => undefined);
    dir.remove();
  }
});

test("anywhere else every line of stderr is JSON", async () => {
  const { server } = await startServerProcess(["--port", "0", "--db", ":memory:"]);
  assert.equal(await stopProcess(server), 0);
  const lines = server
    .stderr()
    .split("\n")
    .filter((line) => line !== "");
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
  const parsed = lines.map((line) => JSON.parse(line) as { msg: string });
  assert.deepEqual(
    parsed.map((line) => line.msg),
    ["server started", "shutting down", "stopped"],
  );
});
