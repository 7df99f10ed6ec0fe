// Notifications in the terminal client: the bell and the terminal's title
// for mentions, direct messages and rooms set to "all", by /notify's level
// as the server keeps it. The full-screen client (alice) and a line-mode
// client on a terminal (carol) run in tmux, whose pipe-pane hands the test
// every byte they write; a piped line-mode client (dave) must stay quiet.
// A project client (bob) is the other side.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { ChatClient, ChatSession, SessionEvent } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { CLI, nextMatching, spawnCli, startTestServer, tempDir, testClient } from "./helpers.ts";
import { startTerminal, type Terminal } from "./tui-helpers.ts";

const run = promisify(execFile);
const BEL = "\u0007";
const dir = tempDir();
let server: RunningChatServer;
let alice: Terminal;
let bob: ChatClient;
let session: ChatSession;
let events: AsyncIterator<SessionEvent>;
let socket = "";

before(async () => {
  server = await startTestServer({ db: join(dir.path, "chat.db"), presenceTickMs: 20 });
  alice = await startTerminal(server, "alice", { XDG_CONFIG_HOME: join(dir.path, "config") });
  socket = await alice.pane("#{socket_path}");
  await tmux("pipe-pane", "-t", "chat:0", `cat > ${join(dir.path, "alice.raw")}`);
  bob = testClient(server, { username: "bob" });
  await bob.join();
  session = bob.openSession();
  events = session[Symbol.asyncIterator]();
  await session.join("lobby");
  await session.join("dev");
  await nextMatching(events, (e) => e.type === "caught_up", "bob's session to catch up");
});

after(async () => {
  await alice?.close();
  session?.close();
  bob?.close();
  await server?.stop(1_000);
  dir.remove();
});

/** A command to the tmux server alice runs in. */
async function tmux(...args: string[]): Promise<string> {
  return (await run("tmux", ["-S", socket, ...args])).stdout;
}

/** Everything a client in tmux has written, byte for byte. */
function raw(name: string): string {
  const file = join(dir.path, `${name}.raw`);
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** Polls what `name` has written since `from` until `ok`; that output then. */
async function waitRaw(
  name: string,
  from: number,
  what: string,
  ok: (output: string) => boolean,
  ms = 10_000,
): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const output = raw(name).slice(from);
    if (ok(output)) return output;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; the output:\n${JSON.stringify(output)}`);
    }
    await sleep(50);
  }
}

const OSC_TITLE = "\u001b]0;";

/** `output` as its titles (OSC 0, in order) and what is left once they are cut out. */
function split(output: string): { titles: string[]; rest: string } {
  const [first = "", ...parts] = output.split(OSC_TITLE);
  const titles: string[] = [];
  let rest = first;
  for (const part of parts) {
    const end = part.indexOf(BEL);
    titles.push(end < 0 ? part : part.slice(0, end));
    rest += end < 0 ? "" : part.slice(end + 1);
  }
  return { titles, rest };
}
const titles = (output: string) => split(output).titles;
/** Bells rung in `output`: BELs that do not end a title. */
const bells = (output: string) => split(output).rest.split(BEL).length - 1;

/** Types a line into alice's client and presses Enter. */
async function enter(line: string): Promise<void> {
  await alice.type(line);
  await alice.press("Enter");
}

/** Sets the level of alice's #dev from #dev, then shows #lobby again, where #dev counts unread. */
async function setDevLevel(level: string, says: string): Promise<void> {
  await enter("/switch dev");
  await enter(`/notify ${level}`);
  await alice.waitFor(`the level ${level}`, (t) => t.includes(`Notifications in #dev: ${says}`));
  await enter("/switch lobby");
}

/** Bob says `text` in #dev and alice's room bar shows #dev with `tab`: what she wrote meanwhile. */
async function bobSaysInDev(text: string, tab: string): Promise<string> {
  const from = raw("alice").length;
  await session.send(text, { room: "dev" });
  // The bell and title are written as the message arrives, before ink draws it.
  return waitRaw("alice", from, `the tab ${tab}`, (o) => o.includes(tab));
}

test("a plain message in a room at the default level (mentions) rings nothing", async () => {
  await enter("/join #dev");
  await alice.waitFor("alice in #dev", (t) => t.includes("#dev"));
  await enter("/notify");
  await alice.waitFor("the level", (t) =>
    t.includes("Notifications in #dev: mentions of you ring the bell (mentions); /notify"),
  );
  await enter("/switch lobby");
  const output = await bobSaysInDev("just chatting", "#dev(1)");
  assert.equal(bells(output), 0, JSON.stringify(output));
  assert.deepEqual(titles(output), []);
});

test("/notify off: a mention rings nothing", async () => {
  await setDevLevel("off", "off (off).");
  const output = await bobSaysInDev("@alice are you there?", "#dev(1!)");
  assert.equal(bells(output), 0, JSON.stringify(output));
  assert.deepEqual(titles(output), []);
});

test("a mention rings the bell and titles the terminal with the count; a DM counts too", async () => {
  await setDevLevel("mentions", "mentions of you ring the bell (mentions).");
  const output = await bobSaysInDev("@alice look at this", "#dev(1!)");
  assert.equal(bells(output), 1, JSON.stringify(output));
  assert.deepEqual(titles(output), ["(1) grpc-chat: @bob in #dev"]);
  assert.equal(await alice.pane("#{pane_title}"), "(1) grpc-chat: @bob in #dev");

  const from = raw("alice").length;
  const { room } = await bob.openDirect("alice");
  await session.join(room);
  await session.send("a word in private", { room });
  // Within the bell's quiet second it rings at the end of it: once, not never.
  const dm = await waitRaw("alice", from, "the DM's title and bell", (o) => bells(o) === 1);
  assert.deepEqual(titles(dm), ["(2) grpc-chat: @bob"]);
});

test("the title goes back once what called is read", async () => {
  const from = raw("alice").length;
  await enter("/switch @bob");
  await waitRaw("alice", from, "a title of one", (o) => titles(o).includes("(1) grpc-chat"));
  await enter("/switch dev");
  const output = await waitRaw("alice", from, "the plain title", (o) =>
    titles(o).includes("grpc-chat"),
  );
  assert.deepEqual(titles(output), ["(1) grpc-chat", "grpc-chat"]);
  assert.equal(await alice.pane("#{pane_title}"), "grpc-chat");
  assert.equal(bells(output), 0);
});

test("/notify all: a plain message rings; /notify alone says the level the server keeps", async () => {
  await setDevLevel("all", "every message rings the bell (all).");
  const from = raw("alice").length;
  await session.send("anyone around?", { room: "dev" });
  const output = await waitRaw("alice", from, "a bell", (o) => bells(o) === 1);
  assert.ok(titles(output).includes("(1) grpc-chat: @bob in #dev"), JSON.stringify(output));
  await enter("/switch dev");
  await enter("/notify");
  await alice.waitFor("the level asked", (t) =>
    t.includes("Notifications in #dev: every message rings the bell (all); /notify"),
  );
});

test("line mode rings the bell on a terminal, and piped it writes no bell", async () => {
  await tmux(
    ...["new-window", "-d", "-t", "chat:1", "--", process.execPath, CLI, "client", "--line"],
    ...["--server", server.address, "--name", "carol"],
  );
  await tmux("pipe-pane", "-t", "chat:1", `cat > ${join(dir.path, "carol.raw")}`);
  const dave = spawnCli(["client", "--server", server.address, "--name", "dave"]);
  try {
    await dave.waitForLine(/^(No messages yet\.|Last \d+ messages:)$/);
    // Carol's greeting may have come before the pipe: her screen says she is in.
    await waitScreen("chat:1", "carol to be in", (s) =>
      /Last \d+ messages:|No messages yet/.test(s),
    );
    const from = raw("carol").length;
    await session.send("@carol @dave hello both", { room: "lobby" });
    const output = await waitRaw("carol", from, "carol's line", (o) => o.includes("hello both"));
    assert.equal(bells(output), 1, JSON.stringify(output));
    assert.deepEqual(titles(output), [], "line mode has no unread count to title");
    const line = await dave.waitForLine(/hello both/);
    assert.ok(!line.includes(BEL), JSON.stringify(line));
    dave.child.stdin.end();
    assert.equal(await dave.exited, 0);
    assert.ok(!dave.lines.join("\n").includes(BEL));
  } finally {
    dave.child.kill();
  }
});

async function waitScreen(
  target: string,
  what: string,
  ok: (screen: string) => boolean,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const screen = await tmux("capture-pane", "-p", "-t", target);
    if (ok(screen)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${screen}`);
    await sleep(50);
  }
}
