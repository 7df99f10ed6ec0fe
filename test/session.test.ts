import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import type { ChatClient, SessionEvent } from "../src/client/chat-client.ts";
import { ClientFrameSchema, type Event, ResumeOutcome } from "../src/gen/chat_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { chatServiceDefinition } from "../src/wire/grpc-service.ts";
import {
  isCaughtUp,
  isPresence,
  isText,
  liveUser,
  nextMatching,
  startTestServer,
  testClient,
  textsUntil,
  within,
} from "./helpers.ts";
import { type SeedChatMessage, SeedClient, streamReader } from "./seed-client.ts";

type MessageEvent = Extract<SessionEvent, { type: "message" }>;

/** Collects the message events up to the next caught_up of `room`. */
async function replayOf(events: AsyncIterator<SessionEvent>, room = "lobby") {
  const messages: MessageEvent[] = [];
  const caughtUp = await nextMatching(
    events,
    (e) => {
      if (e.type === "message" && e.message.room === room) messages.push(e);
      return e.type === "caught_up" && e.room === room;
    },
    `${room} caught up`,
  );
  return { messages, caughtUp };
}

describe("our Session API", () => {
  let server: RunningChatServer;
  const clients: ChatClient[] = [];
  before(async () => {
    server = await startTestServer({ presenceTickMs: 20 });
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
  });

  test("welcome says who we are; joined names the room, its head and the epoch", async () => {
    const olga = await liveUser(server, "olga");
    clients.push(olga.client);
    assert.deepEqual(olga.welcome, {
      type: "welcome",
      userId: (await olga.client.whoAmI()).userId,
      username: "olga",
      maxRooms: 100,
    });
    assert.notEqual(olga.welcome.userId, olga.client.userId, "the secret is never shown");
    assert.equal(olga.joined.room, "lobby");
    assert.equal(olga.joined.resume, "live");
    assert.ok(olga.joined.epoch.length > 0);
    const caughtUp = await nextMatching(olga.events, isCaughtUp, "olga caught up");
    assert.equal(caughtUp.type === "caught_up" && caughtUp.room, "lobby");
    assert.ok(caughtUp.type === "caught_up" && caughtUp.online.some((m) => m.username === "olga"));
    olga.session.close();
    await within(olga.session.ended, 5_000, "olga's session to end");
    await assert.rejects(olga.session.send("too late"), /session has ended/);
  });

  test("acks name the room and carry increasing ids that the others see", async () => {
    const pat = await liveUser(server, "pat");
    const quinn = await liveUser(server, "quinn");
    clients.push(pat.client, quinn.client);
    await nextMatching(quinn.events, isCaughtUp, "quinn caught up");
    const first = await pat.session.send("one");
    const second = await pat.session.send("two");
    assert.equal(first.room, "lobby");
    assert.equal(second.id, first.id + 1);
    const got = (await nextMatching(quinn.events, isText("one"), "'one' at quinn")) as MessageEvent;
    assert.equal(got.message.id, first.id);
    assert.equal(got.message.timeMs, first.timeMs);
    assert.equal(got.message.username, "pat");
    pat.session.close();
    quinn.session.close();
  });

  test("one session in several rooms: each event names its room; leaving stops a room", async () => {
    const rita = await liveUser(server, "rita");
    const sam = await liveUser(server, "sam");
    clients.push(rita.client, sam.client);
    await rita.session.join("kitchen");
    await sam.session.join("kitchen");
    await nextMatching(
      rita.events,
      (e) => e.type === "caught_up" && e.room === "kitchen",
      "rita in kitchen",
    );
    await sam.session.send("in the lobby");
    const ack = await sam.session.send("in the kitchen", { room: "kitchen" });
    assert.equal(ack.room, "kitchen");
    const got = (await nextMatching(
      rita.events,
      isText("in the kitchen"),
      "kitchen message",
    )) as MessageEvent;
    assert.equal(got.message.room, "kitchen");
    assert.equal(got.message.id, ack.id);
    await rita.session.leave("kitchen");
    await sam.session.send("after rita left", { room: "kitchen" });
    await sam.session.send("marker");
    const seen = await textsUntil(rita.events, "marker");
    assert.ok(!seen.includes("after rita left"), `rita saw ${seen}`);
    rita.session.close();
    sam.session.close();
  });

  test("a bad room name or a blank message is refused with a reason; the session goes on", async () => {
    const tom = await liveUser(server, "tom");
    clients.push(tom.client);
    await assert.rejects(
      tom.session.join("no spaces allowed"),
      (e: { code: number; message: string }) => {
        assert.equal(e.code, status.INVALID_ARGUMENT);
        assert.match(e.message, /room name is 1-64 characters/);
        return true;
      },
    );
    await assert.rejects(tom.session.send("   "), { code: status.INVALID_ARGUMENT });
    const ack = await tom.session.send("still here");
    assert.ok(ack.id > 0);
    tom.session.close();
  });

  test("a send repeated with the same client_msg_id is stored and delivered once", async () => {
    const rae = await liveUser(server, "rae");
    const sid = await liveUser(server, "sid");
    clients.push(rae.client, sid.client);
    await nextMatching(sid.events, isCaughtUp, "sid caught up");
    const key = randomUUID();
    const a = await rae.session.send("only once", { clientMsgId: key });
    const b = await rae.session.send("only once", { clientMsgId: key });
    assert.equal(b.id, a.id);
    await rae.session.send("after");
    const seen = await textsUntil(sid.events, "after");
    assert.deepEqual(seen, ["only once", "after"]);
    rae.session.close();
    sid.session.close();
  });

  test("the same user on two streams: each sees the other's messages; the sender only its ack", async () => {
    const userId = randomUUID();
    const phone = await liveUser(server, "una", { userId });
    const laptop = await liveUser(server, "una", { userId });
    clients.push(phone.client, laptop.client);
    await nextMatching(phone.events, isCaughtUp, "phone live");
    await nextMatching(laptop.events, isCaughtUp, "laptop live");
    const fromPhone = await phone.session.send("from the phone");
    const fromLaptop = await laptop.session.send("from the laptop");
    const atLaptop = (await nextMatching(
      laptop.events,
      isText("from the phone"),
      "phone's at laptop",
    )) as MessageEvent;
    assert.equal(atLaptop.message.id, fromPhone.id);
    const seen = await textsUntil(phone.events, "from the laptop");
    assert.deepEqual(seen, ["from the laptop"], "the phone got its own message back");
    assert.ok(fromLaptop.id > fromPhone.id);
    phone.session.close();
    laptop.session.close();
  });

  test("resume replays exactly what was missed, then goes live", async () => {
    const tess = await liveUser(server, "tess");
    const uma = await liveUser(server, "uma2");
    clients.push(tess.client, uma.client);
    await nextMatching(tess.events, isCaughtUp, "tess caught up");
    const seen = (await uma.session.send("seen")).id;
    await nextMatching(tess.events, isText("seen"), "'seen' at tess");
    tess.session.close();
    await within(tess.session.ended, 5_000, "tess's session to end");

    const missed = [await uma.session.send("missed 1"), await uma.session.send("missed 2")];
    const back = await liveUser(server, "tess", {
      resumeAfterId: seen,
      userId: tess.client.userId,
    });
    clients.push(back.client);
    assert.equal(back.joined.resume, "resumed");
    const { messages, caughtUp } = await replayOf(back.events);
    assert.deepEqual(
      messages.map((e) => [e.message.id, e.message.text]),
      missed.map((ack, i) => [ack.id, `missed ${i + 1}`]),
    );
    assert.equal(caughtUp.type === "caught_up" && caughtUp.lastId, missed[1]?.id);
    await uma.session.send("live again");
    await nextMatching(back.events, isText("live again"), "'live again' at tess");
    back.session.close();
    uma.session.close();
  });

  test("resume ids: 0 replays the room, above the newest and 2^64-1 reset, never INTERNAL", async () => {
    const room = "resume-ids";
    const writer = await liveUser(server, "writer", { room });
    clients.push(writer.client);
    const acks = [];
    for (const text of ["r1", "r2", "r3"]) acks.push(await writer.session.send(text, { room }));
    let last = acks.at(-1)?.id ?? 0;

    const fromZero = await liveUser(server, "reader0", { room, resumeAfterId: 0 });
    assert.equal(fromZero.joined.resume, "resumed");
    assert.deepEqual(
      (await replayOf(fromZero.events, room)).messages.map((e) => e.message.text),
      ["r1", "r2", "r3"],
    );

    for (const resumeAfterId of [last + 1, 2 ** 53 - 1]) {
      const reader = await liveUser(server, "reader", { room, resumeAfterId });
      assert.equal(reader.joined.resume, "reset", `resume after ${resumeAfterId}`);
      assert.equal(reader.joined.lastId, last);
      assert.deepEqual((await replayOf(reader.events, room)).messages, []);
      last = (await writer.session.send("after a reset", { room })).id;
      await nextMatching(reader.events, isText("after a reset"), "live after the reset");
      reader.client.close();
    }

    // The top of the uint64 range, written on the wire by hand.
    const rawClient = new Client(server.address, credentials.createInsecure());
    const m = chatServiceDefinition.session;
    assert.ok(m);
    const metadata = new Metadata();
    metadata.set("user_id", "raw-user");
    const call = rawClient.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      metadata,
    );
    const frame = (kind: MessageInitShape<typeof ClientFrameSchema>["kind"]) =>
      call.write(create(ClientFrameSchema, { kind }));
    frame({ case: "hello", value: { username: "raw" } });
    frame({ case: "join", value: { room, resumeAfterId: 2n ** 64n - 1n } });
    const joined = await within(
      new Promise<Event>((resolve, reject) => {
        call.on("data", (event: Event) => {
          if (event.kind.case === "joined") resolve(event);
        });
        call.on("error", reject);
      }),
      5_000,
      "the answer to a join after 2^64-1",
    );
    assert.equal(joined.kind.case === "joined" && joined.kind.value.resume, ResumeOutcome.RESET);
    call.end();
    rawClient.close();
    fromZero.client.close();
    writer.session.close();
  });

  test("Subscribe (the browser path) joins every room asked for, resuming each", async () => {
    const viv = testClient(server, { username: "viv" });
    const walt = testClient(server, { username: "walt" });
    clients.push(viv, walt);
    await walt.join();
    const before = await walt.send("before", { room: "garden" });
    const subscription = viv.subscribe([
      { room: "lobby" },
      { room: "garden", resumeAfterId: before.id - 1 },
    ]);
    const events = subscription[Symbol.asyncIterator]();
    const replay = await replayOf(events, "garden");
    assert.deepEqual(
      replay.messages.map((e) => e.message.text),
      ["before"],
    );
    const ack = await walt.send("via unary");
    const got = (await nextMatching(
      events,
      isText("via unary"),
      "the unary send at viv",
    )) as MessageEvent;
    assert.equal(got.message.id, ack.id);
    subscription.cancel();
    assert.equal(await within(subscription.ended, 5_000, "the subscription to end"), undefined);

    const bad = viv.subscribe([{ room: "bad room!" }]);
    const error = await within(bad.ended, 5_000, "a bad subscription to end");
    assert.equal(error?.code, status.INVALID_ARGUMENT);
  });

  test("History pages both ways by id, oldest first within a page", async () => {
    const xena = testClient(server, { username: "xena" });
    clients.push(xena);
    await xena.join();
    const room = "paging";
    const ids = [];
    for (const text of ["p1", "p2", "p3", "p4", "p5"])
      ids.push((await xena.send(text, { room })).id);
    const texts = (page: { messages: { text: string }[] }) => page.messages.map((m) => m.text);
    const newest = await xena.history({ room, limit: 2 });
    assert.deepEqual(texts(newest), ["p4", "p5"]);
    assert.equal(newest.hasMore, true);
    const older = await xena.history({ room, limit: 2, beforeId: newest.messages[0]?.id ?? 0 });
    assert.deepEqual(texts(older), ["p2", "p3"]);
    const forward = await xena.history({ room, limit: 3, afterId: ids[0] });
    assert.deepEqual(texts(forward), ["p2", "p3", "p4"]);
    assert.equal(forward.hasMore, true);
    const end = await xena.history({ room, limit: 3, afterId: ids[3] });
    assert.deepEqual(texts(end), ["p5"]);
    assert.equal(end.hasMore, false);
    await assert.rejects(xena.history({ room, limit: 3, afterId: 1, beforeId: 3 }), {
      code: status.INVALID_ARGUMENT,
    });
  });

  test("presence: joins and leaves are events, never history; ListMembers pages who is online", async () => {
    const room = "presence";
    const watcher = await liveUser(server, "watcher", { room });
    clients.push(watcher.client);
    await nextMatching(watcher.events, isCaughtUp, "watcher live");
    const others = [];
    for (const name of ["anna", "bert", "cleo"])
      others.push(await liveUser(server, name, { room }));
    const joined = new Set<string>();
    await nextMatching(
      watcher.events,
      (e) => {
        if (e.type === "presence") for (const m of e.joined) joined.add(m.username);
        return joined.size === 3;
      },
      "three joins",
    );
    const first = await watcher.client.listMembers({ room, pageSize: 3 });
    assert.deepEqual(
      first.members.map((m) => m.username),
      ["anna", "bert", "cleo"],
    );
    assert.equal(first.onlineCount, 4);
    const second = await watcher.client.listMembers({
      room,
      pageSize: 3,
      pageToken: first.nextPageToken,
    });
    assert.deepEqual(
      second.members.map((m) => m.username),
      ["watcher"],
    );
    assert.equal(second.nextPageToken, "");
    await assert.rejects(watcher.client.listMembers({ room, pageToken: "forged" }), {
      code: status.INVALID_ARGUMENT,
    });
    for (const other of others) other.session.close();
    await nextMatching(watcher.events, isPresence("cleo", false), "cleo's leave");
    const history = await watcher.client.history({ room, limit: 50, includeSystem: true });
    assert.deepEqual(history.messages, [], "presence is not history");
    for (const other of others) other.client.close();
  });

  test("Ping answers", async () => {
    const yan = testClient(server, { username: "yan" });
    clients.push(yan);
    const ms = await yan.ping();
    assert.ok(ms >= 0 && ms < 5_000);
  });
});

describe("a seed client and our client in one chat", () => {
  let server: RunningChatServer;
  before(async () => {
    server = await startTestServer({ presenceTickMs: 20 });
  });
  after(() => server.stop());

  test("they see each other's messages, joins and leaves", async () => {
    const ours = await liveUser(server, "zoe");
    await nextMatching(ours.events, isCaughtUp, "zoe caught up");
    const seed = new SeedClient(server.address, randomUUID(), "abe");
    await seed.joinChat();
    const call = seed.chatStream();
    const reader = streamReader<SeedChatMessage>(call);
    try {
      call.write({ user_id: seed.userId, username: "abe", message: "", timestamp: "" });
      await nextMatching(ours.events, isPresence("abe"), "abe's join at zoe");
      call.write({
        user_id: seed.userId,
        username: "abe",
        message: "from the seed",
        timestamp: "",
      });
      await nextMatching(ours.events, isText("from the seed"), "abe's message at zoe");
      await ours.session.send("from ours");
      const got = await nextMatching(
        reader.iterator,
        (m) => m.message === "from ours",
        "zoe's message at abe",
      );
      assert.equal(got.username, "zoe");

      ours.session.close();
      await nextMatching(
        reader.iterator,
        (m) => m.user_id === "system" && m.message === "zoe has left the chat",
        "zoe's leave at abe",
      );
      call.end();
      const seed2 = new SeedClient(server.address, randomUUID(), "bea");
      await seed2.joinChat();
      const history = await seed2.getChatHistory(10, true);
      assert.deepEqual(
        history.map((m) => m.message),
        ["from ours", "from the seed"],
        "joins and leaves are not stored",
      );
      seed2.close();
    } finally {
      seed.close();
      ours.client.close();
    }
  });
});
