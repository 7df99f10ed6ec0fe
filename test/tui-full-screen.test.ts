// The full-screen client in a real pseudo-terminal (tui-helpers.ts: tmux runs
// it, the test types with send-keys and reads the screen with capture-pane).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ChatClient, ChatSession, SessionEvent } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import {
  isPresence,
  isText,
  nextMatching,
  startTestServer,
  tempDir,
  testClient,
} from "./helpers.ts";
import { inputLine, startTerminal, type Terminal } from "./tui-helpers.ts";

const dir = tempDir();
const db = join(dir.path, "chat.db");
let server: RunningChatServer;
let alice: Terminal;
let bob: ChatClient;
let session: ChatSession;
let events: AsyncIterator<SessionEvent>;

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
  // The client saves login tokens under the config directory: this test's own.
  alice = await startTerminal(server, "alice", { XDG_CONFIG_HOME: join(dir.path, "config") });

  await connectBob();
});

after(async () => {
  await alice?.close();
  session?.close();
  bob?.close();
  await server?.stop(1_000);
  dir.remove();
});

test("the status line shows the server, the name and the connection state", async () => {
  assert.equal(await alice.pane("#{alternate_on}"), "1", "the client uses the alternate screen");
  const text = await alice.screen();
  const status = text.split("\n").find((line) => line.includes("alice @"));
  assert.ok(status, `no status line on the screen:\n${text}`);
  assert.match(status, /\blive\b/);
  assert.ok(status.includes(`alice @ ${server.address}`), status);
});

test("a message arriving leaves the half-typed input exactly as typed", async () => {
  await alice.type("half typed");
  await alice.waitFor("the typed text", (text) => inputLine(text) === "> half typed");

  await session.send("hello from bob");
  const text = await alice.waitFor("bob's message", (t) => t.includes("bob: hello from bob"));
  assert.match(text, /^\d\d:\d\d:\d\d bob: hello from bob$/m);
  assert.equal(inputLine(text), "> half typed");
});

test("a server restart shows the reconnecting state and keeps the half-typed input", async () => {
  const port = server.port;
  bob.close();
  await server.stop(1_000);
  const down = await alice.waitFor("the reconnecting state", (t) =>
    /reconnecting in [\d.]+ s/.test(t),
  );
  assert.equal(inputLine(down), "> half typed");
  server = await startTestServer({ db, port });
  const back = await alice.waitFor("live again", (t) => /\blive\b/.test(t));
  assert.equal(inputLine(back), "> half typed");
  await connectBob();
  await session.send("after the restart");
  await alice.waitFor("a message after the restart", (t) => t.includes("bob: after the restart"));
});

test("Enter sends the input line as a message and clears it", async () => {
  await alice.press("Enter");
  const event = await nextMatching(
    events,
    (e) => e.type === "message" && e.message.username === "alice",
    "alice's message to reach bob",
  );
  assert.equal(event.type === "message" && event.message.text, "half typed");
  const text = await alice.waitFor("alice's own message", (t) => t.includes("alice: half typed"));
  assert.equal(inputLine(text), ">");
});

test("escape sequences from others are shown inert", async () => {
  await session.send("\u001b[2J\u001b]0;pwned\u0007evil");
  const text = await alice.waitFor("the message with escapes", (t) => t.includes("evil"));
  assert.match(text, /bob: ␛\[2J␛\]0;pwned␇evil$/m);
  // Not cleared: the earlier lines are still there.
  assert.match(text, /bob: hello from bob$/m);
  assert.match(text, /alice: half typed$/m);
  assert.notEqual(await alice.pane("#{pane_title}"), "pwned");
});

test("Page Up at the top of the scrollback loads older messages from the server", async () => {
  const before = await alice.screen();
  assert.ok(!before.includes("archivist: old 10\n"), "old messages are not shown at start");
  let text = before;
  for (let press = 0; press < 60 && !text.includes("The beginning of the history."); press++) {
    await alice.press("PPage");
    text = await alice.screen();
  }
  assert.match(text, /The beginning of the history\./);
  assert.match(text, /archivist: old 1$/m);
  // Back to the newest, where new messages show.
  for (let press = 0; press < 60 && text.includes("newer below"); press++) {
    await alice.press("NPage");
    text = await alice.screen();
  }
  await session.send("back at the bottom");
  await alice.waitFor("a new message at the bottom", (t) => t.includes("bob: back at the bottom"));
});

test("/register asks for the password on a masked input line, then chats as the account", async () => {
  await alice.type("/register");
  await alice.press("Enter");
  await alice.waitFor("the password prompt", (t) => /Password for alice:/.test(t));
  await alice.type("sekrit-pass");
  const masked = await alice.waitFor("the masked password", (t) =>
    t.includes("Password for alice: •••••••••••"),
  );
  assert.ok(!masked.includes("sekrit"), `the password is on the screen:\n${masked}`);
  await alice.press("Enter");
  const done = await alice.waitFor("the login", (t) =>
    t.includes("Registered and logged in as alice."),
  );
  assert.ok(!done.includes("sekrit"));
  await alice.waitFor("live as the account", (t) => /\blive\b/.test(t) && inputLine(t) === ">");
  await alice.type("as an account");
  await alice.press("Enter");
  const event = await nextMatching(
    events,
    isText("as an account"),
    "alice's message as an account",
  );
  assert.match(event.type === "message" ? event.message.userId : "", /^a-/);
});

test("rooms: /join opens one, Alt+1 switches back, unread and mention counts move, Ctrl+N shows it", async () => {
  await alice.type("/join #side");
  await alice.press("Enter");
  await alice.waitFor(
    "the new room shown",
    (t) => / 2:#side$/m.test(t) && t.includes("No messages yet."),
  );
  await alice.press("M-1");
  await alice.waitFor(
    "the lobby again",
    (t) => t.includes("bob: back at the bottom") && !t.includes("No messages yet."),
  );
  await session.join("side");
  await session.send("side news", { room: "side" });
  const unread = await alice.waitFor("an unread count", (t) => / 2:#side\(1\)$/m.test(t));
  assert.ok(!unread.includes("side news"), "a message of another room is shown in the lobby");
  await session.send("hey alice, look", { room: "side" });
  await alice.waitFor("a mention", (t) => / 2:#side\(2!\)$/m.test(t));
  await alice.press("C-n");
  const side = await alice.waitFor("the side room", (t) => t.includes("bob: side news"));
  assert.match(side, / 2:#side$/m, "the counts clear once the room is shown");
  assert.match(side, /bob: hey alice, look$/m);
});

test("Ctrl+C quits cleanly and gives the terminal back", async () => {
  await alice.press("C-c");
  await nextMatching(events, isPresence("alice", false), "the server to announce that alice left");
  // The exit status is not checked: tmux 3.3a does not always reap the pane's
  // process, so #{pane_dead_status} can stay empty.
  await alice.exited(5_000);
  assert.equal(await alice.pane("#{alternate_on}"), "0", "the client left the alternate screen");
});
