import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Account,
  type AppendResult,
  type NewMessage,
  type Store,
  StoreUnavailableError,
  type TokenRecord,
} from "../src/store/store.ts";
import { changeContract } from "./store-changes-contract.ts";

export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

/** A clock that only moves when told to (backwards too, as a real clock may). */
export function manualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

const T0 = 1_700_000_000_000;

const message = (room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  room,
  userId: "u1",
  username: "una",
  text,
  kind: "chat",
  clientMsgId: "",
  ...extra,
});

const account = (name: string, extra: Partial<Account> = {}): Account => ({
  userId: `a-${name}`,
  username: name,
  nameKey: name.toLowerCase(),
  passwordHash: `$scrypt$N=16384,r=8,p=1$salt-${name}$hash-${name}`,
  createdMs: T0,
  ...extra,
});

const token = (hash: string, userId: string, expiresMs: number): TokenRecord => ({
  tokenHash: hash.repeat(64).slice(0, 64),
  userId,
  expiresMs,
});

/** A message the store must refuse: text is NOT NULL. */
const bad = (room: string): NewMessage => ({
  ...message(room, "bad"),
  text: null as unknown as string,
});

/**
 * What every Store must do, run against a real engine. `open` returns a
 * fresh, empty store whose times come from `now`.
 */
export function storeContract(name: string, open: (now: () => number) => Promise<Store>): void {
  const withStore = async (body: (store: Store, clock: ManualClock) => Promise<void>) => {
    const clock = manualClock(T0);
    const store = await open(clock.now);
    try {
      await body(store, clock);
    } finally {
      await store.close();
    }
  };
  const ids = (messages: readonly { id: number }[]) => messages.map((m) => m.id);
  const texts = (messages: readonly { text: string }[]) => messages.map((m) => m.text);
  const everything = { limit: 10_000, includeSystem: true };

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
      assert.equal(a?.message.timeMs, T0);
      assert.equal(b?.message.timeMs, T0 + 5);
      assert.equal(c?.message.timeMs, T0 + 5);
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
      const history = async (options: Parameters<Store["history"]>[1]) =>
        texts(await store.history("r", options));
      assert.deepEqual(await history({ limit: 10, includeSystem: true }), [
        "three",
        "two",
        "joined",
        "one",
      ]);
      assert.deepEqual(await history({ limit: 10, includeSystem: false }), ["three", "two", "one"]);
      assert.deepEqual(await history({ limit: 2, includeSystem: false }), ["three", "two"]);
      assert.deepEqual(await history({ limit: 10, includeSystem: true, beforeId: 3 }), [
        "joined",
        "one",
      ]);
      const [stored] = await store.history("r", { limit: 1, includeSystem: true });
      assert.deepEqual(stored, {
        room: "r",
        id: 4,
        timeMs: T0,
        userId: "u1",
        username: "una",
        text: "three",
        kind: "chat",
        clientMsgId: "",
      });
    }));

  test(`${name}: after() pages forward oldest first, with nothing pruned`, () =>
    withStore(async (store) => {
      await store.append([
        message("r", "a"),
        message("r", "joined", { kind: "system", userId: "system", username: "System" }),
        message("r", "b"),
        message("r", "c"),
      ]);
      await store.append([message("other", "elsewhere")]);
      const first = await store.after("r", 0, 2);
      assert.deepEqual(texts(first.messages), ["a", "joined"]);
      assert.equal(first.prunedThrough, 0);
      const second = await store.after("r", 2, 2);
      assert.deepEqual(ids(second.messages), [3, 4]);
      assert.deepEqual(await store.after("r", 4, 10), { messages: [], prunedThrough: 0 });
      const chat = await store.after("r", 0, 2, false);
      assert.deepEqual(texts(chat.messages), ["a", "b"]);
      assert.deepEqual(texts((await store.after("r", 1, 10, false)).messages), ["b", "c"]);
      assert.deepEqual(await store.after("nowhere", 0, 10), { messages: [], prunedThrough: 0 });
    }));

  test(`${name}: a repeated client_msg_id from the same user in the same room is stored once`, () =>
    withStore(async (store) => {
      const [first] = await store.append([message("r", "hello", { clientMsgId: "k1" })]);
      const [again] = await store.append([message("r", "hello again", { clientMsgId: "k1" })]);
      const [otherUser] = await store.append([
        message("r", "hi", { clientMsgId: "k1", userId: "u2" }),
      ]);
      const [otherRoom] = await store.append([message("s", "hi", { clientMsgId: "k1" })]);
      const [inOneCall, repeatInCall] = await store.append([
        message("r", "once", { clientMsgId: "k2" }),
        message("r", "twice", { clientMsgId: "k2" }),
      ]);
      assert.equal(first?.duplicate, false);
      assert.equal(again?.duplicate, true);
      assert.equal(again?.message.id, first?.message.id);
      assert.equal(again?.message.text, "hello");
      assert.equal(otherUser?.duplicate, false);
      assert.equal(otherRoom?.duplicate, false);
      assert.equal(inOneCall?.duplicate, false);
      assert.equal(repeatInCall?.duplicate, true);
      assert.deepEqual(repeatInCall?.message, inOneCall?.message);
      assert.equal(await store.lastId("r"), 3);
    }));

  test(`${name}: a batch that fails is stored not at all, and ids stay gapless`, () =>
    withStore(async (store) => {
      await store.append([message("r", "before")]);
      await assert.rejects(store.append([message("r", "ok"), bad("r")]));
      assert.deepEqual(texts(await store.history("r", everything)), ["before"]);
      assert.equal(await store.lastId("r"), 1);
      const [next] = await store.append([message("r", "next")]);
      assert.equal(next?.message.id, 2);
    }));

  test(`${name}: a call that fails among others arriving together fails alone`, () =>
    withStore(async (store) => {
      const outcomes = await Promise.allSettled([
        store.append([message("r", "first")]),
        store.append([message("r", "second")]),
        store.append([message("r", "ok"), bad("r")]),
        store.append([message("r", "third")]),
        store.append([message("s", "elsewhere")]),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"],
      );
      assert.deepEqual(texts(await store.history("r", everything)), ["third", "second", "first"]);
      assert.equal(await store.lastId("r"), 3);
      assert.equal(await store.lastId("s"), 1);
    }));

  test(`${name}: concurrent appends all land, in call order, gapless, duplicates folded`, () =>
    withStore(async (store) => {
      // 200 calls on two rooms; every 7th reuses one of three keys, and one
      // call carries the same key twice.
      const calls: NewMessage[][] = [];
      for (let i = 0; i < 200; i++) {
        const room = i % 2 === 0 ? "even" : "odd";
        const clientMsgId = i % 7 === 0 ? `key-${i % 3}` : `once-${i}`;
        calls.push([message(room, `m${i}`, { clientMsgId })]);
      }
      calls.push([
        message("even", "pair-1", { clientMsgId: "pair" }),
        message("even", "pair-2", { clientMsgId: "pair" }),
      ]);
      const results = await Promise.all(calls.map((call) => store.append(call)));

      // What a store taking the calls one by one, in order, would answer.
      const next = new Map<string, number>();
      const firstByKey = new Map<string, { id: number; text: string }>();
      const expected = calls.map((call) =>
        call.map((m) => {
          const key = `${m.room}/${m.userId}/${m.clientMsgId}`;
          const first = firstByKey.get(key);
          if (first) return { id: first.id, text: first.text, duplicate: true };
          const id = (next.get(m.room) ?? 0) + 1;
          next.set(m.room, id);
          firstByKey.set(key, { id, text: m.text });
          return { id, text: m.text, duplicate: false };
        }),
      );
      const actual = results.map((call: AppendResult[]) =>
        call.map((r) => ({ id: r.message.id, text: r.message.text, duplicate: r.duplicate })),
      );
      assert.deepEqual(actual, expected);
      assert.ok(actual.flat().some((r) => r.duplicate));
      for (const room of ["even", "odd"]) {
        const stored = (await store.after(room, 0, 1_000)).messages;
        const count = next.get(room) ?? 0;
        assert.deepEqual(
          ids(stored),
          Array.from({ length: count }, (_, i) => i + 1),
        );
        assert.equal(await store.lastId(room), count);
      }
    }));

  test(`${name}: one bad call among concurrent good ones fails alone and leaves no gap`, () =>
    withStore(async (store) => {
      const settled = await Promise.allSettled([
        store.append([message("r", "g1")]),
        store.append([message("r", "g2")]),
        store.append([message("r", "lost"), bad("r")]),
        store.append([message("r", "g3"), message("r", "g4")]),
        store.append([message("r", "g5")]),
      ]);
      assert.deepEqual(
        settled.map((s) => s.status),
        ["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"],
      );
      const rejected = settled[2] as PromiseRejectedResult;
      assert.ok(!(rejected.reason instanceof StoreUnavailableError), String(rejected.reason));
      const stored = (await store.after("r", 0, 100)).messages;
      assert.deepEqual(texts(stored), ["g1", "g2", "g3", "g4", "g5"]);
      assert.deepEqual(ids(stored), [1, 2, 3, 4, 5]);
      const [next] = await store.append([message("r", "g6")]);
      assert.equal(next?.message.id, 6);
    }));

  test(`${name}: prune by maxPerRoom keeps each room's newest, and ids go on`, () =>
    withStore(async (store) => {
      await store.append(Array.from({ length: 10 }, (_, i) => message("big", `b${i + 1}`)));
      await store.append([message("small", "s1"), message("small", "s2")]);
      assert.equal(await store.prune({ maxPerRoom: 4 }), 6);
      assert.deepEqual(ids(await store.history("big", everything)), [10, 9, 8, 7]);
      assert.deepEqual(ids(await store.history("small", everything)), [2, 1]);
      const page = await store.after("big", 0, 100);
      assert.deepEqual(ids(page.messages), [7, 8, 9, 10]);
      assert.equal(page.prunedThrough, 6);
      assert.equal((await store.after("small", 0, 100)).prunedThrough, 0);
      assert.equal(await store.lastId("big"), 10);

      const [eleventh] = await store.append([message("big", "b11")]);
      assert.equal(eleventh?.message.id, 11);
      assert.equal(await store.prune({ maxPerRoom: 4 }), 1);
      assert.equal(await store.prune({ maxPerRoom: 4 }), 0);
      assert.equal((await store.after("big", 0, 100)).prunedThrough, 7);

      // Emptying a room does not free its ids.
      assert.equal(await store.prune({ maxPerRoom: 0 }), 6);
      assert.deepEqual(await store.after("big", 0, 100), { messages: [], prunedThrough: 11 });
      assert.equal(await store.lastId("big"), 11);
      const [twelfth] = await store.append([message("big", "b12")]);
      assert.equal(twelfth?.message.id, 12);
      assert.equal(await store.prune({}), 0);
    }));

  test(`${name}: prune by age removes each room's oldest run, stopping at the first newer`, () =>
    withStore(async (store, clock) => {
      await store.append([message("a", "a1"), message("a", "a2"), message("b", "b1")]);
      clock.advance(10);
      await store.append([message("a", "a3")]);
      clock.advance(10);
      await store.append([message("a", "a4"), message("b", "b2")]);
      // The clock stepped back: c2 and c3 are older than c1, but the walk
      // stops at c1, the first message it keeps.
      await store.append([message("c", "c1")]);
      clock.advance(-20);
      await store.append([message("c", "c2")]);
      clock.advance(-5);
      await store.append([message("c", "c3")]);

      assert.equal(await store.prune({ olderThanMs: T0 + 10 }), 3);
      assert.deepEqual(texts(await store.history("a", everything)), ["a4", "a3"]);
      assert.deepEqual(texts(await store.history("b", everything)), ["b2"]);
      assert.deepEqual(texts(await store.history("c", everything)), ["c3", "c2", "c1"]);
      assert.equal((await store.after("a", 0, 10)).prunedThrough, 2);
      assert.equal((await store.after("b", 0, 10)).prunedThrough, 1);
      assert.equal((await store.after("c", 0, 10)).prunedThrough, 0);

      assert.equal(await store.prune({ olderThanMs: T0 + 21 }), 6);
      assert.deepEqual(await store.after("a", 0, 10), { messages: [], prunedThrough: 4 });
      assert.deepEqual(await store.after("c", 0, 10), { messages: [], prunedThrough: 3 });
      const [next] = await store.append([message("a", "a5")]);
      assert.equal(next?.message.id, 5);
    }));

  test(`${name}: listRooms lists rooms by name, each with its newest message's id and time`, () =>
    withStore(async (store, clock) => {
      assert.deepEqual(await store.listRooms({ limit: 10 }), []);
      await store.append([message("beta", "b1"), message("alpha", "a1"), message("alpha", "a2")]);
      clock.advance(5);
      await store.append([message("beta", "b2")]);
      clock.advance(5);
      await store.append([
        message("Zeta", "z1"),
        message("beta", "joined", { kind: "system", userId: "system", username: "System" }),
      ]);
      assert.deepEqual(await store.listRooms({ limit: 10 }), [
        { room: "Zeta", lastId: 1, lastTimeMs: T0 + 10, topic: "" },
        { room: "alpha", lastId: 2, lastTimeMs: T0, topic: "" },
        { room: "beta", lastId: 3, lastTimeMs: T0 + 10, topic: "" },
      ]);
      assert.deepEqual(await store.listRooms({ limit: 0 }), []);
    }));

  test(`${name}: listRooms pages by limit and afterRoom`, () =>
    withStore(async (store) => {
      await store.append(["r5", "r3", "r1", "r4", "r2"].map((room) => message(room, room)));
      const names = async (options: Parameters<Store["listRooms"]>[0]) =>
        (await store.listRooms(options)).map((r) => r.room);
      assert.deepEqual(await names({ limit: 2 }), ["r1", "r2"]);
      assert.deepEqual(await names({ limit: 2, afterRoom: "r2" }), ["r3", "r4"]);
      assert.deepEqual(await names({ limit: 2, afterRoom: "r4" }), ["r5"]);
      assert.deepEqual(await names({ limit: 2, afterRoom: "r5" }), []);
      assert.deepEqual(await names({ limit: 2, afterRoom: "r2-gone" }), ["r3", "r4"]);
      assert.deepEqual(await names({ limit: 10, afterRoom: "a" }), ["r1", "r2", "r3", "r4", "r5"]);
    }));

  test(`${name}: listRooms shows dm rooms only to dmsOf, matched as a whole id`, () =>
    withStore(async (store) => {
      // "dm" and "dm;" are not dm rooms; "dm;" sorts just after every one that is.
      const rooms = ["lobby", "dm:g-abc:a-x", "dm:a-x:g-abc", "dm:g-abcd:a-x", "dm:a-x:g-abcd"];
      await store.append([...rooms, "dm", "dm;", "zoo", "dl"].map((room) => message(room, "hi")));
      await store.setTopic("dm:g-abc:z-z", "just a topic");
      const names = async (options: Parameters<Store["listRooms"]>[0]) =>
        (await store.listRooms(options)).map((r) => r.room);
      assert.deepEqual(await names({ limit: 20 }), ["dl", "dm", "dm;", "lobby", "zoo"]);
      assert.deepEqual(await names({ limit: 20, dmsOf: "g-abc" }), [
        "dl",
        "dm",
        "dm:a-x:g-abc",
        "dm:g-abc:a-x",
        "dm:g-abc:z-z",
        "dm;",
        "lobby",
        "zoo",
      ]);
      assert.deepEqual(await names({ limit: 20, dmsOf: "a-x" }), [
        "dl",
        "dm",
        "dm:a-x:g-abc",
        "dm:a-x:g-abcd",
        "dm:g-abc:a-x",
        "dm:g-abcd:a-x",
        "dm;",
        "lobby",
        "zoo",
      ]);
      assert.deepEqual(await names({ limit: 20, dmsOf: "g-ab" }), [
        "dl",
        "dm",
        "dm;",
        "lobby",
        "zoo",
      ]);
      assert.deepEqual(await names({ limit: 2, afterRoom: "dm", dmsOf: "g-abc" }), [
        "dm:a-x:g-abc",
        "dm:g-abc:a-x",
      ]);
      assert.deepEqual(await names({ limit: 2, afterRoom: "dm:a-x:g-abc" }), ["dm;", "lobby"]);
    }));

  test(`${name}: a topic is set, replaced, cleared and read back`, () =>
    withStore(async (store) => {
      assert.equal(await store.topic("r"), "");
      await store.append([message("r", "hello")]);
      await store.setTopic("r", "Plans for Ö");
      assert.equal(await store.topic("r"), "Plans for Ö");
      await store.setTopic("r", "Plans, again");
      assert.equal(await store.topic("r"), "Plans, again");
      assert.equal(await store.topic("other"), "");
      assert.deepEqual(await store.listRooms({ limit: 10 }), [
        { room: "r", lastId: 1, lastTimeMs: T0, topic: "Plans, again" },
      ]);
      await store.setTopic("r", "");
      assert.equal(await store.topic("r"), "");
      assert.deepEqual(await store.listRooms({ limit: 10 }), [
        { room: "r", lastId: 1, lastTimeMs: T0, topic: "" },
      ]);
    }));

  test(`${name}: a room with only a topic is listed with lastId 0 until the topic is cleared`, () =>
    withStore(async (store) => {
      await store.append([message("b", "hi")]);
      await store.setTopic("a", "nothing said yet");
      await store.setTopic("c", "nor here");
      assert.deepEqual(await store.listRooms({ limit: 10 }), [
        { room: "a", lastId: 0, lastTimeMs: 0, topic: "nothing said yet" },
        { room: "b", lastId: 1, lastTimeMs: T0, topic: "" },
        { room: "c", lastId: 0, lastTimeMs: 0, topic: "nor here" },
      ]);
      assert.deepEqual(
        (await store.listRooms({ limit: 1, afterRoom: "a" })).map((r) => r.room),
        ["b"],
      );
      assert.equal(await store.lastId("a"), 0);
      await store.setTopic("a", "");
      assert.deepEqual(
        (await store.listRooms({ limit: 10 })).map((r) => r.room),
        ["b", "c"],
      );
    }));

  test(`${name}: a topic survives a prune of its room, and setting one keeps what was pruned`, () =>
    withStore(async (store, clock) => {
      await store.append([message("kept", "k1"), message("kept", "k2"), message("bare", "b1")]);
      await store.setTopic("kept", "still here");
      await store.setTopic("bare", "gone soon");
      await store.setTopic("bare", "");
      clock.advance(5);
      assert.equal(await store.prune({ maxPerRoom: 0 }), 3);
      assert.equal(await store.topic("kept"), "still here");
      // Emptied by retention, "bare" has nothing to show.
      assert.deepEqual(await store.listRooms({ limit: 10 }), [
        { room: "kept", lastId: 0, lastTimeMs: 0, topic: "still here" },
      ]);
      assert.deepEqual(await store.after("kept", 0, 10), { messages: [], prunedThrough: 2 });

      await store.setTopic("bare", "back");
      await store.setTopic("kept", "changed");
      assert.deepEqual(await store.after("bare", 0, 10), { messages: [], prunedThrough: 1 });
      assert.equal((await store.after("kept", 0, 10)).prunedThrough, 2);
      const [next] = await store.append([message("kept", "k3")]);
      assert.equal(next?.message.id, 3);
      assert.deepEqual(await store.listRooms({ limit: 10 }), [
        { room: "bare", lastId: 0, lastTimeMs: 0, topic: "back" },
        { room: "kept", lastId: 3, lastTimeMs: T0 + 5, topic: "changed" },
      ]);
      assert.equal(await store.prune({ maxPerRoom: 0 }), 1);
      assert.equal(await store.topic("kept"), "changed");
      assert.equal((await store.after("kept", 0, 10)).prunedThrough, 3);
    }));

  test(`${name}: the epoch is a non-empty string`, () =>
    withStore(async (store) => {
      assert.equal(typeof store.epoch, "string");
      assert.ok(store.epoch.length > 0);
    }));

  test(`${name}: idKey is 64 hex characters and stays the same`, () =>
    withStore(async (store, clock) => {
      const idKey = store.idKey;
      assert.match(idKey, /^[0-9a-f]{64}$/);
      await store.append([message("r", "a")]);
      await store.createAccount(account("Ann"));
      clock.advance(1_000);
      await store.prune({ maxPerRoom: 0 });
      assert.equal(store.idKey, idKey);
    }));

  test(`${name}: createAccount then accountByName and accountById give back every field`, () =>
    withStore(async (store) => {
      const ann = account("Ann", { username: "Ann Ö", nameKey: "ann ö", createdMs: T0 + 7 });
      assert.equal(await store.createAccount(ann), true);
      assert.deepEqual(await store.accountByName("ann ö"), ann);
      assert.deepEqual(await store.accountById(ann.userId), ann);
      assert.equal(await store.accountByName("Ann Ö"), undefined, "by nameKey only");
      assert.equal(await store.accountByName("nobody"), undefined);
      assert.equal(await store.accountById("a-nobody"), undefined);
    }));

  test(`${name}: an account whose nameKey or userId is taken is refused, storing nothing`, () =>
    withStore(async (store) => {
      const ann = account("Ann");
      assert.equal(await store.createAccount(ann), true);
      const sameName = account("ANN", { userId: "a-other", nameKey: ann.nameKey });
      assert.equal(await store.createAccount(sameName), false);
      const sameId = account("Bea", { userId: ann.userId });
      assert.equal(await store.createAccount(sameId), false);
      assert.deepEqual(await store.accountByName(ann.nameKey), ann);
      assert.equal(await store.accountByName(sameId.nameKey), undefined);
      // Neither refusal left anything behind that blocks a later account.
      const bea = account("Bea");
      assert.equal(await store.createAccount(bea), true);
      assert.deepEqual(await store.accountByName("bea"), bea);
    }));

  test(`${name}: a token names its account until it expires or is revoked`, () =>
    withStore(async (store) => {
      const ann = account("Ann");
      const bea = account("Bea");
      await store.createAccount(ann);
      await store.createAccount(bea);
      const annToken = token("a", ann.userId, T0 + 100);
      const beaToken = token("b", bea.userId, T0 + 100);
      await store.saveToken(annToken);
      await store.saveToken(beaToken);
      assert.deepEqual(await store.tokenAccount(annToken.tokenHash, T0), {
        account: ann,
        expiresMs: T0 + 100,
      });
      assert.deepEqual((await store.tokenAccount(beaToken.tokenHash, T0 + 99))?.account, bea);
      assert.equal(await store.tokenAccount(token("c", ann.userId, 0).tokenHash, T0), undefined);
      // Expired at expiresMs itself.
      assert.equal(await store.tokenAccount(annToken.tokenHash, T0 + 100), undefined);
      assert.equal(await store.tokenAccount(annToken.tokenHash, T0 + 101), undefined);

      assert.equal(await store.revokeToken(annToken.tokenHash), true);
      assert.equal(await store.tokenAccount(annToken.tokenHash, T0), undefined);
      assert.equal(await store.revokeToken(annToken.tokenHash), false);
      assert.equal(await store.revokeToken(token("c", ann.userId, 0).tokenHash), false);
      assert.deepEqual((await store.tokenAccount(beaToken.tokenHash, T0))?.account, bea);
    }));

  test(`${name}: prune deletes tokens expired by the store's clock, and counts only messages`, () =>
    withStore(async (store, clock) => {
      const ann = account("Ann");
      await store.createAccount(ann);
      const early = token("1", ann.userId, T0 + 10);
      const onTheDot = token("2", ann.userId, T0 + 20);
      const later = token("3", ann.userId, T0 + 21);
      for (const t of [early, onTheDot, later]) await store.saveToken(t);
      await store.append([message("r", "a"), message("r", "b"), message("r", "c")]);

      assert.equal(await store.prune({}), 0);
      assert.deepEqual((await store.tokenAccount(early.tokenHash, T0))?.account, ann);

      clock.advance(20);
      assert.equal(await store.prune({ maxPerRoom: 1 }), 2);
      // Asked as of T0, when none had expired: gone, not merely filtered out.
      assert.equal(await store.tokenAccount(early.tokenHash, T0), undefined);
      assert.equal(await store.tokenAccount(onTheDot.tokenHash, T0), undefined);
      assert.deepEqual((await store.tokenAccount(later.tokenHash, T0))?.account, ann);
      assert.equal(await store.revokeToken(early.tokenHash), false);
      assert.equal(await store.revokeToken(later.tokenHash), true);
    }));

  changeContract(name, withStore);

  test(`${name}: close() lets earlier calls finish, then every call fails as unavailable`, async () => {
    const store = await open(manualClock(T0).now);
    const appended = store.append([message("r", "in time")]);
    const read = store.lastId("r");
    const closed = store.close();
    await assert.rejects(store.append([message("r", "late")]), StoreUnavailableError);
    assert.equal((await appended)[0]?.message.id, 1);
    assert.equal(typeof (await read), "number");
    await closed;
    const calls: [string, () => Promise<unknown>][] = [
      ["append", () => store.append([message("r", "late")])],
      ["history", () => store.history("r", everything)],
      ["after", () => store.after("r", 0, 10)],
      ["lastId", () => store.lastId("r")],
      ["message", () => store.message("r", 1)],
      ["markRead", () => store.markRead("u1", "r", 1)],
      ["readMarker", () => store.readMarker("u1", "r")],
      [
        "unread",
        () => store.unread("u1", ["r"], { cap: 10, mentionNames: [], fromStart: new Set() }),
      ],
      ["prune", () => store.prune({ maxPerRoom: 0 })],
      ["createAccount", () => store.createAccount(account("Late"))],
      ["accountByName", () => store.accountByName("late")],
      ["accountById", () => store.accountById("a-late")],
      ["saveToken", () => store.saveToken(token("e", "a-late", T0 + 1))],
      ["tokenAccount", () => store.tokenAccount(token("e", "a-late", 0).tokenHash, T0)],
      ["revokeToken", () => store.revokeToken(token("e", "a-late", 0).tokenHash)],
      ["listRooms", () => store.listRooms({ limit: 10 })],
      ["setTopic", () => store.setTopic("r", "late")],
      ["topic", () => store.topic("r")],
    ];
    for (const [what, call] of calls) {
      await assert.rejects(call(), StoreUnavailableError, `${what} after close`);
    }
    await store.close();
  });
}
