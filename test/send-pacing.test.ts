// The send rate in the core's send path: a paced stream's sends over the
// rate wait their turn, in order; any other send over the rate is refused.
// A real SQLite store in memory and the in-process bus, on a manual clock.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChatError } from "../src/core/chat-error.ts";
import { alice, bob, carol, TestSink, testChat, until } from "./core-helpers.ts";

// One token every 200 ms, two at once.
const limits = { sendRate: 5, sendBurst: 2 };

function texts(sink: TestSink): string[] {
  return sink.of("message").map((p) => p.message.text);
}

test("a paced stream's sends over the rate wait their turn, are held to the rate, and are stored in the order sent", async () => {
  const { chat, clock } = await testChat({ limits });
  const reader = new TestSink();
  await (await chat.openStream(bob, reader)).joinRoom("lobby");
  const paced = await chat.openStream(alice, new TestSink(), { skipOwnUser: true, pace: true });
  const send = (text: string) => paced.send({ room: "lobby", text });
  const sent = ["p0", "p1", "p2", "p3", "p4"].map(send);
  await until(() => texts(reader).length === 2, "the burst");
  // Just before a token is back, none of the waiting sends has gone: a
  // message sent meanwhile by someone else is stored before all of them.
  clock.advance(199);
  await chat.send(carol, { room: "lobby", text: "meanwhile" });
  assert.deepEqual(texts(reader), ["p0", "p1", "meanwhile"]);
  // A token is back, and a send made at that very moment queues behind the
  // ones already waiting instead of taking it.
  clock.advance(1);
  sent.push(send("p5"));
  await until(() => texts(reader).length === 4, "one more, one token later");
  // Time for two tokens: two more, and the last still waits.
  clock.advance(400);
  await until(() => texts(reader).length === 6, "two more, two tokens later");
  await chat.send(carol, { room: "lobby", text: "still waiting" });
  clock.advance(200);
  const results = await Promise.all(sent);
  assert.deepEqual(
    results.map((r) => r.message.text),
    ["p0", "p1", "p2", "p3", "p4", "p5"],
  );
  await until(() => texts(reader).length === 8, "everything delivered");
  assert.deepEqual(texts(reader), [
    "p0",
    "p1",
    "meanwhile",
    "p2",
    "p3",
    "p4",
    "still waiting",
    "p5",
  ]);
  assert.equal(chat.stats.rejectedSends.size, 0, "nothing refused");
  await chat.close();
});

test("a send over the rate that is not on a paced stream is refused, saying when to retry", async () => {
  const { chat } = await testChat({ limits });
  const stream = await chat.openStream(alice, new TestSink());
  await stream.send({ room: "lobby", text: "one" });
  await stream.send({ room: "lobby", text: "two" });
  const overTheRate = (error: unknown) =>
    error instanceof ChatError && error.code === "resource_exhausted" && error.retryAfterMs === 200;
  await assert.rejects(stream.send({ room: "lobby", text: "three" }), overTheRate);
  // The same user's call that is no stream (a unary Send) shares the bucket.
  await assert.rejects(chat.send(alice, { room: "lobby", text: "four" }), overTheRate);
  const { messages } = await chat.rooms.history(alice.userId, {
    room: "lobby",
    limit: 10,
    includeSystem: false,
  });
  assert.deepEqual(
    messages.map((m) => m.text),
    ["one", "two"],
  );
  assert.equal(chat.stats.rejectedSends.get("resource_exhausted"), 2);
  await chat.close();
});
