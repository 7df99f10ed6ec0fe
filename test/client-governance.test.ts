// The SDK's calls for rooms a team governs, against a real server: each
// call's plain answer, the events they cause (moderated, left, room_updated,
// report), refusals as ChatClientError with the server's sentence, and a
// LiveChat that does not go back into a room it was kicked from.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { SessionEvent } from "../src/client/chat-client.ts";
import { LiveChat, type LiveEvent } from "../src/client/live-chat.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { FAST_RETRY } from "./delivery-helpers.ts";
import { liveUser, nextMatching, refusal, startTestServer, testClient, within } from "./helpers.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

let server: RunningChatServer;
before(async () => {
  server = await startTestServer({ presenceTickMs: 20, admins: ["root"] });
});
after(() => server.stop());

/** The next event of `type` on a session's events. */
async function next<T extends SessionEvent["type"]>(
  events: AsyncIterator<SessionEvent>,
  type: T,
  what: string,
): Promise<Extract<SessionEvent, { type: T }>> {
  return (await nextMatching(events, (e) => e.type === type, what)) as Extract<
    SessionEvent,
    { type: T }
  >;
}

/** The refusal a call ends with. */
test("createRoom, getRoom, updateRoom and setRole answer with the room's settings; members hear room_updated", async () => {
  const owner = await liveUser(server, "olga", { room: "lobby" });
  const calls = owner.client.governance;
  const made = await calls.createRoom("gov-settings", { topic: "plans" });
  assert.equal(made.owner?.username, "olga");
  assert.deepEqual(
    [made.inviteOnly, made.readOnly, made.yourRole, made.youAreAdmin, made.topic],
    [false, false, "owner", false, "plans"],
  );
  const again = await refusal(calls.createRoom("gov-settings"));
  assert.equal(again.code, status.ALREADY_EXISTS);

  await owner.session.join("gov-settings");
  const member = await liveUser(server, "mick", { room: "gov-settings" });
  const read = await member.client.governance.getRoom("gov-settings");
  assert.deepEqual([read.yourRole, read.owner?.username, read.topic], ["none", "olga", "plans"]);

  const locked = await calls.updateRoom("gov-settings", { readOnly: true });
  assert.deepEqual([locked.readOnly, locked.inviteOnly], [true, false]);
  const heard = await next(member.events, "room_updated", "the read-only change at mick");
  assert.equal(heard.room, "gov-settings");
  assert.deepEqual([heard.settings.readOnly, heard.settings.yourRole], [true, "none"]);
  const muted = await refusal(member.session.send("may I?", { room: "gov-settings" }));
  assert.equal(muted.code, status.PERMISSION_DENIED);
  assert.match(muted.message, /read-only/);

  const promoted = await calls.setRole("gov-settings", "mick", "moderator");
  assert.deepEqual(
    promoted.staff.map((h) => [h.user.username, h.role]),
    [
      ["olga", "owner"],
      ["mick", "moderator"],
    ],
  );
  const staffed = await next(member.events, "room_updated", "the role change at mick");
  assert.ok(staffed.settings.staff.some((h) => h.user.username === "mick"));
  await member.session.send("now I may", { room: "gov-settings" });

  const notOwner = await refusal(member.client.governance.updateRoom("gov-settings", {}));
  assert.equal(notOwner.code, status.PERMISSION_DENIED);
  assert.match(notOwner.message, /owner of gov-settings/);
  for (const user of [owner, member]) {
    user.session.close();
    user.client.close();
  }
});

test("invite and invite codes let people into an invite-only room; a spent code is refused", async () => {
  const owner = await liveUser(server, "ivy", { room: "gov-private" });
  const calls = owner.client.governance;
  await calls.updateRoom("gov-private", { inviteOnly: true });
  const guest = await liveUser(server, "gus");
  const out = await refusal(guest.session.join("gov-private"));
  assert.equal(out.code, status.NOT_FOUND);

  assert.equal((await calls.invite("gov-private", "gus")).username, "gus");
  assert.equal((await guest.session.join("gov-private")).room, "gov-private");

  const before = Date.now();
  const invite = await calls.createInvite("gov-private", { expiresInMs: 3_600_000, uses: 1 });
  assert.equal(invite.room, "gov-private");
  assert.equal(invite.uses, 1);
  assert.match(invite.code, /^[\w-]{22}$/);
  assert.ok(Math.abs(invite.expiresMs - (before + 3_600_000)) < 60_000, String(invite.expiresMs));
  const third = await liveUser(server, "tess");
  assert.equal(await third.client.governance.redeemInvite(invite.code), "gov-private");
  assert.equal((await third.session.join("gov-private")).room, "gov-private");
  const fourth = testClient(server, { username: "finn" });
  await fourth.join();
  const spent = await refusal(fourth.governance.redeemInvite(invite.code));
  assert.match(spent.message, /unknown, expired or used up/);
  for (const user of [owner, guest, third]) {
    user.session.close();
    user.client.close();
  }
  fourth.close();
});

test("a kick reaches the user as moderated then left (PERMISSION_DENIED); LiveChat does not rejoin after a reconnect", async () => {
  const owner = await liveUser(server, "kate", { room: "gov-kick" });
  const proxy = await startTcpProxy(server.address);
  const client = testClient(proxy, { username: "ken" });
  await client.join();
  const live = new LiveChat(client, {
    rooms: [{ room: "gov-kick" }, { room: "gov-stay" }],
    backoff: FAST_RETRY,
  });
  const seen: LiveEvent[] = [];
  const wake = new Set<() => void>();
  void (async () => {
    for await (const event of live) {
      seen.push(event);
      for (const w of wake) w();
    }
  })();
  const until = (ok: (e: LiveEvent) => boolean, what: string, from = 0) =>
    within(
      new Promise<number>((resolve) => {
        const check = () => {
          const at = seen.findIndex((e, i) => i >= from && ok(e));
          if (at < 0) return;
          wake.delete(check);
          resolve(at);
        };
        wake.add(check);
        check();
      }),
      5_000,
      what,
    );
  try {
    await until((e) => e.type === "state" && e.state.kind === "live", "live");
    assert.equal(
      (await owner.client.governance.kick("gov-kick", "ken", "too loud")).username,
      "ken",
    );
    const noticeAt = await until((e) => e.type === "moderated", "the kick notice");
    assert.deepEqual(
      (({ type, room, kind, reason, untilMs }) => ({ type, room, kind, reason, untilMs }))(
        seen[noticeAt] as Extract<LiveEvent, { type: "moderated" }>,
      ),
      { type: "moderated", room: "gov-kick", kind: "kick", reason: "too loud", untilMs: 0 },
    );
    const leftAt = await until((e) => e.type === "left", "the left after it");
    const left = seen[leftAt] as Extract<LiveEvent, { type: "left" }>;
    assert.deepEqual([left.room, left.code], ["gov-kick", status.PERMISSION_DENIED]);
    assert.match(left.reason, /kate removed you from gov-kick\. Reason: too loud/);
    assert.ok(leftAt > noticeAt);
    assert.equal(live.position("gov-kick"), undefined);

    assert.ok(proxy.cut() > 0, "a connection to cut");
    const backAt = await until(
      (e) => e.type === "state" && e.state.kind === "live",
      "live again",
      leftAt + 1,
    );
    const rejoined = seen
      .slice(leftAt + 1, backAt + 1)
      .flatMap((e) => (e.type === "joined" ? [e.room] : []));
    assert.deepEqual(rejoined, ["gov-stay"]);
    assert.equal(live.position("gov-kick"), undefined);
  } finally {
    await live.close();
    await proxy.close();
    owner.session.close();
    owner.client.close();
  }
});

test("ban, mute and their lifting: moderated events with until when; listBans shows what is in force", async () => {
  const owner = await liveUser(server, "bea", { room: "gov-bans" });
  const calls = owner.client.governance;
  const target = await liveUser(server, "bo", { room: "gov-bans" });

  const muted = await calls.mute("gov-bans", "bo", { durationMs: 600_000, reason: "shouting" });
  assert.equal(muted.user.username, "bo");
  const mute = await next(target.events, "moderated", "the mute");
  assert.deepEqual([mute.kind, mute.untilMs, mute.by.username], ["mute", muted.untilMs, "bea"]);
  const refused = await refusal(target.session.send("hello?", { room: "gov-bans" }));
  assert.match(refused.message, /^You are muted in gov-bans until .* UTC/);
  assert.equal((await calls.unmute("gov-bans", "bo")).username, "bo");
  assert.equal((await next(target.events, "moderated", "the unmute")).kind, "unmute");

  const banned = await calls.ban("gov-bans", "bo", { durationMs: 7_200_000, reason: "spam" });
  const ban = await next(target.events, "moderated", "the ban");
  assert.deepEqual([ban.kind, ban.untilMs, ban.reason], ["ban", banned.untilMs, "spam"]);
  const left = await next(target.events, "left", "the left after the ban");
  assert.equal(left.code, status.PERMISSION_DENIED);
  const back = await refusal(target.session.join("gov-bans"));
  assert.match(back.message, /^You are banned from gov-bans until .* UTC\. Reason: spam$/);

  const bans = await calls.listBans("gov-bans");
  assert.deepEqual(
    bans.map((b) => [b.kind, b.user?.username, b.by.username, b.reason, b.untilMs]),
    [["ban", "bo", "bea", "spam", banned.untilMs]],
  );
  assert.equal((await calls.unban("gov-bans", "bo")).username, "bo");
  assert.equal((await next(target.events, "moderated", "the unban")).kind, "unban");
  assert.deepEqual(await calls.listBans("gov-bans"), []);
  const notBanned = await refusal(calls.unban("gov-bans", "bo"));
  assert.equal(notBanned.code, status.NOT_FOUND);
  for (const user of [owner, target]) {
    user.session.close();
    user.client.close();
  }
});

test("a report reaches the room's moderators as an event; listReports, resolveReport and listAudit", async () => {
  const owner = await liveUser(server, "rex", { room: "gov-reports" });
  const calls = owner.client.governance;
  const writer = await liveUser(server, "wes", { room: "gov-reports" });
  const reader = await liveUser(server, "rae", { room: "gov-reports" });
  await writer.session.send("hello all", { room: "gov-reports" });
  const bad = await writer.session.send("something rude", { room: "gov-reports" });

  const id = await reader.client.governance.report("gov-reports", bad.id, "rude");
  const event = await next(owner.events, "report", "the report at the owner");
  assert.equal(event.room, "gov-reports");
  assert.deepEqual(
    [event.report.id, event.report.reporter.username, event.report.reason],
    [id, "rae", "rude"],
  );
  assert.equal(event.report.message?.text, "something rude");

  const { reports } = await calls.listReports("gov-reports");
  assert.equal(reports.length, 1);
  assert.deepEqual(
    reports[0]?.context.map((m) => m.text),
    ["hello all"],
  );
  const notModerator = await refusal(reader.client.governance.listReports("gov-reports"));
  assert.equal(notModerator.code, status.PERMISSION_DENIED);

  await calls.resolveReport("gov-reports", id, "talked to wes");
  assert.deepEqual((await calls.listReports("gov-reports")).reports, []);
  const all = await calls.listReports("gov-reports", { includeResolved: true });
  assert.deepEqual(
    all.reports.map((r) => [r.resolved, r.resolvedBy?.username, r.resolution]),
    [[true, "rex", "talked to wes"]],
  );

  await calls.kick("gov-reports", "wes", "cool off");
  const { entries } = await calls.listAudit("gov-reports");
  assert.deepEqual(
    entries.map((e) => [e.action, e.actor.username]),
    [
      ["kick", "rex"],
      ["resolve_report", "rex"],
    ],
  );
  assert.equal(entries[0]?.target, writer.welcome.type === "welcome" ? writer.welcome.userId : "");
  assert.equal(entries[0]?.reason, "cool off");
  for (const user of [owner, writer, reader]) {
    user.session.close();
    user.client.close();
  }
});

test("address bans are for server admins: banAddress, listBans of no room, unbanAddress", async () => {
  const root = testClient(server, { username: "root" });
  await root.join();
  await root.register("root", "correct horse battery");
  const calls = root.governance;
  const untilMs = await calls.banAddress("203.0.113.0/24", { durationMs: 60_000, reason: "abuse" });
  assert.ok(untilMs > Date.now());
  const bans = await calls.listBans("");
  assert.deepEqual(
    bans.map((b) => [b.cidr, b.reason, b.user]),
    [["203.0.113.0/24", "abuse", undefined]],
  );
  await calls.unbanAddress("203.0.113.0/24");
  assert.deepEqual(await calls.listBans(""), []);

  const guest = testClient(server, { username: "nobody" });
  await guest.join();
  const denied = await refusal(guest.governance.banAddress("198.51.100.7"));
  assert.equal(denied.code, status.PERMISSION_DENIED);
  root.close();
  guest.close();
});
