// Searching from the terminal client: numbered hits with their room, time
// and sender and the matches marked, /more for the next page, /goto to open
// a hit's room around it, and the server's sentences when it refuses. Line
// mode is read line by line; the full screen through tmux.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ChatClient } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { markedSnippet } from "../src/tui/search-results.ts";
import {
  type CliProcess,
  isText,
  liveUser,
  nextMatching,
  spawnCli,
  startTestServer,
  tempDir,
  testClient,
  within,
} from "./helpers.ts";
import { startTerminal } from "./tui-helpers.ts";

const TIME = String.raw`\[\d{2}:\d{2}:\d{2}\]`;
// Searches refill at one a minute: each user here has the burst of 20 and
// no more, so the rate test meets the limit after a known number.
const SEARCH_BURST = 20;

const dir = tempDir();
let server: RunningChatServer;
before(async () => {
  server = await startTestServer({ limits: { searchesPerMinute: 1 } });
});
after(async () => {
  await server.stop();
  dir.remove();
});

async function joinedClient(username: string): Promise<ChatClient> {
  const client = testClient(server, { username });
  await client.join();
  return client;
}

/**
 * The line client as `name`, its welcome read; `type` writes a line to it,
 * `typeAndWait` also waits until the client has done with it: lines are
 * handled in order, so once a later unknown command is answered, all the
 * output of this one has been printed.
 */
async function lineClient(name: string) {
  const cli = spawnCli(["client", "--server", server.address, "--name", name], {
    XDG_CONFIG_HOME: join(dir.path, name),
  });
  await cli.waitForLine(`Server: Welcome to the chat, ${name}!`);
  const type = (line: string) => void cli.child.stdin.write(`${line}\n`);
  let barriers = 0;
  const typeAndWait = async (line: string) => {
    type(line);
    const barrier = `/done-${++barriers}`;
    type(barrier);
    await cli.waitForLine(`Unknown command ${barrier}. Type /help for the list.`);
  };
  return { cli, type, typeAndWait };
}

async function quit(cli: CliProcess): Promise<void> {
  cli.child.stdin.end();
  assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
}

/** The lines printed after the first one that is exactly `header`. */
function linesAfter(cli: CliProcess, header: string): string[] {
  const at = cli.lines.indexOf(header);
  assert.ok(at >= 0, `"${header}" was not printed:\n${cli.lines.join("\n")}`);
  return cli.lines.slice(at + 1);
}

test("line mode: /search numbers hits newest first with room, time and sender; /goto opens the room at the hit", async () => {
  const carol = await joinedClient("carol");
  const bob = await joinedClient("bob");
  const { cli, type, typeAndWait } = await lineClient("lena");
  const watcher = await liveUser(server, "watcher", { room: "ops" });
  try {
    for (let i = 1; i <= 6; i++) await carol.send(`before ${i}`, { room: "ops" });
    await carol.send("deploy started", { room: "ops" });
    await carol.send("coffee first", { room: "ops" });
    await carol.send("the deploy failed at step 3", { room: "ops" });
    await carol.send("rolling back", { room: "ops" });
    // Few after it: the hit is among the newest messages a room shows when it opens.
    for (let i = 1; i <= 2; i++) await carol.send(`after ${i}`, { room: "ops" });
    // The rocket is one code point and two UTF-16 units: the mark must not slip.
    await bob.send("🚀 deploy notes: see foo.png", { room: "dev" });
    const { room: direct } = await bob.openDirect("lena");
    await bob.send("the deploy key, between us", { room: direct });
    await cli.waitForLine(/bob: the deploy key, between us$/);

    await typeAndWait("/search deploy");
    const hits = linesAfter(cli, "Messages matching deploy, newest first:");
    const expected = [
      "1. <T> @bob bob: the *deploy* key, between us",
      "2. <T> #dev bob: 🚀 *deploy* notes: see foo.png",
      "3. <T> #ops carol: the *deploy* failed at step 3",
      "4. <T> #ops carol: *deploy* started",
    ];
    for (const [i, line] of expected.entries()) {
      assert.match(hits[i] ?? "", new RegExp(`^${literal(line).replace("<T>", TIME)}$`));
    }
    assert.equal(hits[expected.length], "/goto N opens hit N in its room.");

    await typeAndWait("/goto 3");
    const page = linesAfter(cli, "Search hit 3 in #ops, and the messages around it:");
    const mark = page.indexOf("── search hit 3 ──");
    assert.ok(mark > 0, page.join("\n"));
    assert.match(page[mark - 1] ?? "", new RegExp(`^${TIME} #ops carol: coffee first$`));
    assert.match(
      page[mark + 1] ?? "",
      new RegExp(`^${TIME} #ops carol: the deploy failed at step 3$`),
    );
    assert.match(page[mark + 2] ?? "", new RegExp(`^${TIME} #ops carol: rolling back$`));
    // #ops was not open: it opens on the page around the hit alone, each line once.
    const shown = linesAfter(cli, "/goto N opens hit N in its room.").filter((line) =>
      line.endsWith("carol: the deploy failed at step 3"),
    );
    assert.equal(shown.length, 1, shown.join("\n"));

    // #ops is the room shown now: what lena types goes there.
    type("found it");
    const got = await nextMatching(watcher.events, isText("found it"), "lena's line in #ops");
    assert.equal(got.type === "message" && got.message.username, "lena");

    await typeAndWait("/goto 1");
    const dm = linesAfter(cli, "Search hit 1 in @bob, and the messages around it:");
    const dmMark = dm.indexOf("── search hit 1 ──");
    assert.ok(dmMark >= 0, dm.join("\n"));
    assert.match(
      dm[dmMark + 1] ?? "",
      new RegExp(`^${TIME} @bob bob: the deploy key, between us$`),
    );

    type("/goto 5");
    await cli.waitForLine("error: There is no hit 5: the last search shows hits 1-4.");
    await quit(cli);
  } finally {
    cli.child.kill();
    watcher.session.close();
    for (const client of [carol, bob, watcher.client]) client.close();
  }
});

test("line mode: /more goes on numbering the next page, and /goto opens a hit from it", async () => {
  const gus = await joinedClient("gus");
  const { cli, typeAndWait } = await lineClient("mona");
  try {
    for (let i = 1; i <= 12; i++) await gus.send(`kiwi crate ${i}`, { room: "orchard" });

    await typeAndWait("/search kiwi");
    const first = linesAfter(cli, "Messages matching kiwi, newest first:");
    for (let n = 1; n <= 10; n++) {
      assert.match(
        first[n - 1] ?? "",
        new RegExp(`^${n}\\. ${TIME} #orchard gus: \\*kiwi\\* crate ${13 - n}$`),
      );
    }
    assert.equal(first[10], "/more shows more hits; /goto N opens hit N in its room.");

    await typeAndWait("/more");
    const second = linesAfter(cli, "More messages matching kiwi:");
    assert.match(second[0] ?? "", new RegExp(`^11\\. ${TIME} #orchard gus: \\*kiwi\\* crate 2$`));
    assert.match(second[1] ?? "", new RegExp(`^12\\. ${TIME} #orchard gus: \\*kiwi\\* crate 1$`));
    assert.equal(second[2], "/goto N opens hit N in its room.");

    await typeAndWait("/more");
    // The line before the answer to typeAndWait's own.
    assert.equal(cli.lines.at(-2), "There are no more hits.");

    await typeAndWait("/goto 12");
    const page = linesAfter(cli, "Search hit 12 in #orchard, and the messages around it:");
    const mark = page.indexOf("── search hit 12 ──");
    // The room's very first message: nothing older to show above it.
    assert.equal(mark, 0, page.join("\n"));
    assert.match(page[1] ?? "", new RegExp(`^${TIME} #orchard gus: kiwi crate 1$`));
    assert.match(page[2] ?? "", new RegExp(`^${TIME} #orchard gus: kiwi crate 2$`));
    await quit(cli);
  } finally {
    cli.child.kill();
    gus.close();
  }
});

test("line mode: the server's sentence for a query it refuses and for searching too fast; no hits says so", async () => {
  const { cli, type } = await lineClient("nils");
  try {
    type('/search "never closed');
    await cli.waitForLine(
      'error: The search has a " that is not closed: end the phrase with another ".',
    );
    type("/search in:");
    await cli.waitForLine("error: in: needs a room, as in in:#dev.");
    type("/search zzyzx");
    await cli.waitForLine("No messages match zzyzx.");
    type("/goto 1");
    await cli.waitForLine("error: There is no hit 1: the last search found nothing.");
    // Three searches so far (refused ones count too); the burst allows 20.
    for (let i = 3; i < SEARCH_BURST; i++) type(`/search zzyzx${i}`);
    await cli.waitForLine(`No messages match zzyzx${SEARCH_BURST - 1}.`);
    type("/search one too many");
    await cli.waitForLine(
      /^error: You are searching faster than 1 searches a minute; try again in \d+ s\.?/,
    );
    await quit(cli);
  } finally {
    cli.child.kill();
  }
});

test("full screen: hits are listed with their marks, and /goto shows the hit's room with the hit marked", async () => {
  const ida = await joinedClient("ida");
  await ida.send("plum jam recipe", { room: "kitchen" });
  await ida.send("we are out of jars", { room: "kitchen" });
  const terminal = await startTerminal(server, "olga", {
    XDG_CONFIG_HOME: join(dir.path, "olga"),
  });
  try {
    await terminal.type("/search plum");
    await terminal.press("Enter");
    await terminal.waitFor("the hit", (s) =>
      new RegExp(`1\\. ${TIME} #kitchen ida: \\*plum\\* jam recipe`).test(s),
    );
    await terminal.type("/goto 1");
    await terminal.press("Enter");
    const screen = await terminal.waitFor("the hit's room", (s) =>
      s.includes("── search hit 1 ──"),
    );
    const rows = screen.split("\n");
    const mark = rows.findIndex((row) => row.includes("── search hit 1 ──"));
    assert.match(rows[mark + 1] ?? "", /ida: plum jam recipe/);
    assert.match(rows.find((row) => /\b1:#/.test(row)) ?? "", /2:#kitchen/);
  } finally {
    await terminal.close();
    ida.close();
  }
});

test("a long hit is cut to a window around its first match, on one line, its marks where the code points say", () => {
  const text = `${"a".repeat(200)}\n🚀 needle ${"b".repeat(200)}`;
  // The newline becomes a space and the rocket counts one: "needle" starts at 203, and
  // the window of 160 starts 40 before it.
  const snippet = markedSnippet(text, [{ start: 203, end: 209 }]);
  assert.equal(snippet, `…${"a".repeat(37)} 🚀 *needle* ${"b".repeat(113)}…`);
  assert.equal(markedSnippet("short needle", [{ start: 6, end: 12 }]), "short *needle*");
});

/** `text` as a pattern that matches it literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
