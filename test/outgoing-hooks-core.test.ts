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
    const sentMs = clock.now();
    const first = nextAttempt();
    await chat.send(alice, { room: "ops", text: "poison" });
    await chat.send(alice, { room: "ops", text: "after it" });
    await first;
    // A second at a time until the next attempt: the loop sets its backoff
    // timer after it has stored the failure, which a test cannot see, so the
    // clock moves on until the timer it set has fired.
    let afterItMs = 0;
    while (afterItMs === 0) {
      assert.ok(clock.now() - sentMs <= 3_700_000, `still retrying: ${attempts.length} attempts`);
      assert.deepEqual(new Set(attempts), new Set(["poison"]), "nothing behind it goes first");
      const before = attempts.length;
      clock.advance(1_000);
      await until(() => attempts.length > before, "an attempt", 20).catch(() => undefined);
      if (attempts.includes("after it")) afterItMs = clock.now();
    }
    const waitedMs = afterItMs - sentMs;
    assert.ok(
      waitedMs >= 3_600_000 && waitedMs <= 3_600_000 + 62_000,
      `the next went ${waitedMs} ms later, not an hour`,
    );
    // 1, 2, 4 ... 32 s, then a minute apart: about 64 tries in the hour.
    const tries = attempts.filter((text) => text === "poison").length;
    assert.ok(tries >= 55 && tries <= 70, `${tries} attempts`);
    assert.equal(attempts.at(-1), "after it");
    assert.match(state().lastError, /^gave up on ops #1 after an hour: .* answered HTTP 500$/);
    assert.equal(state().delivered, 1);
    assert.equal(state().failed, tries);
  } finally {
    chat.shutdown("done");
    await chat.close();
  }
});
