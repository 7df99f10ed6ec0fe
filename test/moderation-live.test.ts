// Kicks, bans and mutes on live streams: a Session is taken out of the room
// at once, a ban keeps it out until it ends on the (injected) clock, and the
// seed's wire, which cannot be told it left a room, ends with a status that
// says why; a muted seed client's message reaches no one and is not stored.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { manualClock } from "./core-helpers.ts";
import { liveUser, nextMatching, refusal, startTestServer, testClient } from "./helpers.ts";
import { type AnyClient, clientsFor, okOf } from "./http-clients.ts";
import { seedUser } from "./seed-client.ts";

describe("moderation on live streams", () => {
  const clock = manualClock(Date.parse("2026-12-01T10:00:00Z"));
  let server: RunningChatServer;
  let native: AnyClient;
  before(async () => {
    server = await startTestServer({ clock, admins: ["root"] });
    [native] = clientsFor({ address: server.address, httpUrl: undefined }) as [AnyClient];
  });
  after(async () => {
    native.close();
    await server.stop();
  });

  test("a kick takes a session out at once; a timed ban keeps it out until it ends", async () => {
    const room = "team";
    const alice = await liveUser(server, "alice", { room, userId: "alice-secret" });
    const as = { user_id: "alice-secret" };
    const settings = okOf(await native.unary("getRoom", { room }, as), "getRoom");
    assert.equal(settings.yourRole, "ROOM_ROLE_OWNER", "the first to join a new room owns it");
    const bob = await liveUser(server, "bob", { room, userId: "bob-secret" });

    okOf(await native.unary("kick", { room, user: "bob", reason: "cool off" }, as), "kick");
    const left = await nextMatching(bob.events, (e) => e.type === "left", "bob leaves the room");
    assert.ok(left.type === "left");
    assert.equal(left.code, status.PERMISSION_DENIED);
    assert.match(left.reason, /alice removed you from team\. Reason: cool off/);
    await bob.session.join(room);
    await bob.client.send("back", { room });

    okOf(
      await native.unary("ban", { room, user: "bob", durationMs: "60000", reason: "again" }, as),
      "ban",
    );
    const banned = await nextMatching(bob.events, (e) => e.type === "left", "bob is banned");
    assert.ok(banned.type === "left");
    assert.match(banned.reason, /banned from team until 2026-12-01 10:01 UTC\. Reason: again/);
    const rejoin = await refusal(bob.session.join(room));
    assert.equal(rejoin.code, status.PERMISSION_DENIED);
    const send = await refusal(bob.client.send("let me back", { room }));
    assert.equal(send.code, status.PERMISSION_DENIED);

    clock.advance(60_001);
    await bob.session.join(room);
    await bob.client.send("the ban ended", { room });

    okOf(await native.unary("mute", { room, user: "bob", durationMs: "30000" }, as), "mute");
    const muted = await refusal(bob.client.send("muted?", { room }));
    assert.equal(muted.code, status.PERMISSION_DENIED);
    assert.match(muted.message, /muted in team until 2026-12-01 10:01 UTC/);
    clock.advance(30_001);
    await bob.client.send("the mute ended", { room });

    const log = okOf(await native.unary("listAudit", { room }, as), "listAudit");
    assert.deepEqual(
      (log.entries as { action: string }[]).map((e) => e.action),
      ["mute", "ban", "kick"],
    );
    alice.client.close();
    bob.client.close();
  });

  test("the seed's wire: a ban ends the stream saying why and until when; a muted message reaches no one", async () => {
    const root = okOf(
      await native.unary("register", { username: "root", password: "correct horse battery" }),
      "register root",
    );
    const asRoot = { authorization: `Bearer ${root.token}` };
    const watcher = await liveUser(server, "watcher");
    const sam = await seedUser(server, "sam", "sam-secret");
    const tom = await seedUser(server, "tom");

    okOf(
      await native.unary("mute", { room: "lobby", user: "tom", reason: "flood" }, asRoot),
      "mute",
    );
    tom.call.write({ user_id: "", username: "tom", message: "flood 1", timestamp: "" });
    const ended = await tom.finished;
    assert.ok(ended, "tom's stream ends with a status");
    assert.equal(ended.code, status.PERMISSION_DENIED);
    assert.match(ended.details, /muted in lobby until it is lifted.*Reason: flood/);

    okOf(await native.unary("ban", { room: "lobby", user: "sam", reason: "spam" }, asRoot), "ban");
    const gone = await sam.finished;
    assert.ok(gone, "sam's stream ends with a status");
    assert.equal(gone.code, status.PERMISSION_DENIED);
    assert.match(gone.details, /banned from lobby until it is lifted\. Reason: spam/);

    // The admin's own line goes through; nothing of tom's was stored or relayed.
    const speaker = testClient(server, { username: "speaker" });
    await speaker.join();
    await speaker.send("after the bans", { room: "lobby" });
    speaker.close();
    const seen: string[] = [];
    await nextMatching(
      watcher.events,
      (e) => {
        if (e.type === "message") seen.push(e.message.text);
        return e.type === "message" && e.message.text === "after the bans";
      },
      "the line after the bans",
    );
    assert.ok(!seen.includes("flood 1"), "a muted seed message reaches no one");
    const { messages } = await watcher.client.history({ room: "lobby", limit: 50 });
    assert.ok(!messages.some((m) => m.text === "flood 1"), "and is not stored");

    await assert.rejects(
      seedUser(server, "sam", "sam-secret"),
      (error: { code?: number; details?: string }) => {
        assert.equal(error.code, status.PERMISSION_DENIED, "a banned seed client cannot come back");
        assert.match(error.details ?? "", /banned from lobby/);
        return true;
      },
    );
    watcher.client.close();
  });
});
