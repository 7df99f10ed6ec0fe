// The core's delivery by cursor, against a real SQLite store in memory and
// the in-process bus, with time injected: no gRPC.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Bus, BusEvent } from "../src/bus/bus.ts";
import { LocalHub } from "../src/bus/local-bus.ts";
import { createChat } from "../src/core/chat.ts";
import { alice, bob, carol, TestSink, testChat, until } from "./core-helpers.ts";

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("a live stream gets each message once, in order; the sending stream gets none of its own", async () => {
  const { chat } = await testChat();
  const aliceSink = new TestSink();
  const bobSink = new TestSink();
  const aliceStream = await chat.openStream(alice, aliceSink);
  const bobStream = await chat.openStream(bob, bobSink);
  await aliceStream.joinRoom("lobby");
  await bobStream.joinRoom("lobby");
  for (let i = 0; i < 5; i++) await aliceStream.send({ room: "lobby", text: `a${i}` });
  await bobStream.send({ room: "lobby", text: "from bob" });
  assert.deepEqual(bobSink.ids(), [1, 2, 3, 4, 5]);
  assert.deepEqual(aliceSink.ids(), [6]);
  // Skipping her own messages moved alice's cursor: bob's arrived live, no
  // catch-up from the store (which would end with a second caught_up).
  assert.equal(aliceSink.of("caught_up").length, 1);
  await chat.close();
});

test("the same user's second stream gets their messages live", async () => {
  const { chat } = await testChat();
  const phone = new TestSink();
  const laptop = new TestSink();
  const phoneStream = await chat.openStream(alice, phone);
  await phoneStream.joinRoom("lobby");
  await (await chat.openStream(alice, laptop)).joinRoom("lobby");
  await phoneStream.send({ room: "lobby", text: "from the phone" });
  assert.deepEqual(laptop.ids(), [1]);
  assert.deepEqual(phone.ids(), []);
  await chat.close();
});

test("a reader that stops taking falls back to the store and ends with everything once, in order", async () => {
  const { chat } = await testChat({
    delivery: { maxQueuedMessages: 10, maxQueuedBytes: 1 << 20, pageSize: 7 },
  });
  const slow = new TestSink(3);
  const slowStream = await chat.openStream(bob, slow);
  await slowStream.joinRoom("lobby");
  const sender = await chat.openStream(alice, new TestSink());
  for (let i = 1; i <= 100; i++) {
    await sender.send({ room: "lobby", text: `m${i}` });
    // The queue never holds more than its bound, however far behind the reader is.
    assert.ok(slowStream.queued.items <= 10, `queued ${slowStream.queued.items}`);
  }
  assert.ok(slow.ids().length < 100, "the reader cannot have taken everything yet");
  while (slow.ids().length < 100) {
    slow.drain();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(slow.ids(), range(1, 100));
  assert.equal(slow.ended, undefined, "the slow reader was not cut off");
  // Back to live: the next message arrives without another store read.
  slow.capacity = Number.POSITIVE_INFINITY;
  slow.drain();
  await until(() => slow.of("caught_up").length >= 2, "caught up again");
  await sender.send({ room: "lobby", text: "live again" });
  assert.deepEqual(slow.ids().slice(-1), [101]);
  await chat.close();
});

for (const roomTails of [false, undefined] as const) {
  const from = roomTails === false ? "the store" : "memory (the room's tail)";
  test(`resume replays the gap a page at a time, each page only after the reader drained: from ${from}`, async () => {
    const { chat } = await testChat({
      delivery: { maxQueuedMessages: 1024, maxQueuedBytes: 1 << 20, pageSize: 10 },
      roomTails,
    });
    const sender = await chat.openStream(alice, new TestSink());
    for (let i = 1; i <= 45; i++) await sender.send({ room: "lobby", text: `m${i}` });
    const pages = () => chat.stats.replayPages;
    const sink = new TestSink(5);
    await (await chat.openStream(bob, sink)).joinRoom("lobby", 12);
    await until(() => pages() === 1 && sink.ids().length > 0, "the first page");
    // Nothing more is read while the stream is full.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pages(), 1);
    while (sink.of("caught_up").length === 0) {
      sink.drain();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(sink.ids(), range(13, 45));
    assert.equal(pages(), 4, "pages of 10: 13-22, 23-32, 33-42, 43-45");
    const [joined] = sink.of("joined");
    assert.equal(joined?.resume, "resumed");
    assert.equal(sink.of("caught_up")[0]?.lastId, 45);
    await chat.close();
  });
}

test("resume ids: 0 replays from the start, above the newest or another epoch resets", async () => {
  const { chat, store } = await testChat();
  const sender = await chat.openStream(alice, new TestSink());
  for (let i = 1; i <= 3; i++) await sender.send({ room: "lobby", text: `m${i}` });
  const cases = [
    { resume: 0, epoch: "", outcome: "resumed", ids: [1, 2, 3] },
    { resume: 4, epoch: "", outcome: "reset", ids: [] },
    { resume: Number.MAX_SAFE_INTEGER, epoch: "", outcome: "reset", ids: [] },
    { resume: 1, epoch: "not-this-history", outcome: "reset", ids: [] },
    { resume: 1, epoch: store.epoch, outcome: "resumed", ids: [2, 3] },
  ];
  for (const c of cases) {
    const sink = new TestSink();
    await (await chat.openStream(bob, sink)).joinRoom("lobby", c.resume, c.epoch);
    await until(() => sink.of("caught_up").length === 1, "caught up");
    const [joined] = sink.of("joined");
    assert.equal(joined?.resume, c.outcome, JSON.stringify(c));
    assert.equal(joined?.lastId, 3);
    assert.equal(joined?.epoch, store.epoch);
    assert.deepEqual(sink.ids(), c.ids, JSON.stringify(c));
  }
  await chat.close();
});

test("messages removed by retention are reported as a gap, never skipped silently", async () => {
  let pruned: () => void = () => {};
  const prunedNow = new Promise<void>((resolve) => {
    pruned = resolve;
  });
  const { chat, clock } = await testChat({
    retention: { maxPerRoom: 4 },
    retentionIntervalMs: 1_000,
    logger: {
      info: (_, message) => {
        if (message.startsWith("retention removed")) pruned();
      },
      warn: () => {},
    },
  });
  const sender = await chat.openStream(alice, new TestSink());
  for (let i = 1; i <= 10; i++) await sender.send({ room: "lobby", text: `m${i}` });
  // The newest page is in memory now; retention must not leave it there.
  const before = await chat.rooms.history(undefined, {
    room: "lobby",
    limit: 50,
    includeSystem: false,
  });
  assert.equal(before.messages.length, 10);
  clock.advance(1_000);
  await prunedNow;
  const after = await chat.rooms.history(undefined, {
    room: "lobby",
    limit: 50,
    includeSystem: false,
  });
  assert.deepEqual(
    after.messages.map((m) => m.id),
    [7, 8, 9, 10],
  );
  const sink = new TestSink();
  await (await chat.openStream(bob, sink)).joinRoom("lobby", 2);
  await until(() => sink.of("caught_up").length === 1, "caught up");
  assert.deepEqual(sink.of("gap"), [{ type: "gap", room: "lobby", fromId: 3, toId: 6 }]);
  assert.deepEqual(sink.ids(), [7, 8, 9, 10]);
  await chat.close();
});

/** A bus that loses every third event and delivers the rest in pairs, swapped. */
function unreliable(bus: Bus): Bus {
  return {
    nodeId: bus.nodeId,
    synchronous: false,
    connected: true,
    publish: (event) => bus.publish(event),
    close: () => bus.close(),
    onReconnect: () => {},
    onEvent(handler) {
      let count = 0;
      let held: BusEvent | undefined;
      bus.onEvent((event) => {
        // Only room events are made unreliable: this is about messages.
        if ("node" in event) {
          handler(event);
          return;
        }
        count += 1;
        if (count % 3 === 0) return;
        if (!held) {
          held = event;
          return;
        }
        handler(event);
        handler(held);
        held = undefined;
      });
    },
  };
}

test("messages from another node that the bus drops or reorders are filled from the store, never doubled", async () => {
  const hub = new LocalHub();
  const { chat: sending, store } = await testChat({ bus: hub.connect() });
  const receiving = createChat({ store, bus: unreliable(hub.connect()) });
  const sink = new TestSink();
  await (await receiving.openStream(bob, sink)).joinRoom("lobby");
  const sender = await sending.openStream(alice, new TestSink());
  for (let i = 1; i <= 30; i++) await sender.send({ room: "lobby", text: `m${i}` });
  // A lost last message shows only when a later one arrives: send more until it has.
  for (let extra = 0; extra < 10 && !sink.ids().includes(30); extra++) {
    await sender.send({ room: "lobby", text: `extra ${extra}` });
    await until(() => sink.ids().includes(30), "message 30", 100).catch(() => {});
  }
  const ids = sink.ids();
  assert.deepEqual(ids, range(1, ids.length), "in order, no repeats, no holes");
  assert.ok(ids.length >= 30, `got ${ids.length}`);
  await receiving.close();
  await sending.close();
});

test("a topic set on one node reaches the room's streams on another", async () => {
  const hub = new LocalHub();
  const { chat: first, store } = await testChat({ bus: hub.connect() });
  const second = createChat({ store, bus: hub.connect() });
  const sink = new TestSink();
  await (await second.openStream(bob, sink)).joinRoom("lobby");
  await first.rooms.setTopic(alice, "lobby", "Release at five");
  await until(() => sink.of("topic").length > 0, "the topic on the other node");
  assert.deepEqual(
    sink.of("topic").map((e) => e.type === "topic" && [e.room, e.topic, e.by.username]),
    [["lobby", "Release at five", "alice"]],
  );
  await second.close();
  await first.close();
});

test("presence: joins in one tick are one event; a come-and-go within a tick is none", async () => {
  const { chat, clock } = await testChat({ presenceTickMs: 100 });
  const watcher = new TestSink();
  await (await chat.openStream(carol, watcher)).joinRoom("lobby");
  clock.advance(100);
  watcher.received.length = 0;
  const aliceStream = await chat.openStream(alice, new TestSink());
  await aliceStream.joinRoom("lobby");
  await (await chat.openStream(bob, new TestSink())).joinRoom("lobby");
  // Alice's second device changes nothing.
  await (await chat.openStream(alice, new TestSink())).joinRoom("lobby");
  const flicker = await chat.openStream({ userId: "u-dan", username: "dan" }, new TestSink());
  await flicker.joinRoom("lobby");
  flicker.close();
  assert.deepEqual(watcher.of("presence"), [], "nothing before the tick");
  clock.advance(100);
  assert.deepEqual(watcher.of("presence"), [
    {
      type: "presence",
      room: "lobby",
      online: true,
      users: [alice, bob],
      onlineCount: 3,
      timeMs: clock.now(),
    },
  ]);
  aliceStream.close();
  clock.advance(100);
  assert.equal(watcher.of("presence").length, 1, "alice is still online on another device");
  await chat.close();
});

test("presence: rooms above the limit get none; caught_up lists who is online, or only counts them", async () => {
  const { chat, clock } = await testChat({ presenceMaxRoom: 2 });
  const first = new TestSink();
  await (await chat.openStream(alice, first)).joinRoom("lobby");
  const second = new TestSink();
  await (await chat.openStream(bob, second)).joinRoom("lobby");
  assert.deepEqual(second.of("caught_up")[0]?.online, [alice, bob]);
  clock.advance(250);
  assert.equal(first.of("presence").length, 1, "bob's join, in a room of 2");
  const third = new TestSink();
  await (await chat.openStream(carol, third)).joinRoom("lobby");
  clock.advance(250);
  assert.equal(first.of("presence").length, 1, "no presence in a room of 3");
  assert.deepEqual(third.of("caught_up")[0]?.online, []);
  assert.equal(third.of("caught_up")[0]?.onlineCount, 3);
  assert.deepEqual(chat.rooms.members(undefined, "lobby", 2).members, [alice, bob]);
  await chat.close();
});

test("a join the store cannot serve leaves no member and no presence behind", async () => {
  const { chat, store, clock } = await testChat();
  const watcher = new TestSink();
  await (await chat.openStream(carol, watcher)).joinRoom("lobby");
  const lastId = store.lastId.bind(store);
  store.lastId = async () => {
    const { StoreUnavailableError } = await import("../src/store/store.ts");
    throw new StoreUnavailableError("The database is locked by another program.");
  };
  const sink = new TestSink();
  const stream = await chat.openStream(alice, sink);
  await assert.rejects(stream.joinRoom("lobby"), { code: "unavailable" });
  clock.advance(1_000);
  assert.deepEqual(chat.rooms.members(undefined, "lobby", 10).members, [carol]);
  assert.deepEqual(watcher.of("presence"), []);
  store.lastId = lastId;
  // The stream goes on: a retried join works.
  await stream.joinRoom("lobby");
  assert.equal(sink.of("joined").length, 1);
  await chat.close();
});

test("a stream whose reader takes nothing for the reader timeout is ended; one that takes a little is not", async () => {
  const { chat, clock } = await testChat({ readerTimeoutMs: 10_000 });
  const stuck = new TestSink(1);
  const slow = new TestSink(1);
  await (await chat.openStream(bob, stuck)).joinRoom("lobby");
  await (await chat.openStream(carol, slow)).joinRoom("lobby");
  const sender = await chat.openStream(alice, new TestSink());
  for (let i = 0; i < 20; i++) await sender.send({ room: "lobby", text: `m${i}` });
  for (let s = 0; s < 12; s++) {
    clock.advance(1_000);
    slow.drain();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(stuck.ended?.error?.code, "resource_exhausted");
  assert.match(stuck.ended?.error?.message ?? "", /read nothing for 10 s/);
  assert.equal(slow.ended, undefined);
  await chat.close();
});

test("leaving a room stops its messages at once; a session has a room limit", async () => {
  const { chat } = await testChat({ limits: { maxRooms: 2 } });
  const sink = new TestSink(1);
  const stream = await chat.openStream(bob, sink);
  await stream.joinRoom("a");
  await stream.joinRoom("b");
  await assert.rejects(stream.joinRoom("c"), { code: "resource_exhausted" });
  const sender = await chat.openStream(alice, new TestSink());
  for (let i = 0; i < 5; i++) await sender.send({ room: "a", text: `m${i}` });
  stream.leaveRoom("a");
  sink.capacity = Number.POSITIVE_INFINITY;
  sink.drain();
  await sender.send({ room: "a", text: "after leaving" });
  assert.ok(!sink.ids("a").includes(6));
  assert.deepEqual(sink.of("left"), [{ type: "left", room: "a", reason: "" }]);
  await stream.joinRoom("c");
  await chat.close();
});

test("retention runs on the clock and removes what is older than the limit, reported as a gap", async () => {
  const removed = Promise.withResolvers<number>();
  const { chat, clock } = await testChat({
    retention: { maxAgeMs: 60_000 },
    retentionIntervalMs: 1_000,
    logger: {
      info: (details: { removed?: number }) => removed.resolve(details.removed ?? 0),
      warn: (details: object) => removed.reject(new Error(JSON.stringify(details))),
    },
  });
  const sender = await chat.openStream(alice, new TestSink());
  for (let i = 1; i <= 3; i++) await sender.send({ room: "lobby", text: `old ${i}` });
  clock.advance(30_000);
  await sender.send({ room: "lobby", text: "newer" });
  clock.advance(31_000);
  assert.equal(await removed.promise, 3);
  const sink = new TestSink();
  await (await chat.openStream(bob, sink)).joinRoom("lobby", 0);
  await until(() => sink.of("caught_up").length === 1, "caught up");
  assert.deepEqual(sink.of("gap"), [{ type: "gap", room: "lobby", fromId: 1, toId: 3 }]);
  assert.deepEqual(sink.ids(), [4]);
  await chat.close();
});
