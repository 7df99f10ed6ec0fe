import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { type ChatClient, ChatClientError } from "../src/client/chat-client.ts";
import { systemClock } from "../src/core/clock.ts";
import { ClientFrameSchema, type Event } from "../src/gen/chat_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { chatServiceDefinition } from "../src/wire/grpc-service.ts";
import { manualClock } from "./core-helpers.ts";
import {
  isText,
  liveUser,
  nextMatching,
  startTestServer,
  testClient,
  textsUntil,
  within,
} from "./helpers.ts";
import { SeedClient, seedUser } from "./seed-client.ts";

const refused = (code: status, says?: RegExp) => (error: unknown) => {
  const e = ChatClientError.from(error);
  assert.equal(e.code, code, `${status[e.code]}: ${e.message}`);
  if (says) assert.match(e.message, says);
  assert.ok(e.message.length < 300, "a status never carries unbounded input");
  return true;
};

describe("identity in open mode", () => {
  let server: RunningChatServer;
  before(async () => {
    server = await startTestServer({ passwordCost: 10 });
  });
  after(() => server.stop());

  test("a user_id copied from a message does not post as its owner, on the stream or in a batch", async () => {
    const alice = await seedUser(server, "alice");
    const bob = await seedUser(server, "bob");
    try {
      // Bob is live once alice hears of him; what alice says from then on reaches him.
      await nextMatching(alice.iterator, (m) => m.message === "bob has joined the chat", "bob");
      alice.call.write({
        user_id: alice.client.userId,
        username: "alice",
        message: "mine",
        timestamp: "",
      });
      const seen = await nextMatching(bob.iterator, (m) => m.message === "mine", "alice's line");
      const alicePublic = seen.user_id;
      assert.notEqual(alicePublic, alice.client.userId);

      // Mallory sends with alice's public id as her credential, under her own name.
      const mallory = await seedUser(server, "mallory", alicePublic);
      await nextMatching(
        bob.iterator,
        (m) => m.message === "mallory has joined the chat",
        "mallory",
      );
      mallory.call.write({
        user_id: alicePublic,
        username: "mallory",
        message: "forged",
        timestamp: "",
      });
      const forged = await nextMatching(
        bob.iterator,
        (m) => m.message === "forged",
        "the forged line",
      );
      assert.notEqual(forged.user_id, alicePublic, "stored under another user, not alice");
      await mallory.client.sendMessages([
        { user_id: alicePublic, username: "alice", message: "batch" },
      ]);
      const batch = await nextMatching(bob.iterator, (m) => m.message === "batch", "the batch");
      assert.notEqual(batch.user_id, alicePublic);
      assert.equal(batch.username, "mallory", "the name is the credential's, not the message's");

      // And a message naming alice's secret-free public id on someone else's call is refused.
      const eve = await seedUser(server, "eve");
      eve.call.write({
        user_id: alicePublic,
        username: "alice",
        message: "as alice",
        timestamp: "",
      });
      const error = await within(eve.finished, 5_000, "eve's stream to end");
      assert.equal(error?.code, status.INVALID_ARGUMENT);
      assert.doesNotMatch(error?.details ?? "", new RegExp(alicePublic));
      mallory.call.end();
      mallory.client.close();
      eve.client.close();
    } finally {
      for (const u of [alice, bob]) {
        u.call.end();
        u.client.close();
      }
    }
  });

  test("a name in use online cannot be taken by JoinChat, a Session or Subscribe, in any spelling", async () => {
    const twin = await liveUser(server, "twin");
    try {
      const other = new SeedClient(server.address, randomUUID(), "Twin");
      await assert.rejects(other.joinChat(), (e: ServiceError) => e.code === status.ALREADY_EXISTS);
      await assert.rejects(
        other.joinChat({ user_id: other.userId, username: "twіn" /* Cyrillic i */ }),
        (e: ServiceError) => e.code === status.ALREADY_EXISTS && /already called/.test(e.details),
      );
      other.close();
      const session = testClient(server, { username: "TWIN" }).openSession();
      assert.ok(refused(status.ALREADY_EXISTS, /pick another name/)(await session.ended));
      const subscription = testClient(server, { username: "twin" }).subscribe([{ room: "lobby" }]);
      assert.ok(refused(status.ALREADY_EXISTS)(await subscription.ended));
      // The same user on a second device is the same person, not a rival.
      const again = testClient(server, { username: "twin", userId: twin.client.userId });
      const second = again.openSession();
      await second.join("lobby");
      second.close();
      again.close();
    } finally {
      twin.session.close();
      twin.client.close();
    }
  });

  test("names with invisible, direction-changing or line-breaking characters are refused", async () => {
    for (const name of ["tw\u200bin", "ab\u202Ecd", "a\u2028b", "\u3164"]) {
      const client = testClient(server, { username: name });
      await assert.rejects(client.join(), refused(status.INVALID_ARGUMENT));
      client.close();
    }
  });

  test("a registered name is its owner's: guests cannot wear it; its owner logs in and chats as it", async () => {
    const owner = testClient(server, { username: "registered" });
    const login = await owner.register("registered", "correct horse");
    assert.match(login.userId, /^a-/);
    const guest = testClient(server, { username: "Registered" });
    await assert.rejects(guest.join(), refused(status.ALREADY_EXISTS, /registered account/));
    await assert.rejects(
      testClient(server).register("rеgistered" /* Cyrillic e */, "another password"),
      refused(status.ALREADY_EXISTS),
    );
    const wrong = testClient(server);
    await assert.rejects(
      wrong.login("registered", "wrong password"),
      refused(status.UNAUTHENTICATED),
    );
    const device = testClient(server, { username: "ignored" });
    const deviceLogin = await device.login("registered", "correct horse");
    const me = await device.whoAmI();
    assert.deepEqual(me, {
      userId: login.userId,
      username: "registered",
      account: true,
      expiresMs: deviceLogin.expiresMs,
    });
    const watcher = await liveUser(server, "watcher");
    const session = device.openSession();
    await session.join("lobby");
    await session.send("from the account");
    const message = await nextMatching(watcher.events, isText("from the account"), "the message");
    assert.equal(message.type === "message" && message.message.userId, login.userId);
    assert.equal(message.type === "message" && message.message.username, "registered");
    for (const c of [owner, guest, wrong, device, watcher.client]) c.close();
  });

  test("a flooder is held to its rate and told when to retry; the others' messages go on", async () => {
    // Time stands still, so the bucket never refills: exactly the burst gets through.
    const now = Date.now();
    const clock = { now: () => now, every: systemClock.every };
    const limited = await startTestServer({ clock, limits: { sendRate: 20, sendBurst: 20 } });
    try {
      const reader = await liveUser(limited, "reader");
      const calm = await liveUser(limited, "calm");
      const flooder = await liveUser(limited, "flooder");
      const results = await Promise.allSettled(
        Array.from({ length: 300 }, (_, i) => flooder.session.send(`flood ${i}`)),
      );
      const accepted = results.filter((r) => r.status === "fulfilled").length;
      assert.equal(accepted, 20);
      const refusal = results.find((r) => r.status === "rejected");
      assert.ok(refusal && refusal.status === "rejected");
      const error = ChatClientError.from(refusal.reason);
      assert.equal(error.code, status.RESOURCE_EXHAUSTED);
      assert.match(error.message, /try again in/);
      assert.equal(error.retryAfterMs, 50, "one token at 20 a second");
      // A unary Send over the limit says when, in its trailing metadata too.
      await assert.rejects(flooder.client.send("one more"), (e: unknown) => {
        const c = ChatClientError.from(e);
        return c.code === status.RESOURCE_EXHAUSTED && (c.retryAfterMs ?? 0) > 0;
      });
      // The session goes on, and everyone else's messages arrive.
      for (let i = 0; i < 5; i++) await calm.session.send(`calm ${i}`);
      await nextMatching(reader.events, isText("calm 4"), "the calm user's last message");
      for (const u of [reader, calm, flooder]) u.client.close();
    } finally {
      await limited.stop();
    }
  });

  test("the seed's ChatStream reads a sender over the rate at the rate: nothing refused, nothing lost", async () => {
    const clock = manualClock(Date.now());
    const paced = await startTestServer({ clock, limits: { sendRate: 5, sendBurst: 5 } });
    try {
      const reader = await liveUser(paced, "reader");
      const marker = await liveUser(paced, "marker");
      const fast = await seedUser(paced, "fast");
      for (let i = 0; i < 8; i++) {
        fast.call.write({
          user_id: fast.client.userId,
          username: "fast",
          message: `fast ${i}`,
          timestamp: "",
        });
      }
      const early = await textsUntil(reader.events, "fast 4");
      // Time stands still: the rest wait for the rate, and others still get through.
      await marker.session.send("meanwhile");
      const meanwhile = await textsUntil(reader.events, "meanwhile");
      assert.deepEqual(meanwhile, ["meanwhile"], "a message over the rate got through");
      clock.advance(1_000);
      const rest = await textsUntil(reader.events, "fast 7");
      assert.deepEqual(
        [...early, ...rest],
        Array.from({ length: 8 }, (_, i) => `fast ${i}`),
      );
      fast.call.end();
      assert.equal(await within(fast.finished, 5_000, "the seed stream to end"), undefined);
      for (const c of [reader.client, marker.client, fast.client]) c.close();
    } finally {
      await paced.stop();
    }
  });

  test("a seed /batch of 100 lines passes with the default limits", async () => {
    const client = new SeedClient(server.address, randomUUID(), "batcher");
    await client.joinChat();
    const response = await client.sendMessages(
      Array.from({ length: 100 }, (_, i) => ({
        user_id: client.userId,
        username: "batcher",
        message: `line ${i}`,
      })),
    );
    assert.equal(response.message_count, 100);
    client.close();
  });

  test("a 100 kB user_id is refused in a sentence that does not repeat it", async () => {
    const client = new SeedClient(server.address, "", "huge");
    const metadata = new Metadata();
    await assert.rejects(
      client.sendMessages(
        [{ user_id: "x".repeat(100_000), username: "huge", message: "hi" }],
        metadata,
      ),
      (e: ServiceError) => e.code === status.INVALID_ARGUMENT && e.details.length < 200,
    );
    // The connection is still fine.
    await client.joinChat({ user_id: randomUUID(), username: "huge" });
    client.close();
  });

  test("a 100 kB room name in a join or a leave is answered briefly, and the session goes on", async () => {
    const raw = new Client(server.address, credentials.createInsecure());
    const m = chatServiceDefinition.session;
    assert.ok(m);
    const metadata = new Metadata();
    metadata.set("user_id", randomUUID());
    const call = raw.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      metadata,
    );
    const lefts: { room: string; code: number }[] = [];
    const acked = new Promise<void>((resolve, reject) => {
      call.on("data", (event: Event) => {
        if (event.kind.case === "left") lefts.push(event.kind.value);
        if (event.kind.case === "ack") resolve();
      });
      call.on("error", reject);
    });
    const frame = (kind: MessageInitShape<typeof ClientFrameSchema>["kind"]) =>
      call.write(create(ClientFrameSchema, { kind }));
    const huge = "r".repeat(100_000);
    frame({ case: "hello", value: { username: "roomy" } });
    frame({ case: "join", value: { room: huge, epoch: "" } });
    frame({ case: "leave", value: { room: huge } });
    frame({ case: "send", value: { room: "lobby", text: "still here", clientMsgId: "k1" } });
    await within(acked, 5_000, "the send after the bad room names");
    assert.equal(lefts.length, 2);
    for (const left of lefts) {
      assert.equal(left.code, status.INVALID_ARGUMENT);
      assert.ok(left.room.length <= 256, `a left event of ${left.room.length} characters`);
    }
    call.end();
    raw.close();
  });

  test("connections with live streams from one address are limited; the rest still work", async () => {
    const capped = await startTestServer({ limits: { maxConnectionsPerIp: 2 } });
    // testClient gives each client its own connection.
    // testClient gives each client its own connection.
    const [a, b, c] = [1, 2, 3].map((i) => testClient(capped, { username: `conn${i}` })) as [
      ChatClient,
      ChatClient,
      ChatClient,
    ];
    try {
      for (const client of [a, b, c]) await client.join();
      const first = a.openSession();
      const second = b.openSession();
      await first.join("lobby");
      await second.join("lobby");
      assert.ok(refused(status.RESOURCE_EXHAUSTED, /connections/)(await c.openSession().ended));
      // A second stream on a connection already counted is not another connection.
      const again = a.openSession();
      await again.join("lobby");
      // Once a connection has no live stream, its slot is free again.
      first.close();
      again.close();
      await within(Promise.all([first.ended, again.ended]), 5_000, "a's sessions to end");
      const retry = c.openSession();
      await retry.join("lobby");
      retry.close();
      second.close();
    } finally {
      for (const client of [a, b, c]) client.close();
      await capped.stop();
    }
  });

  test("sign-in attempts per address are limited per minute", async () => {
    const now = Date.now();
    const clock = { now: () => now, every: systemClock.every };
    const capped = await startTestServer({ clock, limits: { authAttemptsPerMinute: 3 } });
    const client = testClient(capped, { username: "knocker" });
    try {
      await client.join();
      await assert.rejects(
        client.login("nobody", "wrong password"),
        refused(status.UNAUTHENTICATED),
      );
      await assert.rejects(
        client.login("nobody", "wrong password"),
        refused(status.UNAUTHENTICATED),
      );
      await assert.rejects(
        client.login("nobody", "wrong password"),
        refused(status.RESOURCE_EXHAUSTED, /Too many sign-in attempts/),
      );
      await assert.rejects(client.join(), refused(status.RESOURCE_EXHAUSTED));
    } finally {
      client.close();
      await capped.stop();
    }
  });

  test("a user's open sessions are limited", async () => {
    const capped = await startTestServer({ limits: { maxSessionsPerUser: 2 } });
    const client = testClient(capped, { username: "many" });
    try {
      await client.join();
      const sessions = [client.openSession(), client.openSession()];
      for (const s of sessions) await s.join("lobby");
      assert.ok(
        refused(status.RESOURCE_EXHAUSTED, /sessions open/)(await client.openSession().ended),
      );
    } finally {
      client.close();
      await capped.stop();
    }
  });
});

describe("identity with --auth required", () => {
  let now = Date.now();
  const clock = { now: () => now, every: systemClock.every };
  let server: RunningChatServer;
  before(async () => {
    server = await startTestServer({
      auth: "required",
      clock,
      tokenTtlMs: 3_600_000,
      passwordCost: 10,
    });
  });
  after(() => server.stop());

  test("without a token every chat call is refused; Register and Login are open", async () => {
    const guest = testClient(server, { username: "guest" });
    await assert.rejects(guest.ping(), refused(status.UNAUTHENTICATED, /requires an account/));
    await assert.rejects(guest.join(), refused(status.UNAUTHENTICATED));
    assert.ok(refused(status.UNAUTHENTICATED)(await guest.openSession().ended));
    await assert.rejects(guest.history({ limit: 5 }), refused(status.UNAUTHENTICATED));
    await guest.register("member", "a long password");
    await guest.ping();
    const session = guest.openSession();
    await session.join("lobby");
    session.close();
    guest.close();
  });

  test("a forged, revoked or expired token is refused", async () => {
    const forged = testClient(server, { token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    await assert.rejects(forged.ping(), refused(status.UNAUTHENTICATED, /not valid/));
    const malformed = testClient(server, { token: "not a token!" });
    await assert.rejects(malformed.ping(), refused(status.UNAUTHENTICATED, /Bearer/));

    const user = testClient(server);
    const { token } = await user.register("revoker", "a long password");
    const copy = testClient(server, { token });
    await copy.ping();
    await user.logout();
    await assert.rejects(copy.ping(), refused(status.UNAUTHENTICATED));

    const expiring = testClient(server);
    await expiring.register("expiring", "a long password");
    await expiring.ping();
    now += 3_600_001;
    await assert.rejects(expiring.ping(), refused(status.UNAUTHENTICATED));
    await expiring.login("expiring", "a long password");
    await expiring.ping();
    for (const c of [forged, malformed, user, copy, expiring]) c.close();
  });
});
