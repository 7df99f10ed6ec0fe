import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { type ChatClient, ChatClientError, type SessionEvent } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import {
  isCaughtUp,
  isText,
  liveUser,
  nextMatching,
  startTestServer,
  tempDir,
  testClient,
} from "./helpers.ts";
import { seedUser } from "./seed-client.ts";

const refusedWith = (code: status) => (error: unknown) => {
  const e = ChatClientError.from(error);
  assert.equal(e.code, code, `${status[e.code]}: ${e.message}`);
  return true;
};

const isJoined = (room: string) => (e: SessionEvent) => e.type === "joined" && e.room === room;

/** Every way a third user could reach a direct-message room, each refused alike. */
async function assertPrivate(outsider: ChatClient, room: string): Promise<void> {
  const session = outsider.openSession();
  await assert.rejects(session.join(room, { resumeAfterId: 0 }), refusedWith(status.NOT_FOUND));
  await assert.rejects(session.send("let me in", { room }), refusedWith(status.NOT_FOUND));
  session.close();
  await assert.rejects(outsider.history({ room, limit: 10 }), refusedWith(status.NOT_FOUND));
  await assert.rejects(outsider.listMembers({ room }), refusedWith(status.NOT_FOUND));
  await assert.rejects(outsider.setTopic(room, "mine now"), refusedWith(status.NOT_FOUND));
  const subscription = outsider.subscribe([{ room, resumeAfterId: 0 }]);
  assert.ok(refusedWith(status.NOT_FOUND)(await subscription.ended));
  const { rooms } = await outsider.listRooms();
  assert.ok(!rooms.some((r) => r.room === room), "the outsider's room list shows the DM");
}

describe("rooms and direct messages, open mode", () => {
  let server: RunningChatServer;
  before(async () => {
    server = await startTestServer({ presenceTickMs: 20 });
  });
  after(() => server.stop());

  test("a direct message reaches every session of both users, none of whom joined it", async () => {
    const alice = await liveUser(server, "alice");
    const aliceTablet = await liveUser(server, "alice", { userId: alice.client.userId });
    const bob = await liveUser(server, "bob");
    const eve = await liveUser(server, "eve");
    try {
      const { room, peer } = await alice.client.openDirect("Bob");
      assert.equal(peer.username, "bob");
      assert.match(room, /^dm:/);
      await alice.session.send("just between us", { room });
      for (const [who, user] of [
        ["bob", bob],
        ["alice's tablet", aliceTablet],
      ] as const) {
        await nextMatching(user.events, isJoined(room), `${who} brought into the DM`);
        await nextMatching(user.events, isText("just between us"), `the DM at ${who}`);
      }
      // The sender's own stream is brought in after its message: it has the ack.
      await nextMatching(alice.events, isJoined(room), "alice's own stream in the DM");
      await bob.session.send("agreed", { room });
      const reply = await nextMatching(alice.events, isText("agreed"), "bob's answer");
      assert.equal(reply.type === "message" && reply.message.room, room);

      await assertPrivate(eve.client, room);
      // The same answer as for a DM room that does not exist: nothing tells them apart.
      const other = "dm:a-nobody:g-nobody";
      await assertPrivate(eve.client, other);
      const refusal = async (r: string) =>
        ChatClientError.from(await eve.client.history({ room: r, limit: 1 }).catch((e) => e));
      const [real, made] = await Promise.all([refusal(room), refusal(other)]);
      assert.equal(real.code, made.code);
      assert.equal(real.message.replace(room, "ROOM"), made.message.replace(other, "ROOM"));

      // Bob's later session finds the room in his list and resumes it.
      const { rooms } = await bob.client.listRooms();
      const listed = rooms.find((r) => r.room === room);
      assert.ok(listed, "bob's room list shows the DM");
      assert.equal(listed.peer?.username, "alice");
      assert.equal(listed.lastId, 2);
      const later = bob.client.openSession();
      const events = later[Symbol.asyncIterator]();
      await later.join(room, { resumeAfterId: 0 });
      await nextMatching(events, isText("agreed"), "the DM's history in bob's new session");
      later.close();
    } finally {
      for (const u of [alice, aliceTablet, bob, eve]) u.client.close();
    }
  });

  test("direct messages need someone known, and someone else", async () => {
    const zed = await liveUser(server, "zed");
    try {
      await assert.rejects(zed.client.openDirect("nobody-here"), refusedWith(status.NOT_FOUND));
      await assert.rejects(zed.client.openDirect("zed"), refusedWith(status.INVALID_ARGUMENT));
      await assert.rejects(zed.session.join("dm:not-a-pair"), refusedWith(status.INVALID_ARGUMENT));
      await assert.rejects(zed.session.join("a:b"), refusedWith(status.INVALID_ARGUMENT));
    } finally {
      zed.client.close();
    }
  });

  test("a topic is set by a member, announced, listed and given on join; the seed client reads it as a line", async () => {
    const tom = await liveUser(server, "tom");
    const seed = await seedUser(server, "seedy");
    try {
      await nextMatching(tom.events, isCaughtUp, "tom live");
      await tom.client.setTopic("lobby", "Friday release");
      const topic = await nextMatching(tom.events, (e) => e.type === "topic", "the topic event");
      assert.deepEqual(topic.type === "topic" && [topic.room, topic.topic, topic.by.username], [
        "lobby",
        "Friday release",
        "tom",
      ]);
      await nextMatching(
        seed.iterator,
        (m) => m.user_id === "system" && m.message === "tom set the topic: Friday release",
        "the topic at the seed client",
      );
      const later = await liveUser(server, "tina");
      assert.equal(later.joined.topic, "Friday release");
      const { rooms } = await later.client.listRooms();
      assert.equal(rooms.find((r) => r.room === "lobby")?.topic, "Friday release");
      await assert.rejects(
        tom.client.setTopic("lobby", "two\nlines"),
        refusedWith(status.INVALID_ARGUMENT),
      );
      later.client.close();
    } finally {
      seed.call.end();
      seed.client.close();
      tom.client.close();
    }
  });
});

describe("direct messages between accounts", () => {
  let server: RunningChatServer;
  before(async () => {
    server = await startTestServer({ auth: "required", passwordCost: 10 });
  });
  after(() => server.stop());

  test("two accounts talk privately; a third account cannot reach the room by any call", async () => {
    const [ann, ben, cat] = ["ann", "ben", "cat"].map((name) =>
      testClient(server, { username: name }),
    ) as [ChatClient, ChatClient, ChatClient];
    try {
      await ann.register("ann", "a long password");
      await ben.register("ben", "a long password");
      await cat.register("cat", "a long password");
      const benSession = ben.openSession();
      const benEvents = benSession[Symbol.asyncIterator]();
      await benSession.join("lobby");
      const { room } = await ann.openDirect("ben");
      const annSession = ann.openSession();
      await annSession.send("hello ben", { room });
      await nextMatching(benEvents, isText("hello ben"), "ann's DM at ben, offline from the room");
      await assertPrivate(cat, room);
      benSession.close();
      annSession.close();
    } finally {
      for (const c of [ann, ben, cat]) c.close();
    }
  });
});

test("after a restart, a direct message's room list still names the other account", async () => {
  const dir = tempDir();
  const db = join(dir.path, "chat.db");
  let server = await startTestServer({ auth: "required", passwordCost: 10, db });
  try {
    const ann = testClient(server, { username: "ann" });
    const ben = testClient(server, { username: "ben" });
    await ann.register("ann", "a long password");
    await ben.register("ben", "a long password");
    const { room } = await ann.openDirect("ben");
    await ann.send("before the restart", { room });
    ann.close();
    ben.close();
    await server.stop();
    server = await startTestServer({ auth: "required", passwordCost: 10, db });
    const again = testClient(server, { username: "ann" });
    await again.login("ann", "a long password");
    const { rooms } = await again.listRooms();
    assert.equal(rooms.find((r) => r.room === room)?.peer?.username, "ben");
    again.close();
  } finally {
    await server.stop();
    dir.remove();
  }
});
