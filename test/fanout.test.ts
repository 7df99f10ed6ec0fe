import assert from "node:assert/strict";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import { isText, nextMatching, startTestServer, testClient, within } from "./helpers.ts";

test("a reader that stops reading is cut off with RESOURCE_EXHAUSTED; the others are not held up", async () => {
  const server = await startTestServer({ maxQueued: 64 });
  const [flooder, fast, slow] = ["flooder", "fast", "slowpoke"].map((username) =>
    testClient(server, { username }),
  );
  if (!flooder || !fast || !slow) throw new Error("unreachable");
  try {
    for (const client of [flooder, fast, slow]) await client.join();
    const fastSession = fast.openSession();
    const fastEvents = fastSession[Symbol.asyncIterator]();
    await nextMatching(fastEvents, (e) => e.type === "caught_up", "fast live");
    // Never read: the client's own buffer fills, then the connection's flow
    // control windows, then the server's bounded queue for this stream.
    const slowSession = slow.openSession();
    await nextMatching(fastEvents, isText("slowpoke has joined the chat"), "slowpoke's join");

    const text = "x".repeat(4000);
    let sent = 0;
    let cutOff = false;
    // The fast reader counts what it gets while the flood goes on.
    let received = 0;
    // Small batches: a burst larger than the queue bound would cut off a
    // reader that is merely busy, and this test is about one that stopped.
    for (let round = 0; round < 5_000 && !cutOff; round++) {
      await flooder.sendBatch(Array.from({ length: 10 }, () => text));
      sent += 10;
      cutOff = await (async () => {
        for (;;) {
          const next = await within(fastEvents.next(), 5_000, "the fast reader's next event");
          if (next.done) throw new Error("the fast reader's stream ended");
          const e = next.value;
          if (e.type !== "message") continue;
          if (e.message.text === text) {
            received += 1;
            if (received === sent) return false;
          } else if (e.message.text === "slowpoke has left the chat") {
            return true;
          }
        }
      })();
    }
    assert.ok(cutOff, `the slow reader was never cut off after ${sent} messages`);

    // The slow reader now reads what was queued for it, then the reason.
    for await (const _ of slowSession) {
      // drain
    }
    const error = await within(slowSession.ended, 5_000, "the slow session to end");
    assert.equal(error?.code, status.RESOURCE_EXHAUSTED);
    assert.match(error?.message ?? "", /fell more than 64 messages behind.*reconnect to catch up/);

    // Everyone else still gets everything, promptly.
    const ack = await flooder.openSession().send("after the cut");
    const got = await nextMatching(
      fastEvents,
      isText("after the cut"),
      "a message after the cut-off",
    );
    assert.equal(got.type === "message" && got.message.id, ack.id);
    fastSession.close();
  } finally {
    for (const client of [flooder, fast, slow]) client.close();
    await server.stop();
  }
});

test("the server keeps serving while 50 clients join and leave, over and over", async () => {
  const server = await startTestServer();
  const watcher = testClient(server, { username: "watcher" });
  try {
    await watcher.join();
    const watching = watcher.openSession();
    const events = watching[Symbol.asyncIterator]();
    await nextMatching(events, (e) => e.type === "caught_up", "watcher live");
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const client = testClient(server, { username: `churn-${i}` });
          try {
            await client.join();
            const session = client.openSession();
            await nextMatching(
              session[Symbol.asyncIterator](),
              (e) => e.type === "caught_up",
              `churn-${i} live`,
            );
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
    // Every one of the 150 visits was announced as a join and as a leave.
    let joins = 0;
    let leaves = 0;
    await nextMatching(
      events,
      (e) => {
        if (e.type === "message" && /^churn-\d+ has joined the chat$/.test(e.message.text))
          joins += 1;
        if (e.type === "message" && /^churn-\d+ has left the chat$/.test(e.message.text))
          leaves += 1;
        return joins === 150 && leaves === 150;
      },
      "150 joins and 150 leaves",
      15_000,
    ).catch((e) => {
      throw new Error(`${e.message}: saw ${joins} joins and ${leaves} leaves`);
    });

    const late = testClient(server, { username: "late" });
    try {
      await late.join();
      const session = late.openSession();
      const lateEvents = session[Symbol.asyncIterator]();
      const welcome = await nextMatching(lateEvents, (e) => e.type === "welcome", "late's welcome");
      assert.deepEqual(welcome.type === "welcome" && welcome.online, ["late", "watcher"]);
      await nextMatching(lateEvents, (e) => e.type === "caught_up", "late live");
      await session.send("still serving");
      await nextMatching(events, isText("still serving"), "a message after the churn");
      session.close();
    } finally {
      late.close();
    }
    watching.close();
  } finally {
    watcher.close();
    await server.stop();
  }
});
