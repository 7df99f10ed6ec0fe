import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "../src/core/clock.ts";
import type { NewMessage } from "../src/core/types.ts";
import type { Store } from "../src/store/store.ts";

/** A clock that only moves when told to. */
export function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

const message = (room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  room,
  userId: "u1",
  username: "una",
  text,
  kind: "chat",
  clientMsgId: "",
  ...extra,
});

/**
 * What every Store must do, run against a real engine. `open` returns a
 * fresh, empty store using the given clock.
 */
export function storeContract(name: string, open: (clock: Clock) => Promise<Store>): void {
  const withStore = async (
    body: (store: Store, clock: ReturnType<typeof manualClock>) => Promise<void>,
  ) => {
    const clock = manualClock();
    const store = await open(clock);
    try {
      await body(store, clock);
    } finally {
      await store.close();
    }
  };

  test(`${name}: ids count up from 1 in each room, times come from the clock`, () =>
    withStore(async (store, clock) => {
      const [a] = await store.append([message("r1", "a")]);
      clock.advance(5);
      const [b, c] = await store.append([message("r1", "b"), message("r1", "c")]);
      const [x] = await store.append([message("r2", "x")]);
      assert.deepEqual(
        [a, b, c, x].map((r) => r?.message.id),
        [1, 2, 3, 1],
      );
      assert.equal(a?.message.timeMs, 1_700_000_000_000);
      assert.equal(b?.message.timeMs, 1_700_000_000_005);
      assert.equal(await store.lastId("r1"), 3);
      assert.equal(await store.lastId("empty"), 0);
    }));

  test(`${name}: history is newest first, limited, filtered and paged by id`, () =>
    withStore(async (store) => {
      await store.append([
        message("r", "one"),
        message("r", "joined", { kind: "system", userId: "system", username: "System" }),
        message("r", "two"),
        message("r", "three"),
      ]);
      const texts = async (options: Parameters<Store["history"]>[1]) =>
        (await store.history("r", options)).map((m) => m.text);
      assert.deepEqual(await texts({ limit: 10, includeSystem: true }), [
        "three",
        "two",
        "joined",
        "one",
      ]);
      assert.deepEqual(await texts({ limit: 10, includeSystem: false }), ["three", "two", "one"]);
      assert.deepEqual(await texts({ limit: 2, includeSystem: false }), ["three", "two"]);
      assert.deepEqual(await texts({ limit: 10, includeSystem: true, beforeId: 3 }), [
        "joined",
        "one",
      ]);
      const [stored] = await store.history("r", { limit: 1, includeSystem: true });
      assert.deepEqual(stored, {
        room: "r",
        id: 4,
        timeMs: 1_700_000_000_000,
        userId: "u1",
        username: "una",
        text: "three",
        kind: "chat",
        clientMsgId: "",
      });
    }));

  test(`${name}: after() returns the gap oldest first`, () =>
    withStore(async (store) => {
      await store.append(["a", "b", "c", "d"].map((t) => message("r", t)));
      assert.deepEqual(
        (await store.after("r", 1, 2)).map((m) => m.text),
        ["b", "c"],
      );
      assert.deepEqual(await store.after("r", 4, 10), []);
    }));

  test(`${name}: a repeated client_msg_id from the same user in the same room is stored once`, () =>
    withStore(async (store) => {
      const [first] = await store.append([message("r", "hello", { clientMsgId: "k1" })]);
      const [again] = await store.append([message("r", "hello again", { clientMsgId: "k1" })]);
      const [otherUser] = await store.append([
        message("r", "hi", { clientMsgId: "k1", userId: "u2" }),
      ]);
      const [otherRoom] = await store.append([message("s", "hi", { clientMsgId: "k1" })]);
      assert.equal(first?.duplicate, false);
      assert.equal(again?.duplicate, true);
      assert.equal(again?.message.id, first?.message.id);
      assert.equal(again?.message.text, "hello");
      assert.equal(otherUser?.duplicate, false);
      assert.equal(otherRoom?.duplicate, false);
      assert.equal(await store.lastId("r"), 2);
    }));

  test(`${name}: a batch that fails is stored not at all, and ids stay gapless`, () =>
    withStore(async (store) => {
      await store.append([message("r", "before")]);
      const bad = { ...message("r", "bad"), text: null as unknown as string };
      await assert.rejects(store.append([message("r", "ok"), bad]));
      assert.deepEqual(
        (await store.history("r", { limit: 10, includeSystem: true })).map((m) => m.text),
        ["before"],
      );
      const [next] = await store.append([message("r", "next")]);
      assert.equal(next?.message.id, 2);
    }));
}
