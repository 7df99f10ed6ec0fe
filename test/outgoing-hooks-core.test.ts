// Outgoing hooks in the core, on a manual clock: a message the receiver
// keeps refusing is retried with backoff for an hour, holding back the ones
// behind it, then given up with the reason visible to the bot's owner, and
// delivery goes on with the next.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HookPoster } from "../src/core/outgoing-hooks.ts";
import { alice, testChat, until } from "./core-helpers.ts";

test("a message refused for an hour is given up, and the ones behind it then go, in order", async () => {
  const attempts: string[] = [];
  let attempted: (() => void) | undefined;
  const nextAttempt = () => new Promise<void>((resolve) => (attempted = resolve));
  const poster: HookPoster = async (_url, body) => {
    const { text } = JSON.parse(body) as { text: string };
    attempts.push(text);
    attempted?.();
    if (text === "poison") return { status: 500, contentType: "text/plain", body: "" };
    return { status: 200, contentType: "application/json", body: "{}" };
  };
  const { chat, clock } = await testChat({
    hookPoster: poster,
    hooks: { firstRetryMs: 1_000, pollMs: 2_000, leaseMs: 15_000 },
  });
  try {
    const { bot } = await chat.bots.create(alice, {
      name: "relay",
      rooms: ["ops"],
      read: false,
      outgoingUrl: "http://127.0.0.1:9/hook",
      trigger: "all",
      words: [],
    });
    const state = () => {
      const outgoing = chat.outgoing;
      assert.ok(outgoing, "a chat with a poster has outgoing hooks");
      return outgoing.state(bot.userId);
    };
    let first = nextAttempt();
    await chat.send(alice, { room: "ops", text: "poison" });
    await chat.send(alice, { room: "ops", text: "after it" });
    // Each refusal is recorded before the loop waits out its backoff on the
    // clock: only then may the clock move.
    const refused = async () => {
      await first;
      await until(
        () => attempts.includes("after it") || state().failed === attempts.length,
        "the refusal recorded",
      );
    };
    await refused();
    // Backoff doubles to a minute; each minute brings one more attempt.
    let minutes = 0;
    while (!attempts.includes("after it")) {
      assert.ok(
        minutes <= 62,
        `still retrying after ${minutes} minutes: ${attempts.length} attempts`,
      );
      assert.deepEqual(new Set(attempts), new Set(["poison"]), "nothing behind it goes first");
      first = nextAttempt();
      clock.advance(60_000);
      minutes += 1;
      await refused();
    }
    assert.ok(minutes >= 59, `given up after ${minutes} minutes, not an hour`);
    assert.equal(attempts.at(-1), "after it");
    assert.match(state().lastError, /^gave up on ops #1 after an hour: .* answered HTTP 500$/);
    assert.equal(state().delivered, 1);
    assert.ok(state().failed >= 59);
  } finally {
    chat.shutdown("done");
    await chat.close();
  }
});
