// The terminal client's moderation commands as typed, the durations they
// take, and what its notices say: no server needed.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ReportEntry, RoomSettings } from "../src/client/chat-client.ts";
import { parseCommand } from "../src/tui/commands.ts";
import { looksLikeDuration, parseDuration, untilText } from "../src/tui/durations.ts";
import { KnownRooms, moderatedText, reportText } from "../src/tui/moderation-notices.ts";

const parse = (line: string) => parseCommand(line, 100);

test("durations: 30s, 10m, 2h, 7d and forever; anything else is not one", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("7d"), 604_800_000);
  assert.equal(parseDuration("forever"), 0);
  for (const word of [
    "0m",
    "0",
    "unlimited",
    "10",
    "2x",
    "1.5h",
    "-1h",
    "h",
    "spam",
    "99999999999999d",
  ]) {
    assert.equal(parseDuration(word), undefined, word);
  }
  // A slip is worth a usage line; a reason's first word is not.
  for (const word of ["10", "0m", "10min", "3days"]) assert.ok(looksLikeDuration(word), word);
  for (const word of ["2nd", "spam", "forever", "10m"]) assert.ok(!looksLikeDuration(word), word);
  assert.equal(untilText(0), "until it is lifted");
  assert.equal(untilText(Date.UTC(2026, 11, 6, 10, 0, 30)), "until 2026-12-06 10:00 UTC");
});

test("/kick, /ban and /mute take a name, a time where they may, and a reason", () => {
  assert.deepEqual(parse("/kick @bob  calm  down "), {
    kind: "kick",
    user: "bob",
    reason: "calm  down",
  });
  assert.deepEqual(parse("/kick bob"), { kind: "kick", user: "bob", reason: "" });
  assert.deepEqual(parse("/ban bob 2h spamming links"), {
    kind: "ban",
    user: "bob",
    durationMs: 7_200_000,
    reason: "spamming links",
  });
  assert.deepEqual(parse("/ban bob spamming"), {
    kind: "ban",
    user: "bob",
    durationMs: 0,
    reason: "spamming",
  });
  assert.deepEqual(parse("/ban bob 2nd warning"), {
    kind: "ban",
    user: "bob",
    durationMs: 0,
    reason: "2nd warning",
  });
  assert.deepEqual(parse("/mute bob 10m"), {
    kind: "mute",
    user: "bob",
    durationMs: 600_000,
    reason: "",
  });
  assert.deepEqual(parse("/mute bob forever"), {
    kind: "mute",
    user: "bob",
    durationMs: 0,
    reason: "",
  });
  for (const line of ["/ban", "/ban bob 10 spam", "/mute bob 5min", "/kick"]) {
    const command = parse(line);
    assert.equal(command.kind, "usage", line);
    assert.match(command.kind === "usage" ? command.text : "", /^Usage: \//, line);
  }
});

test("the other commands: a name, on|off, a number, or nothing", () => {
  for (const kind of ["invite", "unban", "unmute", "op", "deop"]) {
    assert.deepEqual(parse(`/${kind} carol`), { kind, user: "carol" });
    assert.equal(parse(`/${kind}`).kind, "usage");
    assert.equal(parse(`/${kind} carol dave`).kind, "usage");
  }
  assert.deepEqual(parse("/private on"), { kind: "private", on: true });
  assert.deepEqual(parse("/readonly off"), { kind: "readonly", on: false });
  assert.equal(parse("/private yes").kind, "usage");
  assert.deepEqual(parse("/report #12 off topic"), { kind: "report", id: 12, reason: "off topic" });
  assert.equal(parse("/report 12").kind, "usage");
  assert.equal(parse("/report last spam").kind, "usage");
  assert.deepEqual(parse("/reports"), { kind: "reports", all: false });
  assert.deepEqual(parse("/reports all"), { kind: "reports", all: true });
  assert.deepEqual(parse("/resolve 3 warned"), { kind: "resolve", id: 3, note: "warned" });
  assert.deepEqual(parse("/resolve 3"), { kind: "resolve", id: 3, note: "" });
  assert.deepEqual(parse("/audit"), { kind: "audit" });
  assert.deepEqual(parse("/bans"), { kind: "bans" });
  assert.deepEqual(parse("/invite-code"), { kind: "invite-code", durationMs: 0, uses: 0 });
  assert.deepEqual(parse("/invite-code 1h"), {
    kind: "invite-code",
    durationMs: 3_600_000,
    uses: 0,
  });
  assert.deepEqual(parse("/invite-code 1h 5"), {
    kind: "invite-code",
    durationMs: 3_600_000,
    uses: 5,
  });
  assert.deepEqual(parse("/invite-code 5"), { kind: "invite-code", durationMs: 0, uses: 5 });
  for (const line of [
    "/invite-code forever",
    "/invite-code 5 1h",
    "/invite-code 1h 0",
    "/invite-code a b c",
  ]) {
    assert.equal(parse(line).kind, "usage", line);
  }
});

test("/join takes an invite code as well as a room; # always means a room", () => {
  const code = "gtXsxXpjRVHC_x1g-wTC4w";
  assert.deepEqual(parse(`/join ${code}`), { kind: "join", room: code, code });
  assert.deepEqual(parse(`/join #${code}`), { kind: "join", room: code });
  assert.deepEqual(parse("/join #team"), { kind: "join", room: "team" });
  assert.deepEqual(parse("/join team"), { kind: "join", room: "team" });
});

const alice = { userId: "g-alice", username: "alice" };
const bob = { userId: "g-bob", username: "bob" };

test("notices of moderation say what happened, until when and why", () => {
  const until = Date.UTC(2026, 11, 6, 10, 0);
  const notice = { room: "team", user: bob, by: alice, reason: "spam", untilMs: until };
  assert.equal(
    moderatedText({ ...notice, kind: "kick" }, bob.userId),
    "You were kicked from #team by alice: spam",
  );
  assert.equal(
    moderatedText({ ...notice, kind: "ban" }, bob.userId),
    "You are banned from #team until 2026-12-06 10:00 UTC: spam",
  );
  assert.equal(
    moderatedText({ ...notice, kind: "mute", reason: "", untilMs: 0 }, bob.userId),
    "You are muted in #team until it is lifted.",
  );
  assert.equal(
    moderatedText({ ...notice, kind: "unmute" }, bob.userId),
    "You can post in #team again.",
  );
  assert.equal(
    moderatedText({ ...notice, kind: "unban" }, bob.userId),
    "Your ban from #team was lifted.",
  );
  assert.equal(
    moderatedText({ ...notice, kind: "kick" }, "g-someone-else"),
    "bob was kicked from #team (by alice): spam",
  );

  const line = (id: number, text: string) => ({
    room: "team",
    id,
    timeMs: 0,
    userId: bob.userId,
    username: bob.username,
    text,
    system: false,
    clientMsgId: "",
  });
  const report: ReportEntry = {
    id: 3,
    room: "team",
    message: line(9, "buy **cheap** pills\nnow"),
    reporter: alice,
    reason: "spam",
    atMs: 0,
    resolved: false,
    resolvedBy: undefined,
    resolution: "",
    resolvedAtMs: 0,
    context: [],
  };
  assert.equal(
    reportText(report),
    "Report #3 in #team: alice reported bob's message #9 'buy cheap pills now': spam (/reports)",
  );
});

test("KnownRooms says each change of a room once, from what was known", () => {
  const base: RoomSettings = {
    room: "team",
    owner: alice,
    inviteOnly: false,
    readOnly: false,
    yourRole: "none",
    youAreAdmin: false,
    staff: [{ user: alice, role: "owner" }],
    topic: "",
  };
  const known = new KnownRooms();
  const asked = known.ask("team");
  known.learn(base, asked);
  assert.deepEqual(known.update({ ...base, inviteOnly: true }, bob.userId), [
    "#team is now invite-only: only invited people can join.",
  ]);
  // The answer to our own change after the event: nothing new to say.
  assert.deepEqual(known.update({ ...base, inviteOnly: true }, bob.userId), []);
  const staffed = {
    ...base,
    inviteOnly: true,
    readOnly: true,
    staff: [...base.staff, { user: bob, role: "moderator" as const }],
  };
  assert.deepEqual(known.update(staffed, bob.userId), [
    "#team is now read-only: only its moderators post.",
    "You are now a moderator of #team.",
  ]);
  assert.deepEqual(known.update({ ...staffed, staff: base.staff }, alice.userId), [
    "bob is no longer a moderator of #team.",
  ]);
  // A look-up answered after an update is older than it: ignored.
  const stale = known.ask("team");
  known.update({ ...base, inviteOnly: false }, bob.userId);
  known.learn({ ...base, inviteOnly: true }, stale);
  assert.equal(known.get("team")?.inviteOnly, false);
  // A room never looked up is taken to be public and open; of its staff, only our place is said.
  assert.deepEqual(new KnownRooms().update(staffed, alice.userId), [
    "#team is now invite-only: only invited people can join.",
    "#team is now read-only: only its moderators post.",
  ]);
  assert.deepEqual(
    new KnownRooms().update({ ...staffed, inviteOnly: false, readOnly: false }, bob.userId),
    ["You are a moderator of #team."],
  );
});
