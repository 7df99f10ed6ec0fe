// Typing in the core, on a manual clock: coalesced per tick, expiring after
// silence, cleared by a message, rate-limited per user, never in big rooms.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChatError } from "../src/core/chat-error.ts";
import { alice, bob, carol, TestSink, testChat, until } from "./core-helpers.ts";

const names = (sink: TestSink) =>
  sink.of("typing").map((t) => t.typing.map((u) => u.username).join(","));

test("typing is told once per tick per room, expires after silence, and a message clears it", async () => {
  const { chat, clock } = await testChat({ typingExpiryMs: 3_000 });
  const reader = new TestSink();
  await (await chat.openStream(carol, reader)).joinRoom("lobby");
  chat.typing(alice, "lobby", false);
  chat.typing(bob, "lobby", false);
  chat.typing(alice, "lobby", false);
  assert.deepEqual(names(reader), [], "nothing before the tick");
  clock.advance(100);
  assert.deepEqual(names(reader), ["alice,bob"], "both, in one event");

  clock.advance(1_000);
  chat.typing(alice, "lobby", false);
  clock.advance(2_000);
  assert.deepEqual(names(reader), ["alice,bob", "alice"], "bob's silence ran out, alice refreshed");

  await chat.send(alice, { room: "lobby", text: "done typing" });
  clock.advance(100);
  assert.deepEqual(names(reader).at(-1), "", "her message ends her typing");
  clock.advance(10_000);
  assert.equal(reader.of("typing").length, 3, "nothing changes, nothing is told");
});

test("typing past the user's rate is refused; in a room above the presence bound none is told", async () => {
  const { chat, clock } = await testChat({ presenceMaxRoom: 1 });
  for (let i = 0; i < 5; i++) chat.typing(alice, "small", false);
  assert.throws(
    () => chat.typing(alice, "small", false),
    (error: unknown) => error instanceof ChatError && error.code === "resource_exhausted",
  );
  chat.typing(alice, "small", true);

  const [first, second] = [new TestSink(), new TestSink()];
  await (await chat.openStream(bob, first)).joinRoom("big");
  await (await chat.openStream(carol, second)).joinRoom("big");
  clock.advance(100);
  await until(() => chat.rooms.members(undefined, "big", 10).onlineCount === 2, "two online");
  chat.typing(bob, "big", false);
  clock.advance(1_000);
  assert.deepEqual(second.of("typing"), []);
});
