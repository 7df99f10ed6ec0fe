import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_ABUSE_LIMITS } from "../src/core/limits.ts";
import {
  isCaughtUp,
  isText,
  liveUser,
  nextMatching,
  startTestServer,
  testClient,
  within,
} from "./helpers.ts";

test("the server keeps serving while 50 clients join and leave, over and over; presence settles", async () => {
  // Fifty clients from one address, joining over and over: more than the
  // per-address sign-in limit is meant to let through.
  const server = await startTestServer({ presenceTickMs: 50, limits: NO_ABUSE_LIMITS });
  const watcher = await liveUser(server, "watcher");
  try {
    await nextMatching(watcher.events, isCaughtUp, "watcher live");
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const client = testClient(server, { username: `churn-${i}` });
          try {
            await client.join();
            const session = client.openSession();
            await session.join("lobby");
            await nextMatching(session[Symbol.asyncIterator](), isCaughtUp, `churn-${i} live`);
            if (i % 2 === 0) {
              session.close();
              await within(session.ended, 5_000, `churn-${i} to leave`);
            }
          } finally {
            // Odd ones vanish without saying goodbye.
            client.close();
          }
        }),
      );
    }
    // Coalesced per tick, a visit may go unannounced; but whoever was
    // announced online is announced offline again, and nobody is left over.
    const online = new Set<string>();
    const late = await liveUser(server, "late");
    await nextMatching(
      watcher.events,
      (e) => {
        if (e.type !== "presence") return false;
        for (const m of e.joined) online.add(m.username);
        for (const m of e.left) online.delete(m.username);
        return online.size === 1 && online.has("late");
      },
      "presence to settle with only late online",
      15_000,
    ).catch((e) => {
      throw new Error(`${e.message}: online per presence: ${[...online].join(", ")}`);
    });
    const caughtUp = await nextMatching(late.events, isCaughtUp, "late live");
    assert.deepEqual(caughtUp.type === "caught_up" && caughtUp.online.map((m) => m.username), [
      "late",
      "watcher",
    ]);
    await late.session.send("still serving");
    await nextMatching(watcher.events, isText("still serving"), "a message after the churn");
    late.client.close();
  } finally {
    watcher.client.close();
    await server.stop();
  }
});
