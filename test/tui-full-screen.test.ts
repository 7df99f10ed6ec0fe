import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { ChatClient, ChatSession, SessionEvent } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import {
  CLI,
  isPresence,
  isText,
  nextMatching,
  ROOT,
  startTestServer,
  tempDir,
  testClient,
} from "./helpers.ts";

// The full-screen client in a real pseudo-terminal: tmux runs it, the test
// types with send-keys and reads the screen with capture-pane.

const run = promisify(execFile);

// This test's own tmux server, so it never touches anyone else's sessions.
const SOCKET = `grpc-chat-test-${process.pid}-${randomBytes(4).toString("hex")}`;
const PANE = "chat";
// ink draws only <Static> output when it thinks it runs in CI; and a TMUX
// variable inherited from a surrounding tmux must not leak into the pane.
const {
  CI: _ci,
  CONTINUOUS_INTEGRATION: _ci2,
  TMUX: _tmux,
  TMUX_PANE: _pane,
  ...env
} = process.env;

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await run("tmux", ["-L", SOCKET, ...args], { env });
  return stdout;
}

const screen = () => tmux("capture-pane", "-p", "-t", PANE);

/** A tmux format about the pane, such as "#{pane_pid}". */
const pane = async (format: string) =>
  (await tmux("display-message", "-p", "-t", PANE, format)).trim();

/** Polls the screen (what there is to wait on) until `ok`, within a deadline. */
async function waitForScreen(
  what: string,
  ok: (screen: string) => boolean,
  ms = 10_000,
): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await screen();
    if (ok(text)) return text;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}; the screen:\n${text}`);
    }
    await sleep(50);
  }
}

/** The input line: the only line that starts with the prompt. */
function inputLine(text: string): string | undefined {
  return text
    .split("\n")
    .filter((line) => line.startsWith(">"))
    .at(-1)
    ?.trimEnd();
}

const dir = tempDir();
// The client saves login tokens under the config directory: this test's own.
env.XDG_CONFIG_HOME = join(dir.path, "config");
const db = join(dir.path, "chat.db");
let server: RunningChatServer;
let bob: ChatClient;
let session: ChatSession;
let events: AsyncIterator<SessionEvent>;
let clientPid: number | undefined;
let socketPath: string | undefined;

/** bob: a project client live in the lobby, to talk to alice. */
async function connectBob(): Promise<void> {
  bob = testClient(server, { username: "bob" });
  await bob.join();
  session = bob.openSession();
  events = session[Symbol.asyncIterator]();
  await session.join("lobby");
  await nextMatching(events, (event) => event.type === "caught_up", "bob's session to catch up");
}

before(async () => {
  server = await startTestServer({ db });
  // Older history than the client shows at start, for Page Up to fetch.
  const writer = testClient(server, { username: "archivist" });
  await writer.join();
  await writer.sendBatch(Array.from({ length: 60 }, (_, i) => `old ${i + 1}`));
  writer.close();
  // remain-on-exit keeps the pane after the client exits, to see that it did and how it left
  // the terminal.
  await tmux(
    ...["-f", "/dev/null", "start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";"],
    ...["new-session", "-d", "-s", PANE, "-x", "100", "-y", "30", "-c", ROOT, "--"],
    ...[process.execPath, CLI, "client", "--server", server.address, "--name", "alice"],
  );
  clientPid = Number(await pane("#{pane_pid}"));
  socketPath = await pane("#{socket_path}");
  await waitForScreen("alice to be live", (text) => /\blive\b/.test(text));

  await connectBob();
});

after(async () => {
  await tmux("kill-server").catch(() => {});
  if (socketPath) rmSync(socketPath, { force: true });
  // kill-server hangs up on the client, which then quits; make sure it has.
  const deadline = Date.now() + 5_000;
  while (clientPid && isAlive(clientPid)) {
    if (Date.now() > deadline) {
      process.kill(clientPid, "SIGKILL");
      break;
    }
    await sleep(50);
  }
  session?.close();
  bob?.close();
  await server?.stop(1_000);
  dir.remove();
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("the status line shows the server, the name and the connection state", async () => {
  assert.equal(await pane("#{alternate_on}"), "1", "the client uses the alternate screen");
  const text = await screen();
  const status = text.split("\n").find((line) => line.includes("alice @"));
  assert.ok(status, `no status line on the screen:\n${text}`);
  assert.match(status, /\blive\b/);
  assert.ok(status.includes(`alice @ ${server.address}`), status);
});

test("a message arriving leaves the half-typed input exactly as typed", async () => {
  await tmux("send-keys", "-t", PANE, "-l", "half typed");
  await waitForScreen("the typed text", (text) => inputLine(text) === "> half typed");

  await session.send("hello from bob");
  const text = await waitForScreen("bob's message", (t) => t.includes("bob: hello from bob"));
  assert.match(text, /^\d\d:\d\d:\d\d bob: hello from bob$/m);
  assert.equal(inputLine(text), "> half typed");
});

test("a server restart shows the reconnecting state and keeps the half-typed input", async () => {
  const port = server.port;
  bob.close();
  await server.stop(1_000);
  const down = await waitForScreen("the reconnecting state", (t) =>
    /reconnecting in [\d.]+ s/.test(t),
  );
  assert.equal(inputLine(down), "> half typed");
  server = await startTestServer({ db, port });
  const back = await waitForScreen("live again", (t) => /\blive\b/.test(t));
  assert.equal(inputLine(back), "> half typed");
  await connectBob();
  await session.send("after the restart");
  await waitForScreen("a message after the restart", (t) => t.includes("bob: after the restart"));
});

test("Enter sends the input line as a message and clears it", async () => {
  await tmux("send-keys", "-t", PANE, "Enter");
  const event = await nextMatching(
    events,
    (e) => e.type === "message" && e.message.username === "alice",
    "alice's message to reach bob",
  );
  assert.equal(event.type === "message" && event.message.text, "half typed");
  const text = await waitForScreen("alice's own message", (t) => t.includes("alice: half typed"));
  assert.equal(inputLine(text), ">");
});

test("escape sequences from others are shown inert", async () => {
  await session.send("\u001b[2J\u001b]0;pwned\u0007evil");
  const text = await waitForScreen("the message with escapes", (t) => t.includes("evil"));
  assert.match(text, /bob: ␛\[2J␛\]0;pwned␇evil$/m);
  // Not cleared: the earlier lines are still there.
  assert.match(text, /bob: hello from bob$/m);
  assert.match(text, /alice: half typed$/m);
  assert.notEqual(await pane("#{pane_title}"), "pwned");
});

test("Page Up at the top of the scrollback loads older messages from the server", async () => {
  const before = await screen();
  assert.ok(!before.includes("archivist: old 10\n"), "old messages are not shown at start");
  let text = before;
  for (let press = 0; press < 60 && !text.includes("The beginning of the history."); press++) {
    await tmux("send-keys", "-t", PANE, "PPage");
    text = await screen();
  }
  assert.match(text, /The beginning of the history\./);
  assert.match(text, /archivist: old 1$/m);
  // Back to the newest, where new messages show.
  for (let press = 0; press < 60 && text.includes("newer below"); press++) {
    await tmux("send-keys", "-t", PANE, "NPage");
    text = await screen();
  }
  await session.send("back at the bottom");
  await waitForScreen("a new message at the bottom", (t) => t.includes("bob: back at the bottom"));
});

test("/register asks for the password on a masked input line, then chats as the account", async () => {
  await tmux("send-keys", "-t", PANE, "-l", "/register");
  await tmux("send-keys", "-t", PANE, "Enter");
  await waitForScreen("the password prompt", (t) => /Password for alice:/.test(t));
  await tmux("send-keys", "-t", PANE, "-l", "sekrit-pass");
  const masked = await waitForScreen("the masked password", (t) =>
    t.includes("Password for alice: •••••••••••"),
  );
  assert.ok(!masked.includes("sekrit"), `the password is on the screen:\n${masked}`);
  await tmux("send-keys", "-t", PANE, "Enter");
  const done = await waitForScreen("the login", (t) =>
    t.includes("Registered and logged in as alice."),
  );
  assert.ok(!done.includes("sekrit"));
  await waitForScreen("live as the account", (t) => /\blive\b/.test(t) && inputLine(t) === ">");
  await tmux("send-keys", "-t", PANE, "-l", "as an account");
  await tmux("send-keys", "-t", PANE, "Enter");
  const event = await nextMatching(
    events,
    isText("as an account"),
    "alice's message as an account",
  );
  assert.match(event.type === "message" ? event.message.userId : "", /^a-/);
});

test("rooms: /join opens one, Alt+1 switches back, unread and mention counts move, Ctrl+N shows it", async () => {
  await tmux("send-keys", "-t", PANE, "-l", "/join #side");
  await tmux("send-keys", "-t", PANE, "Enter");
  await waitForScreen(
    "the new room shown",
    (t) => / 2:#side$/m.test(t) && t.includes("No messages yet."),
  );
  await tmux("send-keys", "-t", PANE, "M-1");
  await waitForScreen(
    "the lobby again",
    (t) => t.includes("bob: back at the bottom") && !t.includes("No messages yet."),
  );
  await session.join("side");
  await session.send("side news", { room: "side" });
  const unread = await waitForScreen("an unread count", (t) => / 2:#side\(1\)$/m.test(t));
  assert.ok(!unread.includes("side news"), "a message of another room is shown in the lobby");
  await session.send("hey alice, look", { room: "side" });
  await waitForScreen("a mention", (t) => / 2:#side\(2!\)$/m.test(t));
  await tmux("send-keys", "-t", PANE, "C-n");
  const side = await waitForScreen("the side room", (t) => t.includes("bob: side news"));
  assert.match(side, / 2:#side$/m, "the counts clear once the room is shown");
  assert.match(side, /bob: hey alice, look$/m);
});

test("Ctrl+C quits cleanly and gives the terminal back", async () => {
  await tmux("send-keys", "-t", PANE, "C-c");
  await nextMatching(events, isPresence("alice", false), "the server to announce that alice left");
  // The exit status is not checked: tmux 3.3a does not always reap the pane's
  // process, so #{pane_dead_status} can stay empty.
  const deadline = Date.now() + 5_000;
  while ((await pane("#{pane_dead}")) !== "1") {
    assert.ok(Date.now() < deadline, `the client did not exit; the screen:\n${await screen()}`);
    await sleep(50);
  }
  assert.equal(await pane("#{alternate_on}"), "0", "the client left the alternate screen");
});
