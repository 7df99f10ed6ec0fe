import assert from "node:assert/strict";
import { test } from "node:test";
import type { Bus, BusEvent } from "../src/bus/bus.ts";
import { LocalHub } from "../src/bus/local-bus.ts";
import { type Chat, createChat } from "../src/core/chat.ts";
import type { Identity } from "../src/core/types.ts";
import { openSqliteStore } from "../src/store/sqlite-store.ts";
import { alice, bob, carol, type ManualClock, manualClock, TestSink } from "./core-helpers.ts";

// Presence across nodes, in one process: nodes share a store and a LocalHub,
// and one manual clock, so expiry is exact. A node's bus can be cut (it
// neither sends nor hears, as a node killed with kill -9) or made to lose the
// next presence change it sends.

const TICK_MS = 100;
const HEARTBEAT_MS = 1_000;
const EXPIRY_MS = 5_000;
/** A change on one node is sent at its tick and announced on another at that node's next tick. */
const TWO_TICKS = 2 * TICK_MS;

/** A bus that a test can cut, or make lose the next presence change it sends. */
class FaultyBus implements Bus {
  readonly #inner: Bus;
  cut = false;
  loseNextPresence = false;

  constructor(inner: Bus) {
    this.#inner = inner;
  }

  get nodeId(): string {
    return this.#inner.nodeId;
  }
  readonly synchronous = true;
  get connected(): boolean {
    return !this.cut;
  }

  async publish(event: BusEvent): Promise<void> {
    if (this.cut) return;
    if (this.loseNextPresence && "node" in event && event.node.type === "presence") {
      this.loseNextPresence = false;
      return;
    }
    await this.#inner.publish(event);
  }

  onEvent(handler: (event: BusEvent) => void): void {
    this.#inner.onEvent((event) => {
      if (!this.cut) handler(event);
    });
  }

  onReconnect(): void {}

  close(): Promise<void> {
    return this.#inner.close();
  }
}

interface Cluster {
  readonly clock: ManualClock;
  readonly nodes: Chat[];
  readonly buses: FaultyBus[];
  add(): Chat;
  close(): Promise<void>;
}

async function cluster(size: number): Promise<Cluster> {
  const clock = manualClock();
  const store = await openSqliteStore({ path: ":memory:", now: clock.now });
  const hub = new LocalHub();
  const nodes: Chat[] = [];
  const buses: FaultyBus[] = [];
  const add = () => {
    const bus = new FaultyBus(hub.connect());
    const chat = createChat({
      store,
      bus,
      clock,
      presenceTickMs: TICK_MS,
      nodeHeartbeatMs: HEARTBEAT_MS,
      nodeExpiryMs: EXPIRY_MS,
    });
    nodes.push(chat);
    buses.push(bus);
    return chat;
  };
  for (let i = 0; i < size; i++) add();
  return {
    clock,
    nodes,
    buses,
    add,
    async close() {
      for (const chat of nodes) await chat.close();
    },
  };
}

/** The presence events a sink got, as [online?, names] pairs. */
function presenceSeen(sink: TestSink): Array<[boolean, string[]]> {
  return sink.of("presence").map((e) => [e.online, e.users.map((u) => u.username)]);
}

async function joinLobby(chat: Chat, who: Identity, sink = new TestSink()) {
  const stream = await chat.openStream(who, sink);
  await stream.joinRoom("lobby");
  return { stream, sink };
}

test("a user in a room on two nodes is online once, and offline only when gone from both", async () => {
  const { clock, nodes, close } = await cluster(2);
  const [a, b] = nodes as [Chat, Chat];
  try {
    const watcher = await joinLobby(a, carol);
    clock.advance(TWO_TICKS);
    const onA = await joinLobby(a, alice);
    const onB = await joinLobby(b, alice);
    clock.advance(TWO_TICKS);
    assert.deepEqual(presenceSeen(watcher.sink), [[true, ["alice"]]]);
    assert.equal(watcher.sink.of("presence")[0]?.onlineCount, 2);
    // A stream on b sees the users of a as online too.
    const late = await joinLobby(b, bob);
    assert.deepEqual(
      late.sink.of("caught_up")[0]?.online.map((u) => u.username),
      ["alice", "bob", "carol"],
    );
    onA.stream.close();
    clock.advance(TWO_TICKS);
    assert.deepEqual(presenceSeen(watcher.sink), [
      [true, ["alice"]],
      [true, ["bob"]],
    ]);
    onB.stream.close();
    clock.advance(TWO_TICKS);
    assert.deepEqual(presenceSeen(watcher.sink).at(-1), [false, ["alice"]]);
    assert.deepEqual(
      a.rooms.members(undefined, "lobby", 10).members.map((u) => u.username),
      ["bob", "carol"],
    );
  } finally {
    await close();
  }
});

test("a node that dies silently takes its users offline within the expiry, and no sooner", async () => {
  const { clock, nodes, buses, close } = await cluster(2);
  const [a, b] = nodes as [Chat, Chat];
  try {
    const watcher = await joinLobby(a, carol);
    await joinLobby(b, bob);
    clock.advance(TWO_TICKS);
    assert.deepEqual(presenceSeen(watcher.sink), [[true, ["bob"]]]);
    const diedAt = clock.now();
    (buses[1] as FaultyBus).cut = true;
    // Last heard up to a heartbeat before it died, and checked once a heartbeat.
    clock.advance(EXPIRY_MS - HEARTBEAT_MS);
    assert.equal(watcher.sink.of("presence").length, 1, "still online before the expiry");
    clock.advance(2 * HEARTBEAT_MS + TWO_TICKS);
    const gone = watcher.sink.of("presence")[1];
    assert.deepEqual(gone && [gone.online, gone.users.map((u) => u.username)], [false, ["bob"]]);
    assert.ok(
      (gone?.timeMs ?? 0) - diedAt <= EXPIRY_MS + HEARTBEAT_MS + TWO_TICKS,
      "offline within the expiry, a heartbeat and two ticks",
    );
  } finally {
    await close();
  }
});

test("a node that leaves takes its users offline at once, not at expiry", async () => {
  const { clock, nodes, close } = await cluster(2);
  const [a, b] = nodes as [Chat, Chat];
  try {
    const watcher = await joinLobby(a, carol);
    await joinLobby(b, bob);
    clock.advance(TWO_TICKS);
    b.shutdown("The server is restarting.");
    clock.advance(TWO_TICKS);
    assert.deepEqual(presenceSeen(watcher.sink), [
      [true, ["bob"]],
      [false, ["bob"]],
    ]);
  } finally {
    await close();
  }
});

test("a lost presence change is repaired by the next heartbeat", async () => {
  const { clock, nodes, buses, close } = await cluster(2);
  const [a, b] = nodes as [Chat, Chat];
  try {
    const watcher = await joinLobby(a, carol);
    (buses[1] as FaultyBus).loseNextPresence = true;
    const bobs = await joinLobby(b, bob);
    clock.advance(TWO_TICKS);
    assert.deepEqual(presenceSeen(watcher.sink), [], "the change was lost");
    clock.advance(HEARTBEAT_MS + TWO_TICKS);
    assert.deepEqual(presenceSeen(watcher.sink), [[true, ["bob"]]]);
    // And a later change still applies on top of the repaired state.
    bobs.stream.close();
    clock.advance(TWO_TICKS);
    assert.deepEqual(presenceSeen(watcher.sink).at(-1), [false, ["bob"]]);
  } finally {
    await close();
  }
});

test("a node that joins late learns who is online on the others, and they learn its users", async () => {
  const cl = await cluster(2);
  const [a, b] = cl.nodes as [Chat, Chat];
  try {
    await joinLobby(a, alice);
    await joinLobby(b, bob);
    cl.clock.advance(TWO_TICKS);
    const c = cl.add();
    const fresh = await joinLobby(c, carol);
    assert.deepEqual(
      fresh.sink.of("caught_up")[0]?.online.map((u) => u.username),
      ["alice", "bob", "carol"],
    );
    cl.clock.advance(TWO_TICKS);
    assert.deepEqual(
      b.rooms.members(undefined, "lobby", 10).members.map((u) => u.username),
      ["alice", "bob", "carol"],
    );
  } finally {
    await cl.close();
  }
});
