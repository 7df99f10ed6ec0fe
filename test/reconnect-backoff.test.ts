// A link that drops often: every time the client is back in its rooms it
// counts as healthy, so the next drop costs one short wait, not a longer one.
import assert from "node:assert/strict";
import { type AddressInfo, createServer } from "node:net";
import { test } from "node:test";
import { LiveChat } from "../src/client/live-chat.ts";
import { NO_ABUSE_LIMITS } from "../src/core/limits.ts";
import { range } from "./delivery-helpers.ts";
import { startTestServer, testClient, within } from "./helpers.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

const CUTS = 20;
const CUT_EVERY_MS = 1_000;

test("a stream cut 20 times in 20 s: the client is back within 1 s of each cut, with every message once", async () => {
  const server = await startTestServer({ limits: NO_ABUSE_LIMITS });
  const proxy = await startTcpProxy(server.address);
  const room = "flaky";
  // The client's own backoff: its defaults are what is being tested.
  const flaky = testClient(proxy, { username: "flaky" });
  const live = new LiveChat(flaky, { rooms: [{ room }] });
  const steady = testClient(server, { username: "steady" });
  const sender = new LiveChat(steady, { rooms: [] });
  const got: number[] = [];
  const waits: { attempt: number; inMs: number }[] = [];
  let liveAt = 0;
  let wake = () => {};
  const reading = (async () => {
    for await (const event of live) {
      if (event.type === "state" && event.state.kind === "reconnecting") waits.push(event.state);
      if (event.type === "state" && event.state.kind === "live") liveAt = performance.now();
      if (event.type === "message" && event.message.room === room)
        got.push(Number(event.message.text));
      wake();
    }
  })();
  /** Resolves once the client is live again after `since`. */
  const backAfter = (since: number) =>
    new Promise<void>((resolve) => {
      wake = () => {
        if (liveAt > since && live.state.kind === "live") resolve();
      };
      wake();
    });
  try {
    await within(backAfter(-1), 10_000, "the client to go live");
    let sending = true;
    let sent = 0;
    const sends = (async () => {
      while (sending) {
        await sender.send(String(sent), room);
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const backIn: number[] = [];
    for (let i = 0; i < CUTS; i++) {
      const cutAt = performance.now();
      assert.ok(proxy.cut() > 0, `cut ${i + 1} found no connection`);
      await within(backAfter(cutAt), 10_000, `the client back after cut ${i + 1}`);
      backIn.push(liveAt - cutAt);
      const rest = CUT_EVERY_MS - (performance.now() - cutAt);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
    sending = false;
    await sends;
    await within(
      new Promise<void>((resolve) => {
        wake = () => {
          if (got.length >= sent) resolve();
        };
        wake();
      }),
      10_000,
      "every message sent",
    );
    assert.equal(waits.length, CUTS, "one reconnect a cut");
    assert.deepEqual(
      waits.filter((w) => w.attempt !== 1 || w.inMs > 500),
      [],
      "every wait was the first, short one",
    );
    const slow = backIn.filter((ms) => ms > 1_000);
    assert.deepEqual(
      slow,
      [],
      `back within 1 s of each cut: ${backIn.map(Math.round).join(", ")} ms`,
    );
    assert.deepEqual(got, range(sent), "every message once, in order");
  } finally {
    await live.close();
    await reading;
    await sender.close();
    flaky.close();
    steady.close();
    await proxy.close();
    await server.stop();
  }
});

test("a server that never lets the session go live: the waits keep growing", async () => {
  // Accepts each connection and drops it at once, as a server failing every resume looks.
  const refuser = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => refuser.listen(0, "127.0.0.1", resolve));
  const { port } = refuser.address() as AddressInfo;
  const client = testClient({ address: `127.0.0.1:${port}` }, { username: "hopeful" });
  const live = new LiveChat(client, { rooms: [{ room: "lobby" }] });
  const waits: { attempt: number; inMs: number }[] = [];
  try {
    await within(
      (async () => {
        for await (const event of live) {
          if (event.type === "state" && event.state.kind === "reconnecting") {
            waits.push(event.state);
            if (waits.length === 3) return;
          }
        }
      })(),
      10_000,
      "three reconnects",
    );
    assert.deepEqual(
      waits.map((w) => w.attempt),
      [1, 2, 3],
    );
    // Each wait is between half and all of 500 ms, 1 s, 2 s.
    assert.ok(waits[2] !== undefined && waits[2].inMs >= 1_000, `third wait ${waits[2]?.inMs} ms`);
  } finally {
    await live.close();
    client.close();
    await new Promise((resolve) => refuser.close(resolve));
  }
});
