import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Client, credentials, type ServiceError, status } from "@grpc/grpc-js";
import type { ChatClient, SessionEvent } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { chatServiceDefinition } from "../src/wire/grpc-service.ts";
import {
  isCaughtUp,
  isText,
  nextMatching,
  startTestServer,
  testClient,
  within,
} from "./helpers.ts";
import { type SeedChatMessage, SeedClient, streamReader } from "./seed-client.ts";

type MessageEvent = Extract<SessionEvent, { type: "message" }>;

/** A joined project client with a live session, its welcome read. */
async function liveUser(
  server: RunningChatServer,
  username: string,
  resumeAfterId = 0,
  userId?: string,
) {
  const client = testClient(server, { username, ...(userId ? { userId } : {}) });
  await client.join();
  const session = client.openSession({ resumeAfterId });
  const events = session[Symbol.asyncIterator]();
  const welcome = await nextMatching(events, (e) => e.type === "welcome", `${username}'s welcome`);
  return { client, session, events, welcome };
}

describe("our Session API", () => {
  let server: RunningChatServer;
  const clients: ChatClient[] = [];
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
  });

  test("welcome says who and where we are and who is online", async () => {
    const olga = await liveUser(server, "olga");
    clients.push(olga.client);
    assert.equal(olga.welcome.type, "welcome");
    if (olga.welcome.type !== "welcome") return;
    assert.equal(olga.welcome.username, "olga");
    assert.equal(olga.welcome.userId, olga.client.userId);
    assert.equal(olga.welcome.room, "lobby");
    assert.ok(olga.welcome.online.includes("olga"));
    await nextMatching(olga.events, isCaughtUp, "olga caught up");
    olga.session.close();
    await within(olga.session.ended, 5_000, "olga's session to end");
    await assert.rejects(olga.session.send("too late"), /session has ended/);
  });

  test("sends are acknowledged with increasing ids that the others see", async () => {
    const pat = await liveUser(server, "pat");
    const quinn = await liveUser(server, "quinn");
    clients.push(pat.client, quinn.client);
    await nextMatching(quinn.events, isCaughtUp, "quinn caught up");
    const first = await pat.session.send("one");
    const second = await pat.session.send("two");
    assert.ok(second.id > first.id, "ids increase");
    const got = (await nextMatching(quinn.events, isText("one"), "'one' at quinn")) as MessageEvent;
    assert.equal(got.message.id, first.id);
    assert.equal(got.message.timeMs, first.timeMs);
    assert.equal(got.message.username, "pat");
    assert.equal(got.message.system, false);
    const got2 = (await nextMatching(
      quinn.events,
      isText("two"),
      "'two' at quinn",
    )) as MessageEvent;
    assert.equal(got2.message.id, second.id);
    pat.session.close();
    quinn.session.close();
  });

  test("a send repeated with the same client_msg_id is stored and delivered once", async () => {
    const rae = await liveUser(server, "rae");
    const sid = await liveUser(server, "sid");
    clients.push(rae.client, sid.client);
    await nextMatching(sid.events, isCaughtUp, "sid caught up");
    const key = randomUUID();
    const a = await rae.session.send("only once", key);
    const b = await rae.session.send("only once", key);
    assert.equal(b.id, a.id);
    await rae.session.send("after");
    const seen: string[] = [];
    await nextMatching(
      sid.events,
      (e) => {
        if (e.type === "message" && !e.message.system) seen.push(e.message.text);
        return isText("after")(e);
      },
      "'after' at sid",
    );
    assert.deepEqual(seen, ["only once", "after"]);
    rae.session.close();
    sid.session.close();
  });

  test("resume replays exactly what was missed, then goes live", async () => {
    const tess = await liveUser(server, "tess");
    const uma = await liveUser(server, "uma");
    clients.push(tess.client, uma.client);
    await nextMatching(tess.events, isCaughtUp, "tess caught up");
    const seen = (await uma.session.send("seen")).id;
    await nextMatching(tess.events, isText("seen"), "'seen' at tess");
    tess.session.close();
    await within(tess.session.ended, 5_000, "tess's session to end");

    const missed = [await uma.session.send("missed 1"), await uma.session.send("missed 2")];
    const back = await liveUser(server, "tess", seen, tess.client.userId);
    clients.push(back.client);
    const replayed: MessageEvent[] = [];
    const caughtUp = await nextMatching(
      back.events,
      (e) => {
        if (e.type === "message") replayed.push(e);
        return isCaughtUp(e);
      },
      "tess caught up again",
    );
    const userMessages = replayed.filter((e) => !e.message.system);
    assert.deepEqual(
      userMessages.map((e) => [e.message.id, e.message.text]),
      missed.map((ack, i) => [ack.id, `missed ${i + 1}`]),
    );
    const ids = replayed.map((e) => e.message.id);
    assert.deepEqual(
      ids,
      [...new Set(ids)].sort((x, y) => x - y),
      "replay in id order, no repeats",
    );
    assert.ok(ids.every((id) => id > seen));
    assert.equal(caughtUp.type === "caught_up" && caughtUp.lastId >= (missed[1]?.id ?? 0), true);

    await uma.session.send("live again");
    await nextMatching(back.events, isText("live again"), "'live again' at tess");
    back.session.close();
    uma.session.close();
  });

  test("Subscribe and unary Send: the browser path", async () => {
    const viv = testClient(server, { username: "viv" });
    const walt = testClient(server, { username: "walt" });
    clients.push(viv, walt);
    const subscription = viv.subscribe();
    const events = subscription[Symbol.asyncIterator]();
    await nextMatching(events, isCaughtUp, "viv subscribed");
    await walt.join();
    const ack = await walt.send("via unary");
    const got = (await nextMatching(
      events,
      isText("via unary"),
      "the unary send at viv",
    )) as MessageEvent;
    assert.equal(got.message.id, ack.id);
    subscription.cancel();
    assert.equal(await within(subscription.ended, 5_000, "the subscription to end"), undefined);
  });

  test("History pages backwards by id, oldest first within a page", async () => {
    const xena = testClient(server, { username: "xena" });
    clients.push(xena);
    await xena.join();
    const { count } = await xena.sendBatch(["p1", "p2", "p3", "p4", "p5"]);
    assert.equal(count, 5);
    const newest = await xena.history({ limit: 2, includeSystem: false });
    assert.deepEqual(
      newest.messages.map((m) => m.text),
      ["p4", "p5"],
    );
    assert.equal(newest.hasMore, true);
    const older = await xena.history({
      limit: 2,
      includeSystem: false,
      beforeId: newest.messages[0]?.id ?? 0,
    });
    assert.deepEqual(
      older.messages.map((m) => m.text),
      ["p2", "p3"],
    );
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
    server = await startTestServer();
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
      const join = (await nextMatching(
        ours.events,
        (e) => e.type === "message" && e.message.text === "abe has joined the chat",
        "abe's join at zoe",
      )) as MessageEvent;
      assert.equal(join.message.system, true);

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

      call.end();
      await nextMatching(ours.events, isText("abe has left the chat"), "abe's leave at zoe");
      ours.session.close();
      await within(ours.session.ended, 5_000, "zoe's session to end");
      // zoe's own leave reaches a seed stream too.
      const seed2 = new SeedClient(server.address, randomUUID(), "bea");
      await seed2.joinChat();
      const history = await seed2.getChatHistory(10, true);
      assert.ok(
        history.some((m) => m.message === "zoe has left the chat" && m.user_id === "system"),
      );
      seed2.close();
    } finally {
      seed.close();
      ours.client.close();
    }
  });
});

test("RPCs designed for later issues answer UNIMPLEMENTED", async () => {
  const server = await startTestServer();
  const client = new Client(server.address, credentials.createInsecure());
  try {
    for (const name of ["register", "login", "listRooms", "listMembers"]) {
      const m = chatServiceDefinition[name];
      assert.ok(m, `${name} is in the proto`);
      // Empty bytes are an all-default request; the serializer passes bytes through.
      const error = await new Promise<ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          new Uint8Array(),
          (e) => resolve(e),
        ),
      );
      assert.equal(error?.code, status.UNIMPLEMENTED, name);
    }
  } finally {
    client.close();
    await server.stop();
  }
});
