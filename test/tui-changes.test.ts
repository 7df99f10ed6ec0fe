// The full-screen client and messages people can change: Markdown, /ids,
// /reply, /edit and Up, /react, /delete, typing, the unread divider. A
// project client (bob) is the other side.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ChatClient, ChatSession, SessionEvent } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { nextMatching, startTestServer, tempDir, testClient } from "./helpers.ts";
import { inputLine, startTerminal, type Terminal } from "./tui-helpers.ts";

const dir = tempDir();
let server: RunningChatServer;
let alice: Terminal;
let bob: ChatClient;
let session: ChatSession;
let events: AsyncIterator<SessionEvent>;

before(async () => {
  server = await startTestServer({ db: join(dir.path, "chat.db"), presenceTickMs: 20 });
  alice = await startTerminal(server, "alice", { XDG_CONFIG_HOME: join(dir.path, "config") });
  bob = testClient(server, { username: "bob" });
  await bob.join();
  session = bob.openSession();
  events = session[Symbol.asyncIterator]();
  await session.join("lobby");
  await nextMatching(events, (e) => e.type === "caught_up", "bob's session to catch up");
});

after(async () => {
  await alice?.close();
  session?.close();
  bob?.close();
  await server?.stop(1_000);
  dir.remove();
});

/** The next message event bob's session gets that matches. */
const bobSees = (
  what: string,
  match: (m: Extract<SessionEvent, { type: "message" }>["message"]) => boolean,
) =>
  nextMatching(events, (e) => e.type === "message" && match(e.message), what).then((e) =>
    e.type === "message" ? e.message : assert.fail(),
  );

/** Types a line and presses Enter. */
async function enter(line: string): Promise<void> {
  await alice.type(line);
  await alice.press("Enter");
}

/** The screen line that contains `text`. */
const lineWith = (screen: string, text: string) =>
  screen.split("\n").find((line) => line.includes(text)) ?? "";

let bobsId = 0;

test("Markdown shows with styles: bold, code dimmed, links underlined with their address", async () => {
  const sent = await session.send("**loud** and `x = 1` and [the docs](https://example.com/docs)");
  bobsId = sent.id;
  const plain = await alice.waitFor("bob's message", (t) => t.includes("bob: loud and x = 1"));
  assert.match(
    lineWith(plain, "bob: loud"),
    /bob: loud and x = 1 and the docs \(https:\/\/example\.com\/docs\)$/,
  );
  // ESC made visible, to match the style escapes tmux gives back.
  const styled = lineWith(await alice.screen(true), "loud").replaceAll("\u001b", "␛");
  assert.match(styled, /␛\[1m[^␛]*loud/, `bold: ${JSON.stringify(styled)}`);
  assert.match(styled, /␛\[2m[^␛]*x = 1/, `code dimmed: ${JSON.stringify(styled)}`);
  assert.match(styled, /␛\[4m[^␛]*the docs/, `link underlined: ${JSON.stringify(styled)}`);
});

test("/ids shows message numbers, and /reply N answers one, quoting it", async () => {
  await enter("/ids");
  await alice.waitFor("numbers", (t) => t.includes(`#${bobsId} bob: loud`));
  await enter(`/reply ${bobsId} thanks for the docs`);
  const reply = await bobSees("alice's reply", (m) => m.text === "thanks for the docs");
  assert.equal(reply.replyTo, bobsId);
  const screen = await alice.waitFor("the reply with its quote", (t) =>
    t.includes("alice: thanks for the docs"),
  );
  const rows = screen.split("\n");
  const at = rows.findIndex((row) => row.includes("alice: thanks for the docs"));
  assert.match(rows[at - 1] ?? "", /↪ bob: loud and x = 1 and the docs/);
});

test("Up on an empty line recalls your last message as an /edit; Enter saves it", async () => {
  await enter("teh typo");
  const typo = await bobSees("alice's typo", (m) => m.text === "teh typo");
  await alice.waitFor("the stored typo", (t) => t.includes(`#${typo.id} alice: teh typo`));
  await alice.press("Up");
  await alice.waitFor("the recalled edit", (t) => inputLine(t) === `> /edit ${typo.id} teh typo`);
  await alice.press(...Array.from({ length: "teh typo".length }, () => "BSpace"));
  await enter("the fix");
  const edit = await bobSees("the edit", (m) => m.change?.kind === "edit");
  assert.deepEqual([edit.change?.targetId, edit.text], [typo.id, "the fix"]);
  await alice.waitFor("the edited line", (t) => t.includes(`#${typo.id} alice: the fix (edited)`));

  await enter("/edit last the final fix");
  const again = await bobSees("the second edit", (m) => m.change?.kind === "edit");
  assert.equal(again.text, "the final fix");
  await alice.waitFor("edited again", (t) => t.includes("alice: the final fix (edited)"));
});

test("/react adds a reaction, shown with its count and marked as yours; again takes it back", async () => {
  await enter(`/react ${bobsId} 👍`);
  const added = await bobSees("the reaction", (m) => m.change?.kind === "reaction");
  assert.deepEqual(added.change, {
    kind: "reaction",
    targetId: bobsId,
    emoji: "👍",
    added: true,
    count: 1,
  });
  await alice.waitFor("the reaction shown", (t) => lineWith(t, "bob: loud").includes("[👍 1*]"));
  await enter(`/react ${bobsId} 👍`);
  const removed = await bobSees("the reaction taken back", (m) => m.change?.kind === "reaction");
  assert.equal(removed.change?.kind === "reaction" && removed.change.added, false);
  await alice.waitFor("no reaction", (t) => !lineWith(t, "bob: loud").includes("👍"));
});

test("/delete last leaves a tombstone where the message was", async () => {
  await enter("/delete last");
  const deleted = await bobSees("the delete", (m) => m.change?.kind === "delete");
  await alice.waitFor("the tombstone", (t) =>
    t.includes(`#${deleted.change?.targetId} alice: message deleted`),
  );
  await enter("/edit 999999 nothing there");
  await alice.waitFor("a clear refusal", (t) => /error: Not edited: .+/.test(t));
});

test("typing: the status line says who is typing, and alice's typing reaches bob", async () => {
  await bob.setTyping("lobby");
  await alice.waitFor("bob typing", (t) => t.includes("bob is typing…"));
  await bob.setTyping("lobby", true);
  await alice.waitFor("bob stopped", (t) => !t.includes("is typing…"));

  await alice.type("hello th");
  const typing = await nextMatching(
    events,
    (e) => e.type === "typing" && e.typing.some((m) => m.username === "alice"),
    "alice typing at bob",
  );
  assert.equal(typing.type === "typing" && typing.room, "lobby");
  await alice.press("C-u");
  await nextMatching(
    events,
    (e) => e.type === "typing" && e.typing.length === 0,
    "alice stopped typing at bob",
  );
});

test("switching to a room with unread messages shows the new divider above the first", async () => {
  await enter("/join #side");
  await alice.waitFor(
    "the side room",
    (t) => / 2:#side$/m.test(t) && t.includes("No messages yet."),
  );
  await alice.press("M-1");
  await alice.waitFor("the lobby again", (t) => t.includes("bob: loud"));
  await session.join("side");
  await session.send("first unread", { room: "side" });
  await session.send("second unread", { room: "side" });
  await alice.waitFor("two unread", (t) => / 2:#side\(2\)$/m.test(t));
  await alice.press("C-n");
  const side = await alice.waitFor("the side room with its divider", (t) =>
    t.includes("── new ──"),
  );
  const rows = side.split("\n");
  const divider = rows.findIndex((row) => row.includes("── new ──"));
  assert.match(rows[divider + 1] ?? "", /bob: first unread$/);
  await alice.press("M-1");
  await session.send("third, read later", { room: "side" });
  await alice.waitFor("one unread", (t) => / 2:#side\(1\)$/m.test(t));
  // The server counts the same once the client has marked the two read (it
  // waits a moment to mark several at once): /rooms asks it, until it says so.
  const sideListed = (t: string) =>
    t
      .split("\n")
      .filter((row) => row.startsWith("-- #side "))
      .at(-1) ?? "";
  for (let asked = 1; ; asked++) {
    await enter("/rooms");
    try {
      await alice.waitFor("the server's count", (t) => sideListed(t).endsWith(", 1 unread"), 1_000);
      break;
    } catch (error) {
      if (asked >= 5) throw error;
    }
  }
});
