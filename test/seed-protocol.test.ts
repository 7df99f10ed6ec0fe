import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Metadata, status } from "@grpc/grpc-js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { openSqliteStore } from "../src/store/sqlite-store.ts";
import { nextMatching, startTestServer, within } from "./helpers.ts";
import { type SeedChatMessage, SeedClient, seedUser, streamReader } from "./seed-client.ts";

const SEED_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

const from = (name: string, text: string) => (m: SeedChatMessage) =>
  m.username === name && m.message === text;
const system = (text: string) => (m: SeedChatMessage) =>
  m.user_id === "system" && m.message === text;

describe("the seed's protocol, as a seed client sees it", () => {
  let server: RunningChatServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test("JoinChat welcomes a new user and answers PONG to one it knows", async () => {
    const client = new SeedClient(server.address, randomUUID(), "wendy");
    try {
      assert.deepEqual(await client.joinChat(), {
        success: true,
        message: "Welcome to the chat, wendy!",
      });
      const again = await client.joinChat();
      assert.equal(again.success, true);
      assert.match(again.message, /^PONG/);
    } finally {
      client.close();
    }
  });

  test("a message reaches every other stream, stamped, but never its sender", async () => {
    const alice = await seedUser(server, "alice");
    const bob = await seedUser(server, "bob");
    try {
      await nextMatching(alice.iterator, system("bob has joined the chat"), "bob's join at alice");
      alice.call.write({
        user_id: alice.client.userId,
        username: "alice",
        message: "hi bob",
        timestamp: "",
      });
      const got = await nextMatching(
        bob.iterator,
        from("alice", "hi bob"),
        "alice's message at bob",
      );
      // Others see alice's public id, never the secret she sends with.
      assert.notEqual(got.user_id, alice.client.userId);
      assert.match(got.user_id, /^g-[\w-]{22}$/);
      assert.match(got.timestamp, SEED_TIMESTAMP);

      // Bob answers; alice must see bob's reply and nothing of her own in between.
      bob.call.write({
        user_id: bob.client.userId,
        username: "bob",
        message: "hi alice",
        timestamp: "",
      });
      const seen: SeedChatMessage[] = [];
      await nextMatching(
        alice.iterator,
        (m) => {
          seen.push(m);
          return m.message === "hi alice";
        },
        "bob's reply at alice",
      );
      assert.deepEqual(
        seen.filter((m) => m.message === "hi bob"),
        [],
      );
    } finally {
      alice.call.end();
      bob.call.end();
      alice.client.close();
      bob.client.close();
    }
  });

  test("the empty hello is not relayed and joins and leaves are announced to the others", async () => {
    const watcher = await seedUser(server, "watcher");
    const carol = await seedUser(server, "carol");
    try {
      const join = await nextMatching(
        watcher.iterator,
        system("carol has joined the chat"),
        "carol's join",
      );
      assert.equal(join.username, "System");
      carol.call.write({
        user_id: carol.client.userId,
        username: "carol",
        message: "",
        timestamp: "",
      });
      carol.call.write({
        user_id: carol.client.userId,
        username: "carol",
        message: "marker",
        timestamp: "",
      });
      const next = await nextMatching(watcher.iterator, () => true, "the next message from carol");
      assert.equal(next.message, "marker", "an empty message was relayed");

      carol.call.end();
      await nextMatching(
        watcher.iterator,
        system("carol has left the chat"),
        "carol's leave after half-close",
      );
      assert.equal(await within(carol.finished, 5_000, "carol's stream to end"), undefined);
    } finally {
      watcher.call.end();
      watcher.client.close();
      carol.client.close();
    }
  });

  test("a cancelled stream is announced as a leave at once", async () => {
    const watcher = await seedUser(server, "watcher2");
    const dave = await seedUser(server, "dave");
    try {
      await nextMatching(watcher.iterator, system("dave has joined the chat"), "dave's join");
      dave.call.cancel();
      await nextMatching(
        watcher.iterator,
        system("dave has left the chat"),
        "dave's leave after cancel",
      );
    } finally {
      watcher.call.end();
      watcher.client.close();
      dave.client.close();
    }
  });

  test("SendMessages stores a batch once, relays it to others and not to the sender", async () => {
    const erin = await seedUser(server, "erin");
    const frank = await seedUser(server, "frank");
    try {
      const texts = ["batch one", "batch two", "batch three"];
      const response = await erin.client.sendMessages([
        ...texts.map((message) => ({ user_id: erin.client.userId, username: "erin", message })),
        { user_id: erin.client.userId, username: "erin", message: "" },
      ]);
      assert.deepEqual(response, {
        success: true,
        message_count: 3,
        summary: "Successfully processed 3 messages from erin",
      });
      for (const text of texts)
        await nextMatching(frank.iterator, from("erin", text), `"${text}" at frank`);

      // Erin's own stream gets frank's marker next, not her batch.
      frank.call.write({
        user_id: frank.client.userId,
        username: "frank",
        message: "after batch",
        timestamp: "",
      });
      const atErin = await nextMatching(
        erin.iterator,
        (m) => m.user_id !== "system",
        "the next user message at erin",
      );
      assert.equal(atErin.message, "after batch");

      const history = await erin.client.getChatHistory(50, false);
      for (const text of texts) {
        assert.equal(history.filter((m) => m.message === text).length, 1, `"${text}" stored once`);
      }
    } finally {
      erin.call.end();
      frank.call.end();
      erin.client.close();
      frank.client.close();
    }
  });

  test("a stream whose first message carries the identity works without metadata", async () => {
    const watcher = await seedUser(server, "watcher3");
    const client = new SeedClient(server.address, randomUUID(), "gina");
    const call = client.chatStream(new Metadata());
    const { finished } = streamReader(call);
    try {
      call.write({
        user_id: client.userId,
        username: "gina",
        message: "no metadata",
        timestamp: "",
      });
      const got = await nextMatching(
        watcher.iterator,
        from("gina", "no metadata"),
        "gina's message",
      );
      assert.notEqual(got.user_id, client.userId);
      assert.match(got.user_id, /^g-/);
      call.end();
      assert.equal(await within(finished, 5_000, "gina's stream to end"), undefined);
    } finally {
      watcher.call.end();
      watcher.client.close();
      client.close();
    }
  });
});

describe("GetChatHistory", () => {
  let server: RunningChatServer;
  let client: SeedClient;
  before(async () => {
    // A system line as servers before presence events stored them (a migrated database has them).
    const store = await openSqliteStore({ path: ":memory:" });
    await store.append([
      {
        room: "lobby",
        userId: "system",
        username: "System",
        text: "ivy has joined the chat",
        kind: "system",
        clientMsgId: "",
      },
    ]);
    server = await startTestServer({ store });
    client = new SeedClient(server.address, randomUUID(), "henry");
    await client.joinChat();
    // Presence from now on is not stored.
    const live = await seedUser(server, "ivy");
    live.call.end();
    await within(live.finished, 5_000, "ivy's stream to end");
    live.client.close();
    const messages = Array.from({ length: 60 }, (_, i) => ({
      user_id: client.userId,
      username: "henry",
      message: `m${i + 1}`,
    }));
    await client.sendMessages(messages);
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  test("streams the newest messages first, up to the limit", async () => {
    const history = await client.getChatHistory(3, false);
    assert.deepEqual(
      history.map((m) => m.message),
      ["m60", "m59", "m58"],
    );
    for (const m of history) assert.match(m.timestamp, SEED_TIMESTAMP);
  });

  test("skips system messages unless asked for them", async () => {
    const without = await client.getChatHistory(1000, false);
    assert.equal(without.length, 60);
    assert.ok(without.every((m) => m.user_id !== "system"));
    const withSystem = await client.getChatHistory(1000, true);
    assert.deepEqual(
      withSystem
        .filter((m) => m.user_id === "system")
        .map((m) => m.message)
        .reverse(),
      ["ivy has joined the chat"],
    );
  });

  test("a limit of 0 or less means 50", async () => {
    assert.equal((await client.getChatHistory(0, false)).length, 50);
    assert.equal((await client.getChatHistory(-5, false)).length, 50);
  });

  test("a limit above 1000 is refused with INVALID_ARGUMENT", async () => {
    await assert.rejects(
      client.getChatHistory(1001, false),
      (error: { code: number; details: string }) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.match(error.details, /at most 1000/i);
        return true;
      },
    );
  });
});
