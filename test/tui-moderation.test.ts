// Running a room from the terminal client: alice (full screen) owns #team,
// bob (full screen) is the one she acts on, carol (line mode) reports and is
// muted, dave (full screen) joins with an invite code. Every notice is read
// off the screen (or carol's output) of the user it is for.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { type CliProcess, spawnCli, startTestServer, tempDir } from "./helpers.ts";
import { startTerminal, type Terminal } from "./tui-helpers.ts";

const dir = tempDir();
let server: RunningChatServer;
let alice: Terminal;
let bob: Terminal;
let dave: Terminal;
let carol: CliProcess;

const UNTIL = String.raw`until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC`;

before(async () => {
  server = await startTestServer({ db: join(dir.path, "chat.db"), presenceTickMs: 20 });
  const env = (name: string) => ({ XDG_CONFIG_HOME: join(dir.path, name) });
  // Each one that starts is kept, so after() closes it even when another failed to.
  const started = await Promise.allSettled(
    ["alice", "bob", "dave"].map((name) => startTerminal(server, name, env(name))),
  );
  [alice, bob, dave] = started.map((r) => (r.status === "fulfilled" ? r.value : undefined)) as [
    Terminal,
    Terminal,
    Terminal,
  ];
  for (const r of started) if (r.status === "rejected") throw r.reason;
  carol = spawnCli(["client", "--server", server.address, "--name", "carol"], env("carol"));
  await carol.waitForLine("Server: Welcome to the chat, carol!");
});

after(async () => {
  await Promise.all([alice, bob, dave].map((t) => t?.close()));
  carol?.child.stdin.end();
  if (carol) await carol.exited;
  await server?.stop(1_000);
  dir.remove();
});

/** Types a line and presses Enter. */
async function enter(terminal: Terminal, line: string): Promise<void> {
  await terminal.type(line);
  await terminal.press("Enter");
}

/** Carol types a line. */
const carolTypes = (line: string) => void carol.child.stdin.write(`${line}\n`);

/** The room bar: the screen's row that lists the open rooms ("1:#lobby 2:#team"). */
const roomBar = (screen: string) => screen.split("\n").find((row) => /\b1:[#@]/.test(row)) ?? "";

/** Waits until `room` is the room shown: its tab is there and the input line is for it. */
async function inRoom(terminal: Terminal, room: string): Promise<void> {
  await terminal.waitFor(`${room} open`, (t) => roomBar(t).includes(`:#${room}`));
}

const joinsUp = (screen: string) => screen.replaceAll("\n", " ").replace(/\s+/g, " ");

test("the first to join #team owns it: /op and /deop make bob a moderator and take it back", async () => {
  await enter(alice, "/join #team");
  await inRoom(alice, "team");
  await enter(bob, "/join #team");
  await inRoom(bob, "team");

  await enter(alice, "/op bob");
  await alice.waitFor("alice told", (t) => t.includes("bob is now a moderator of #team."));
  // "now" when bob's client had learnt the room's staff on joining before the change came.
  await bob.waitFor("bob told", (t) => /You are (now )?a moderator of #team\./.test(t));
  await enter(alice, "/deop bob");
  await alice.waitFor("alice told", (t) => t.includes("bob is no longer a moderator of #team."));
  await bob.waitFor("bob told", (t) => t.includes("You are no longer a moderator of #team."));

  await enter(bob, "/kick alice");
  await bob.waitFor("the server's refusal", (t) =>
    /error: Only a moderator of team can do this\./.test(t),
  );
});

test("/report N reaches alice as a notice; /reports lists it with the messages before it", async () => {
  carolTypes("/ids");
  carolTypes("/join #team");
  await alice.waitFor("carol in #team", (t) => t.includes("carol has joined the chat"));
  await enter(bob, "good morning");
  await enter(bob, "buy cheap pills");
  const line = await carol.waitForLine(/#(\d+) bob: buy cheap pills$/);
  const id = Number(/#(\d+) bob: buy cheap pills$/.exec(line)?.[1]);

  carolTypes(`/report ${id} spam`);
  await carol.waitForLine(`Message #${id} is reported to the moderators of #team (report #1).`);
  await alice.waitFor("the report notice", (t) =>
    joinsUp(t).includes(
      `Report #1 in #team: carol reported bob's message #${id} 'buy cheap pills': spam (/reports)`,
    ),
  );

  await enter(alice, "/reports");
  const screen = await alice.waitFor("the list", (t) => t.includes("1 open report in #team"));
  const rows = screen.split("\n");
  const head = rows.findIndex(
    (row) => row.startsWith("-- #1 [") && row.includes(`carol reported bob's message #${id}`),
  );
  assert.ok(head > 0, screen);
  assert.match(rows[head + 1] ?? "", /\] bob: good morning/);
  assert.match(rows[head + 2] ?? "", /> \[.*\] bob: buy cheap pills/);

  await enter(alice, "/resolve 1 warned him");
  await alice.waitFor("resolved", (t) => t.includes("Report #1 in #team is resolved."));
  await enter(alice, "/reports");
  await alice.waitFor("none open", (t) => t.includes("No open reports in #team."));
});

test("/kick: bob is told why and is out of #team, and may come back to a public room", async () => {
  await enter(alice, "/kick bob calm down");
  await alice.waitFor("alice told", (t) => t.includes("bob was kicked from #team: calm down."));
  const screen = await bob.waitFor("bob's notice", (t) =>
    t.includes("You were kicked from #team by alice: calm down"),
  );
  await bob.waitFor("the tab gone", (t) => !roomBar(t).includes("#team"));
  // The notice says it all: no second line for the room's end.
  assert.doesNotMatch(screen, /Not in #team/);

  await enter(bob, "/join #team");
  await inRoom(bob, "team");
  await enter(bob, "back again");
  await alice.waitFor("bob's message", (t) => t.includes("bob: back again"));
});

test("/mute: bob's message is refused with the server's sentence until /unmute", async () => {
  await enter(alice, "/mute bob 10m");
  await alice.waitFor("alice told", (t) => new RegExp(`bob is muted in #team ${UNTIL}\\.`).test(t));
  await bob.waitFor("bob's notice", (t) =>
    new RegExp(`You are muted in #team ${UNTIL}\\.`).test(t),
  );
  await enter(bob, "can I talk?");
  await bob.waitFor("the refusal", (t) =>
    joinsUp(t).includes("error: Not sent: You are muted in team until"),
  );

  await enter(alice, "/unmute bob");
  await bob.waitFor("bob's notice", (t) => t.includes("You can post in #team again."));
  await enter(bob, "thanks");
  await alice.waitFor("bob's message", (t) => t.includes("bob: thanks"));
});

test("/ban for 2h: bob sees until when, his rejoin is refused with the reason; /bans lists it", async () => {
  await enter(alice, "/ban bob 2h spamming");
  const screen = await bob.waitFor("bob's notice", (t) =>
    new RegExp(`You are banned from #team ${UNTIL}: spamming`).test(t),
  );
  const until = new RegExp(UNTIL).exec(screen.slice(screen.indexOf("You are banned")))?.[1];
  const untilMs = Date.parse(`${until?.replace(" ", "T")}:00Z`);
  assert.ok(Math.abs(untilMs - (Date.now() + 2 * 3_600_000)) < 120_000, `until ${until}`);
  await bob.waitFor("the tab gone", (t) => !roomBar(t).includes("#team"));

  await enter(bob, "/join #team");
  await bob.waitFor("the refusal", (t) =>
    joinsUp(t).includes(`error: You are banned from team until ${until} UTC. Reason: spamming`),
  );
  assert.doesNotMatch(roomBar(await bob.screen()), /#team/);

  await enter(alice, "/bans");
  await alice.waitFor("the list", (t) =>
    t.includes(`bob banned until ${until} UTC by alice: spamming`),
  );
});

test("/mute in line mode: carol is told until when, and her message is refused", async () => {
  await enter(alice, "/mute carol 30m no ads");
  await alice.waitFor("alice told", (t) => t.includes("carol is muted in #team until"));
  await carol.waitForLine(new RegExp(`^You are muted in #team ${UNTIL}: no ads$`));
  carolTypes("more ads");
  await carol.waitForLine(/^error: Not sent: You are muted in team until/);
});

test("/private on keeps bob out until /invite; the room's change is told in both views", async () => {
  await enter(alice, "/unban bob");
  await bob.waitFor("bob's notice", (t) => t.includes("Your ban from #team was lifted."));
  await enter(alice, "/private on");
  await alice.waitFor("alice told", (t) =>
    t.includes("#team is now invite-only: only invited people can join."),
  );
  await carol.waitForLine(/^#team is now invite-only: only invited people can join\.$/);
  await enter(alice, "/private on");
  await alice.waitFor("nothing to change", (t) => t.includes("#team is invite-only already."));

  await enter(bob, "/join #team");
  await bob.waitFor("the refusal", (t) =>
    joinsUp(t).includes('error: There is no room "team" that you can use.'),
  );
  assert.doesNotMatch(roomBar(await bob.screen()), /#team/);
  await enter(alice, "/invite bob");
  await alice.waitFor("alice told", (t) =>
    t.includes("bob is invited to #team: they can /join #team now."),
  );
  await enter(bob, "/join #team");
  await inRoom(bob, "team");
});

test("/invite-code prints a code; dave, never in #team, joins with /join CODE", async () => {
  await enter(alice, "/invite-code 1h 1");
  const screen = await alice.waitFor("the code", (t) => /Invite code for #team: \S{22}/.test(t));
  const code = /Invite code for #team: (\S{22})/.exec(screen)?.[1] ?? "";
  assert.ok(screen.includes(`-- /join ${code}`), screen);

  await enter(dave, `/join ${code}`);
  await dave.waitFor("dave told", (t) => t.includes("The invite lets you into #team."));
  await inRoom(dave, "team");
  await enter(dave, "hi team");
  await alice.waitFor("dave's message", (t) => t.includes("dave: hi team"));

  // One use: the code is spent.
  await enter(bob, `/join ${code}`);
  await bob.waitFor("the refusal", (t) =>
    joinsUp(t).includes("That invite code is unknown, expired or used up"),
  );
});

test("/audit lists what was done in #team, newest first", async () => {
  await enter(alice, "/audit");
  const screen = await alice.waitFor("the log", (t) =>
    t.includes("What was done in #team, newest first:"),
  );
  const rows = screen.split("\n");
  const at = (text: string) => {
    const index = rows.findIndex((row) => /\[[\d:]+\] alice /.test(row) && row.includes(text));
    assert.ok(index >= 0, `${text} in:\n${screen}`);
    return index;
  };
  const order = [
    "made an invite code for team",
    "invited bob",
    "changed team (invite-only on",
    "unbanned bob",
    "muted carol: no ads (until",
    "banned bob: spamming (until",
    "unmuted bob",
    "muted bob (until",
    "kicked bob: calm down",
    "resolved",
    "set the role of bob (role member)",
    "set the role of bob (role moderator)",
  ].map(at);
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    `newest first:\n${screen}`,
  );
});
