// The delivery promises under faults: cut connections, a reader that stops,
// more load than the server can fan out, a server killed with SIGKILL.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { ChatClient } from "../src/client/chat-client.ts";
import { LiveChat } from "../src/client/live-chat.ts";
import { NO_ABUSE_LIMITS } from "../src/core/limits.ts";
import { collector, FAST_RETRY, range, sendNumbered } from "./delivery-helpers.ts";
import {
  isCaughtUp,
  liveUser,
  NO_LIMIT_FLAGS,
  nextMatching,
  peakRssMiB,
  startServerProcess,
  startTestServer,
  stopProcess,
  tempDir,
  testClient,
  within,
} from "./helpers.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

/** The overloaded server's old-generation heap limit: what it holds must fit. */
const HEAP_LIMIT_MIB = 128;

/** Senders on their own sessions, each sending `count` numbered texts with a bounded window. */
async function sendAll(senders: ChatClient[], room: string, count: number) {
  await Promise.all(
    senders.map(async (client, s) => {
      const live = new LiveChat(client, { rooms: [], backoff: FAST_RETRY });
      const inFlight = new Set<Promise<unknown>>();
      for (let n = 0; n < count; n++) {
        const p = live.send(`s${s} ${n}`, room).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 50) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      await live.close();
    }),
  );
}

test("receivers whose connections are cut at random get every message once, in order per sender", async () => {
  const server = await startTestServer({ limits: NO_ABUSE_LIMITS });
  const room = "cuts";
  const receivers = await Promise.all(
    range(4).map(async (i) => {
      const proxy = await startTcpProxy(server.address);
      const client = testClient(proxy, { username: `receiver-${i}` });
      const live = new LiveChat(client, { rooms: [{ room }], backoff: FAST_RETRY });
      const got = collector(live);
      return { proxy, client, live, got };
    }),
  );
  const senders = range(3).map((s) => testClient(server, { username: `sender-${s}` }));
  try {
    await Promise.all(receivers.map((r, i) => r.got.live(`receiver ${i} live`)));
    let cuts = 0;
    const cutsOf: number[] = [];
    let sending = true;
    const cutter = (async () => {
      while (sending || cuts < 20) {
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
        // A live receiver that has come back from its last cut: the cut surely
        // breaks a session (not only a connection attempt, which grpc-js would
        // retry by itself, or a session already broken).
        const ready = receivers.filter(
          (r, i) => r.live.state.kind === "live" && r.live.stats.reconnects >= (cutsOf[i] ?? 0),
        );
        const victim = ready[Math.floor(Math.random() * ready.length)];
        if (victim && victim.proxy.cut() > 0) {
          cuts += 1;
          const index = receivers.indexOf(victim);
          cutsOf[index] = (cutsOf[index] ?? 0) + 1;
        }
      }
    })();
    await sendAll(senders, room, 1000);
    sending = false;
    await cutter;
    for (const [i, r] of receivers.entries()) {
      await r.got.reach(3000, 30_000, `receiver ${i}'s messages`);
    }
    assert.ok(cuts >= 20, `only ${cuts} cuts`);
    for (const [i, r] of receivers.entries()) {
      for (let s = 0; s < 3; s++) {
        assert.deepEqual(r.got.bySender.get(`s${s}`), range(1000), `receiver ${i}, sender ${s}`);
      }
      assert.equal(r.live.stats.duplicatesDropped, 0, `receiver ${i} was sent repeats`);
    }
    // A cut just before the last message arrived may be noticed after it.
    for (const [i, r] of receivers.entries()) {
      await r.got.until(
        () => r.live.stats.reconnects >= (cutsOf[i] ?? 0),
        10_000,
        () => `receiver ${i} to notice its ${cutsOf[i]} cuts`,
      );
    }
    const reconnects = receivers.reduce((sum, r) => sum + r.live.stats.reconnects, 0);
    assert.ok(
      reconnects >= cuts,
      `${cuts} cuts of live sessions, but only ${reconnects} reconnects`,
    );
  } finally {
    for (const r of receivers) {
      await r.live.close();
      r.client.close();
      await r.proxy.close();
    }
    for (const s of senders) s.close();
    await server.stop();
  }
});

test("a receiver that stops reading during 20,000 messages gets all of them once it reads again; the others keep up", async () => {
  const server = await startTestServer({
    delivery: { maxQueuedMessages: 256 },
    limits: NO_ABUSE_LIMITS,
  });
  const room = "gap";
  const sleeper = await liveUser(server, "sleeper", { room });
  const awake = await liveUser(server, "awake", { room });
  const sender = await liveUser(server, "sender", { room });
  try {
    await nextMatching(sleeper.events, isCaughtUp, "sleeper live");
    await nextMatching(awake.events, isCaughtUp, "awake live");
    // The sleeper reads nothing from here on; awake reads as it goes.
    let awakeGot = 0;
    const awakeReading = (async () => {
      for (;;) {
        const next = await awake.events.next();
        if (next.done) throw new Error("awake's stream ended");
        if (next.value.type === "message" && ++awakeGot === 20_000) return;
      }
    })();
    const inFlight = new Set<Promise<unknown>>();
    for (let n = 0; n < 20_000; n++) {
      const p = sender.session.send(`m ${n}`, { room }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 200) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await within(awakeReading, 30_000, "the awake reader's 20,000 messages");

    const ids: number[] = [];
    await nextMatching(
      sleeper.events,
      (e) => {
        if (e.type === "message") ids.push(e.message.id);
        return ids.length === 20_000;
      },
      "the sleeper's 20,000 messages",
      60_000,
    );
    const first = ids[0] ?? 0;
    assert.deepEqual(
      ids,
      range(20_000).map((i) => first + i),
      "every message once, in order",
    );
  } finally {
    for (const u of [sleeper, awake, sender]) u.client.close();
    await server.stop();
  }
});

test("overload: 100 receivers, some slower than the senders; nobody is cut off, nothing lost, memory bounded", async (t) => {
  const dir = tempDir();
  // A small queue bound, so that the fan-out outrunning the readers overflows for certain;
  // and a small heap, so that memory that grew with the backlog would end the server.
  const { server, address } = await startServerProcess(
    [
      ...NO_LIMIT_FLAGS,
      "--port",
      "0",
      "--db",
      join(dir.path, "chat.db"),
      "--log-level",
      "warn",
      "--max-queued-messages",
      "32",
    ],
    {},
    [`--max-old-space-size=${HEAP_LIMIT_MIB}`],
  );
  const room = "overload";
  // A quarter of the readers are slower than the senders while they send.
  let sending = true;
  const receivers = range(100).map((i) => {
    const client = testClient({ address }, { username: `r${i}` });
    const live = new LiveChat(client, { rooms: [{ room }] });
    const slowWhile = i % 4 === 0 ? () => sending : undefined;
    return { client, live, got: collector(live, slowWhile ? { slowWhile } : {}) };
  });
  const senders = range(4).map((s) => testClient({ address }, { username: `s${s}` }));
  try {
    await Promise.all(receivers.map((r, i) => r.got.live(`receiver ${i} live`)));
    await sendAll(senders, room, 1000);
    sending = false;
    for (const [i, r] of receivers.entries()) {
      await r.got.reach(4000, 120_000, `receiver ${i}'s messages`);
    }
    // Each return from history to live is another caught_up: proof the overload happened.
    const fellBack = receivers.filter((r) => r.got.caughtUps > 1).length;
    assert.ok(fellBack > 0, "no receiver ever fell behind: the test made no overload");
    for (const [i, r] of receivers.entries()) {
      assert.equal(r.live.stats.reconnects, 0, `receiver ${i} was disconnected`);
      assert.equal(r.live.stats.duplicatesDropped, 0, `receiver ${i} was sent repeats`);
      for (let s = 0; s < 4; s++) {
        assert.deepEqual(r.got.bySender.get(`s${s}`), range(1000), `receiver ${i}, sender ${s}`);
      }
    }
    const peak = peakRssMiB(server.child.pid ?? 0);
    t.diagnostic(
      `${fellBack} receivers fell back to history; server peak RSS ${peak.toFixed(0)} MiB`,
    );
    assert.equal(server.child.exitCode, null, "the server is still running");
    assert.ok(peak < 400, `the server's memory peaked at ${peak.toFixed(0)} MiB`);
  } finally {
    await Promise.all(receivers.map((r) => r.live.close()));
    for (const r of receivers) r.client.close();
    for (const s of senders) s.close();
    await stopProcess(server);
    dir.remove();
  }
});

test("kill -9 under load, restart on the same file: every acknowledged message once, the rest arrive after reconnecting", async () => {
  const dir = tempDir();
  const db = join(dir.path, "chat.db");
  let { server, port, address } = await startServerProcess([
    "--port",
    "0",
    "--db",
    db,
    ...NO_LIMIT_FLAGS,
  ]);
  const room = "crash";
  const receiver = testClient({ address }, { username: "receiver" });
  const watching = new LiveChat(receiver, { rooms: [{ room }], backoff: FAST_RETRY });
  const got = collector(watching);
  const senders = range(2).map((s) => testClient({ address }, { username: `s${s}` }));
  const acked = new Set<string>();
  const halfAcked = Promise.withResolvers<void>();
  try {
    await got.live("the receiver live");
    const sending = senders.map((client, s) =>
      sendNumbered(client, s, room, 2000, (text) => {
        acked.add(text);
        if (acked.size === 1000) halfAcked.resolve();
      }),
    );
    await within(halfAcked.promise, 30_000, "1,000 acknowledged sends");
    server.child.kill("SIGKILL");
    await within(server.exited, 5_000, "the killed server to be gone");
    const ackedBeforeCrash = new Set(acked);
    ({ server } = await startServerProcess([
      "--port",
      String(port),
      "--db",
      db,
      ...NO_LIMIT_FLAGS,
    ]));
    await within(Promise.all(sending), 60_000, "every send to be acknowledged after the restart");
    await got.reach(4000, 60_000, "the receiver's messages");

    const reader = testClient({ address }, { username: "reader" });
    const stored: string[] = [];
    let afterId = 0;
    for (;;) {
      const page = await reader.history({ room, limit: 1000, afterId });
      stored.push(...page.messages.map((m) => m.text));
      afterId = page.messages.at(-1)?.id ?? afterId;
      if (!page.hasMore) break;
    }
    reader.close();
    assert.equal(new Set(stored).size, stored.length, "no message is stored twice");
    for (const text of ackedBeforeCrash) assert.ok(stored.includes(text), `lost: ${text}`);
    assert.equal(stored.length, 4000, "every send is stored, once");
    for (let s = 0; s < 2; s++) assert.deepEqual(got.bySender.get(`s${s}`), range(2000));
    assert.equal(watching.stats.duplicatesDropped, 0);
    // Where it would resume from next: the newest message.
    assert.equal(watching.position(room)?.lastId, afterId);
  } finally {
    await watching.close();
    receiver.close();
    for (const s of senders) s.close();
    await stopProcess(server);
    dir.remove();
  }
});
