// What every Store must do as an IntegrationStore: bots with their accounts,
// cursors and delivery leases, per-room notification levels, email addresses
// and digests, and what deleting a room or an account takes with it. Run on
// every engine next to storeContract.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Account,
  type BotRecord,
  type Store,
  StoreUnavailableError,
} from "../src/store/store.ts";
import { manualClock } from "./store-contract.ts";

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

const hash = (seed: string) => seed.repeat(64).slice(0, 64);

const person = (name: string): Account => ({
  userId: `a-${name}`,
  username: name,
  nameKey: name.toLowerCase(),
  passwordHash: `hash-of-${name}`,
  createdMs: T0,
});

/** A bot `b-<id>` named `name`, owned by a-una, in rooms r and s. */
const bot = (id: string, name: string, extra: Partial<BotRecord> = {}): BotRecord => ({
  userId: `b-${id}`,
  username: name,
  ownerId: "a-una",
  rooms: ["r", "s"],
  canRead: false,
  tokenHash: hash(id),
  createdMs: T0,
  revokedMs: 0,
  lastError: "",
  lastErrorMs: 0,
  outgoing: undefined,
  ...extra,
});

const hooked = {
  url: "https://example.test/hook",
  trigger: "words" as const,
  words: ["deploy", "build"],
  signingSecret: "s3cret",
};

const accountOf = (b: BotRecord, nameKey = b.username.toLowerCase()): Account => ({
  userId: b.userId,
  username: b.username,
  nameKey,
  passwordHash: "!",
  createdMs: b.createdMs,
});

const cursorsAt = (id: number) => [
  { room: "r", deliveredId: id },
  { room: "s", deliveredId: id + 1 },
];

/**
 * What every Store must do as an IntegrationStore, run against a real engine.
 * `open` returns a fresh, empty store whose message times come from `now`.
 */
export function integrationContract(
  name: string,
  open: (now: () => number) => Promise<Store>,
): void {
  const withStore = async (body: (store: Store) => Promise<void>) => {
    const store = await open(manualClock(T0).now);
    try {
      await body(store);
    } finally {
      await store.close();
    }
  };
  const take = async (store: Store, nowMs: number, limit: number) =>
    (await store.takeDueDigests(nowMs, limit)).sort();
  const make = (store: Store, b: BotRecord, cursors = cursorsAt(0)) =>
    store.createBot(accountOf(b), b, cursors);

  test(`${name}: createBot stores the account, the bot and its cursors; a look-alike name stores nothing`, () =>
    withStore(async (store) => {
      const first = bot("one", "Helper", { canRead: true, outgoing: hooked });
      assert.equal(await make(store, first, cursorsAt(7)), true);
      assert.deepEqual(await store.bot("b-one"), first);
      assert.deepEqual(await store.accountById("b-one"), accountOf(first));
      assert.deepEqual(await store.botCursors("b-one"), cursorsAt(7));

      // Another id under a name with the same key (the caller's look-alike fold).
      const second = bot("two", "HeIper");
      assert.equal(await store.createBot(accountOf(second, "helper"), second, cursorsAt(3)), false);
      assert.equal(await store.bot("b-two"), undefined);
      assert.equal(await store.accountById("b-two"), undefined);
      assert.equal(await store.botByToken(hash("two")), undefined);
      assert.deepEqual(await store.botCursors("b-two"), []);
      assert.deepEqual(await store.bots(undefined), [first]);
      // A person's name is taken for bots too.
      await store.createAccount(person("una"));
      assert.equal(await make(store, bot("three", "UNA")), false);
    }));

  test(`${name}: bots are found by id, by working token, by owner, all, and with a working outgoing hook`, () =>
    withStore(async (store) => {
      const plain = bot("p", "Plain", { createdMs: T0 + 2 });
      const out = bot("o", "Out", { outgoing: hooked, createdMs: T0 + 1 });
      const other = bot("x", "Other", { ownerId: "a-bob", outgoing: hooked, createdMs: T0 + 1 });
      const gone = bot("g", "Gone", { outgoing: hooked, tokenHash: "", revokedMs: T0 + 5 });
      for (const b of [plain, out, other, gone]) assert.equal(await make(store, b), true);

      assert.deepEqual(await store.bot("b-p"), plain);
      assert.equal(await store.bot("b-nobody"), undefined);
      assert.deepEqual(await store.botByToken(hash("o")), out);
      assert.equal(await store.botByToken(""), undefined);
      // Oldest first; the same millisecond in id order.
      assert.deepEqual(await store.bots("a-una"), [gone, out, plain]);
      assert.deepEqual(await store.bots("a-bob"), [other]);
      assert.deepEqual(await store.bots("a-nobody"), []);
      assert.deepEqual(await store.bots(undefined), [gone, out, other, plain]);
      assert.deepEqual(await store.outgoingBots(), [out, other]);
    }));

  test(`${name}: setBotToken revokes a token and renews it`, () =>
    withStore(async (store) => {
      const b = bot("t", "Tok", { outgoing: hooked });
      await make(store, b);
      const revoked = { ...b, tokenHash: "", revokedMs: T0 + 10 };
      assert.deepEqual(await store.setBotToken("b-t", "", T0 + 10), revoked);
      assert.deepEqual(await store.bot("b-t"), revoked);
      assert.equal(await store.botByToken(hash("t")), undefined);
      assert.deepEqual(await store.outgoingBots(), []);

      const renewed = { ...b, tokenHash: hash("n") };
      assert.deepEqual(await store.setBotToken("b-t", hash("n"), 0), renewed);
      assert.deepEqual(await store.botByToken(hash("n")), renewed);
      assert.equal(await store.botByToken(hash("t")), undefined);
      assert.deepEqual(await store.outgoingBots(), [renewed]);
      assert.equal(await store.setBotToken("b-nobody", hash("z"), 0), undefined);
    }));

  test(`${name}: a bot's cursor starts where it was made and never moves back`, () =>
    withStore(async (store) => {
      await make(store, bot("c", "Cursor"), cursorsAt(10));
      await store.advanceBotCursor("b-c", "r", 15);
      await store.advanceBotCursor("b-c", "r", 12);
      await store.advanceBotCursor("b-c", "s", 11);
      assert.deepEqual(await store.botCursors("b-c"), [
        { room: "r", deliveredId: 15 },
        { room: "s", deliveredId: 11 },
      ]);
      await store.advanceBotCursor("b-c", "r", 20);
      assert.deepEqual((await store.botCursors("b-c"))[0], { room: "r", deliveredId: 20 });
      // No bot, no cursor.
      await store.advanceBotCursor("b-nobody", "r", 5);
      assert.deepEqual(await store.botCursors("b-nobody"), []);
    }));

  test(`${name}: a bot's lease is held by one node until it runs out, and renewed by its holder`, () =>
    withStore(async (store) => {
      await make(store, bot("l", "Lease"));
      assert.equal(await store.leaseBot("b-l", "node-a", T0, MINUTE), true);
      assert.equal(await store.leaseBot("b-l", "node-b", T0 + 1, MINUTE), false);
      assert.equal(await store.leaseBot("b-l", "node-b", T0 + MINUTE - 1, MINUTE), false);
      // A renews its own, which moves the end on.
      assert.equal(await store.leaseBot("b-l", "node-a", T0 + 30_000, MINUTE), true);
      assert.equal(await store.leaseBot("b-l", "node-b", T0 + MINUTE, MINUTE), false);
      assert.equal(await store.leaseBot("b-l", "node-b", T0 + 30_000 + MINUTE, MINUTE), true);
      assert.equal(await store.leaseBot("b-l", "node-a", T0 + 30_001 + MINUTE, MINUTE), false);
      assert.equal(await store.leaseBot("b-nobody", "node-a", T0, MINUTE), false);

      // Many nodes at once on a free lease: one gets it.
      await make(store, bot("m", "Many"));
      const nodes = Array.from({ length: 6 }, (_, i) => `node-${i}`);
      const granted = await Promise.all(nodes.map((n) => store.leaseBot("b-m", n, T0, MINUTE)));
      assert.equal(granted.filter(Boolean).length, 1, `${granted}`);
    }));

  test(`${name}: a bot's last delivery error is kept with it, for any node to read`, () =>
    withStore(async (store) => {
      await make(store, bot("e", "Errs"));
      assert.deepEqual(
        [(await store.bot("b-e"))?.lastError, (await store.bot("b-e"))?.lastErrorMs],
        ["", 0],
      );
      await store.setBotError("b-e", "https://x.example answered HTTP 500", T0 + 5);
      await store.setBotError("b-nobody", "nothing to record it on", T0 + 6);
      const [listed] = await store.bots("a-una");
      assert.deepEqual(
        [listed?.lastError, listed?.lastErrorMs],
        ["https://x.example answered HTTP 500", T0 + 5],
      );
    }));

  test(`${name}: notification levels: set, read per user and per room; "mentions" removes`, () =>
    withStore(async (store) => {
      await store.setNotify("a-una", "r", "all");
      await store.setNotify("a-una", "s", "off");
      await store.setNotify("a-una", "t", "mentions");
      await store.setNotify("a-bob", "r", "off");
      await store.setNotify("a-eve", "r", "all");
      assert.deepEqual(
        await store.notifyLevels("a-una"),
        new Map([
          ["r", "all"],
          ["s", "off"],
        ]),
      );
      assert.deepEqual(
        await store.notifyLevelsIn("r", ["a-una", "a-bob", "a-nobody"]),
        new Map([
          ["a-bob", "off"],
          ["a-una", "all"],
        ]),
      );
      assert.deepEqual(await store.notifyLevelsIn("r", []), new Map());
      await store.setNotify("a-una", "r", "off");
      await store.setNotify("a-una", "s", "mentions");
      assert.deepEqual(await store.notifyLevels("a-una"), new Map([["r", "off"]]));
      assert.deepEqual(await store.notifyLevels("a-nobody"), new Map());
    }));

  test(`${name}: an account's email address is set, replaced and removed`, () =>
    withStore(async (store) => {
      await store.createAccount(person("una"));
      assert.equal(await store.emailOf("a-una"), "");
      await store.setEmail("a-una", "una@example.test");
      assert.equal(await store.emailOf("a-una"), "una@example.test");
      await store.setEmail("a-una", "una@elsewhere.test");
      assert.equal(await store.emailOf("a-una"), "una@elsewhere.test");
      await store.setEmail("a-una", "");
      assert.equal(await store.emailOf("a-una"), "");
      // Only an account has an address.
      await store.setEmail("a-nobody", "ghost@example.test");
      assert.equal(await store.emailOf("a-nobody"), "");
    }));

  test(`${name}: digests: one waits per user with its first time; due ones are taken once`, () =>
    withStore(async (store) => {
      assert.equal(await store.nextDigestMs(), undefined);
      await store.scheduleDigest("a-una", T0 + 10);
      await store.scheduleDigest("a-una", T0 + 20);
      await store.scheduleDigest("a-bob", T0 + 30);
      await store.scheduleDigest("a-bob", T0 + 5);
      await store.scheduleDigest("a-eve", T0 + 50);
      assert.equal(await store.nextDigestMs(), T0 + 10);
      assert.deepEqual(await take(store, T0 + 9, 10), []);
      assert.deepEqual(await take(store, T0 + 30, 10), ["a-bob", "a-una"]);
      assert.deepEqual(await take(store, T0 + 30, 10), []);
      assert.equal(await store.nextDigestMs(), T0 + 50);
      // A user taken may wait for the next one at once.
      await store.scheduleDigest("a-una", T0 + 40);
      // The limit takes the one due first.
      assert.deepEqual(await store.takeDueDigests(T0 + 100, 1), ["a-una"]);
      assert.deepEqual(await store.takeDueDigests(T0 + 100, 0), []);
      assert.deepEqual(await store.takeDueDigests(T0 + 100, 5), ["a-eve"]);
      assert.equal(await store.nextDigestMs(), undefined);
      await assert.rejects(store.takeDueDigests(T0, -1), RangeError);
    }));

  test(`${name}: digests taken by many at once go to exactly one each`, () =>
    withStore(async (store) => {
      const users = Array.from({ length: 40 }, (_, i) => `a-u${String(i).padStart(2, "0")}`);
      for (const [i, user] of users.entries()) await store.scheduleDigest(user, T0 + i);
      await store.scheduleDigest("a-later", T0 + MINUTE);
      const taken = await Promise.all(
        Array.from({ length: 8 }, () => store.takeDueDigests(T0 + 100, 7)),
      );
      const all = taken.flat().sort();
      assert.deepEqual(all, users, JSON.stringify(taken));
      assert.equal(await store.nextDigestMs(), T0 + MINUTE);
    }));

  test(`${name}: deleting a room deletes its bot cursors and notification levels, and no other room's`, () =>
    withStore(async (store) => {
      const b = bot("d", "Del");
      await make(store, b, cursorsAt(4));
      await store.setNotify("a-una", "r", "off");
      await store.setNotify("a-una", "s", "all");
      await store.deleteRoom("r");
      assert.deepEqual(await store.botCursors("b-d"), [{ room: "s", deliveredId: 5 }]);
      assert.deepEqual(await store.notifyLevels("a-una"), new Map([["s", "all"]]));
      assert.deepEqual(await store.notifyLevelsIn("r", ["a-una"]), new Map());
      // The bot keeps the room in its list.
      assert.deepEqual(await store.bot("b-d"), b);
    }));

  test(`${name}: deleting an account deletes its levels, address, digest and the bots it owns`, () =>
    withStore(async (store) => {
      await store.createAccount(person("una"));
      await store.createAccount(person("bob"));
      const mine = bot("m", "Mine", { outgoing: hooked });
      const theirs = bot("t", "Theirs", { ownerId: "a-bob" });
      await make(store, mine);
      await make(store, theirs);
      for (const user of ["a-una", "a-bob"]) {
        await store.setNotify(user, "r", "off");
        await store.setEmail(user, `${user}@example.test`);
        await store.scheduleDigest(user, T0);
      }
      await store.setNotify("b-m", "s", "all");

      assert.equal(await store.deleteAccount("a-una"), true);
      assert.equal(await store.bot("b-m"), undefined);
      assert.equal(await store.accountById("b-m"), undefined);
      assert.equal(await store.botByToken(hash("m")), undefined);
      assert.deepEqual(await store.botCursors("b-m"), []);
      assert.deepEqual(await store.notifyLevels("b-m"), new Map());
      assert.deepEqual(await store.outgoingBots(), []);
      assert.deepEqual(await store.notifyLevels("a-una"), new Map());
      assert.equal(await store.emailOf("a-una"), "");
      assert.deepEqual(await store.takeDueDigests(T0, 10), ["a-bob"]);
      // Bob's are untouched, and his bot's name is still taken.
      assert.deepEqual(await store.bots(undefined), [theirs]);
      assert.deepEqual(await store.notifyLevels("a-bob"), new Map([["r", "off"]]));
      assert.equal(await store.emailOf("a-bob"), "a-bob@example.test");
      // The deleted bot's name is free again.
      assert.equal(await make(store, bot("m2", "Mine")), true);

      // A bot's own account deleted takes the bot and its cursors.
      assert.equal(await store.deleteAccount("b-t"), true);
      assert.equal(await store.bot("b-t"), undefined);
      assert.deepEqual(await store.botCursors("b-t"), []);
      assert.deepEqual(await store.bots("a-bob"), []);
    }));

  test(`${name}: after close() integration calls fail as unavailable`, async () => {
    const store = await open(manualClock(T0).now);
    await store.close();
    const unavailable = (error: unknown) => error instanceof StoreUnavailableError;
    await assert.rejects(store.bot("b-x"), unavailable);
    await assert.rejects(store.leaseBot("b-x", "n", T0, MINUTE), unavailable);
    await assert.rejects(store.takeDueDigests(T0, 1), unavailable);
  });
}
