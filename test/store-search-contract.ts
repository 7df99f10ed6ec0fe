// What every Store must do as a SearchStore: words, phrases, prefixes and
// substrings, ignoring case and diacritics; filters; paging; who may read
// what, inside the query; and an index that follows edits, deletes,
// retention and a room's deletion. Run on every engine next to storeContract.
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  NewMessage,
  SearchQuery,
  SearchTerm,
  Store,
  StoredMessage,
} from "../src/store/store.ts";
import { type ManualClock, manualClock } from "./store-contract.ts";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const READER = "a-reader";

const chat = (room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  room,
  userId: "a-writer",
  username: "wendy",
  text,
  kind: "chat",
  clientMsgId: "",
  ...extra,
});

const words = (...list: string[]): SearchTerm => ({ kind: "words", words: list, prefix: false });
const prefix = (...list: string[]): SearchTerm => ({ kind: "words", words: list, prefix: true });
const substring = (text: string): SearchTerm => ({ kind: "substring", text });

/** A search by READER (not an admin) at the clock's time, of these terms. */
const query = (
  clock: ManualClock,
  include: SearchTerm[],
  extra: Partial<SearchQuery> = {},
): SearchQuery => ({
  reader: READER,
  admin: false,
  nowMs: clock.now(),
  include,
  exclude: [],
  limit: 50,
  ...extra,
});

const texts = (hits: readonly StoredMessage[]) => hits.map((m) => m.text);

export function searchContract(name: string, open: (now: () => number) => Promise<Store>): void {
  const withStore = async (body: (store: Store, clock: ManualClock) => Promise<void>) => {
    const clock = manualClock(T0);
    const store = await open(clock.now);
    try {
      await body(store, clock);
    } finally {
      await store.close();
    }
  };

  /** Appends each text to `room` one millisecond apart, oldest first. */
  const say = async (store: Store, clock: ManualClock, room: string, ...list: string[]) => {
    const stored: StoredMessage[] = [];
    for (const text of list) {
      clock.advance(1);
      const [result] = await store.append([chat(room, text)]);
      if (result) stored.push(result.message);
    }
    return stored;
  };

  test(`${name}: every word must match, ignoring case and diacritics, and only the last may be a prefix`, () =>
    withStore(async (store, clock) => {
      await say(
        store,
        clock,
        "r",
        "Meet at the Café at noon",
        "the cafe is closed",
        "CAFÉ AU LAIT",
        "deployment finished",
        "we deploy on friday",
        "nothing to see",
      );
      const find = async (...terms: SearchTerm[]) =>
        texts(await store.search(query(clock, terms))).sort();
      assert.deepEqual(await find(words("cafe")), [
        "CAFÉ AU LAIT",
        "Meet at the Café at noon",
        "the cafe is closed",
      ]);
      assert.deepEqual(await find(words("cafe"), words("noon")), ["Meet at the Café at noon"]);
      assert.deepEqual(await find(words("deploy")), ["we deploy on friday"]);
      assert.deepEqual(await find(prefix("deplo")), ["deployment finished", "we deploy on friday"]);
      assert.deepEqual(await find(words("deplo")), [], "a word that is not last matches whole");
      assert.deepEqual(await find(words("cafe"), words("friday")), []);
    }));

  test(`${name}: a phrase matches its words adjacent and in order`, () =>
    withStore(async (store, clock) => {
      await say(
        store,
        clock,
        "r",
        "the build is green",
        "green is the build",
        "build, is it green",
      );
      assert.deepEqual(texts(await store.search(query(clock, [words("build", "is")]))).sort(), [
        "build, is it green",
        "the build is green",
      ]);
      assert.deepEqual(texts(await store.search(query(clock, [prefix("is", "gr")]))), [
        "the build is green",
      ]);
    }));

  test(`${name}: substrings with punctuation are found: file names, a URL's path, identifiers`, () =>
    withStore(async (store, clock) => {
      await say(
        store,
        clock,
        "r",
        "see foo.png for the bug",
        "foo png is not a file name",
        "docs at https://example.com/docs/setup-guide?lang=en now",
        "call sess.opts.timeout before connect",
        "getUserName() returns undefined",
        "Fichier RÉSUMÉ.pdf joint",
      );
      const find = async (text: string) =>
        texts(await store.search(query(clock, [substring(text)])));
      assert.deepEqual(await find("foo.png"), ["see foo.png for the bug"]);
      assert.deepEqual(await find("/docs/setup-guide"), [
        "docs at https://example.com/docs/setup-guide?lang=en now",
      ]);
      assert.deepEqual(await find("sess.opts"), ["call sess.opts.timeout before connect"]);
      assert.deepEqual(await find("username()"), ["getUserName() returns undefined"]);
      assert.deepEqual(await find("resume.pdf"), ["Fichier RÉSUMÉ.pdf joint"]);
      // A substring and a word together.
      assert.deepEqual(
        texts(await store.search(query(clock, [substring("foo.png"), words("bug")]))),
        ["see foo.png for the bug"],
      );
    }));

  test(`${name}: a substring across white space is found by its punctuation, however short that part`, () =>
    withStore(async (store, clock) => {
      await say(
        store,
        clock,
        "r",
        "we are done. Next up: tests",
        "we are done next up tests",
        "plan a, b or c",
        "plan a b or c",
      );
      const find = async (text: string) =>
        texts(await store.search(query(clock, [substring(text)])));
      assert.deepEqual(await find("done. next"), ["we are done. Next up: tests"]);
      assert.deepEqual(await find("e. next up: t"), ["we are done. Next up: tests"]);
      // "a," has no trigram: the search walks the texts instead of the index.
      assert.deepEqual(await find("a, b"), ["plan a, b or c"]);
      // An edit that takes the punctuation out takes the text out of the trigram index.
      const [edited] = await store.search(query(clock, [substring("up: tests")]));
      assert.ok(edited);
      await store.append([
        { ...chat("r", "we are done, next is tests"), kind: "edit", refId: edited.id },
      ]);
      assert.deepEqual(await find("up: tests"), []);
      assert.deepEqual(await find("done, next"), ["we are done, next is tests"]);
    }));

  test(`${name}: excluded terms remove hits, and a search may be only filters`, () =>
    withStore(async (store, clock) => {
      await say(store, clock, "r", "release notes", "release is blocked", "see blocked.txt");
      assert.deepEqual(
        texts(
          await store.search(query(clock, [words("release")], { exclude: [words("blocked")] })),
        ),
        ["release notes"],
      );
      assert.deepEqual(
        texts(
          await store.search(query(clock, [words("see")], { exclude: [substring("blocked.txt")] })),
        ),
        [],
      );
      assert.deepEqual(
        texts(await store.search(query(clock, [], { exclude: [words("release")] }))),
        ["see blocked.txt"],
      );
    }));

  test(`${name}: room, sender, time and has:link filters`, () =>
    withStore(async (store, clock) => {
      clock.advance(HOUR);
      await store.append([chat("a", "report one", { userId: "a-ann", username: "ann" })]);
      clock.advance(HOUR);
      const cut = clock.now();
      await store.append([chat("b", "report two", { userId: "a-bob", username: "bob" })]);
      clock.advance(HOUR);
      await store.append([chat("a", "report three http://x.example/r", { userId: "a-bob" })]);
      await store.append([chat("c", "report four, see www.example.org", { userId: "a-ann" })]);
      await store.append([chat("c", "report five: https not a link", { userId: "a-ann" })]);
      const find = async (extra: Partial<SearchQuery>) =>
        texts(await store.search(query(clock, [words("report")], extra))).sort();
      assert.deepEqual(await find({ rooms: ["a"] }), [
        "report one",
        "report three http://x.example/r",
      ]);
      assert.deepEqual(await find({ rooms: ["a", "b"], senders: ["a-bob"] }), [
        "report three http://x.example/r",
        "report two",
      ]);
      assert.deepEqual(await find({ beforeMs: cut }), ["report one"]);
      assert.deepEqual(await find({ afterMs: cut, beforeMs: cut + 1 }), ["report two"]);
      assert.deepEqual(await find({ hasLink: true }), [
        "report four, see www.example.org",
        "report three http://x.example/r",
      ]);
    }));

  test(`${name}: hits come newest first (or oldest first), paged by cursor, each once`, () =>
    withStore(async (store, clock) => {
      for (let i = 1; i <= 7; i++) {
        clock.advance(1_000);
        await store.append([chat(i % 2 === 0 ? "even" : "odd", `note ${i}`)]);
        await store.append([chat("other", `unrelated ${i}`)]);
      }
      const pages = async (oldestFirst: boolean) => {
        const seen: string[][] = [];
        let after: SearchQuery["after"];
        for (;;) {
          const hits = await store.search(
            query(clock, [words("note")], { limit: 3, oldestFirst, ...(after ? { after } : {}) }),
          );
          if (hits.length === 0) break;
          seen.push(texts(hits));
          const last = hits.at(-1);
          if (!last) break;
          after = { timeMs: last.timeMs, room: last.room, id: last.id };
        }
        return seen;
      };
      assert.deepEqual(await pages(false), [
        ["note 7", "note 6", "note 5"],
        ["note 4", "note 3", "note 2"],
        ["note 1"],
      ]);
      assert.deepEqual(await pages(true), [
        ["note 1", "note 2", "note 3"],
        ["note 4", "note 5", "note 6"],
        ["note 7"],
      ]);
    }));

  test(`${name}: a hit is the message as it is now, with its id, room, time and reactions`, () =>
    withStore(async (store, clock) => {
      const [first] = await say(store, clock, "r", "lunch poll: pizza?");
      assert.ok(first);
      clock.advance(1);
      await store.append([
        { ...chat("r", "🍕"), kind: "react", refId: first.id, userId: READER, username: "rea" },
      ]);
      await store.append([chat("r", "answering", { refId: first.id })]);
      const [hit] = await store.search(query(clock, [words("pizza")]));
      assert.ok(hit);
      assert.equal(hit.room, "r");
      assert.equal(hit.id, first.id);
      assert.equal(hit.timeMs, first.timeMs);
      assert.equal(hit.username, "wendy");
      assert.deepEqual(hit.reactions, [{ emoji: "🍕", count: 1, mine: true }]);
      // System lines are never hits (nor change entries: see the edit test).
      await store.append([chat("r", "wendy joined pizza", { kind: "system", userId: "system" })]);
      assert.deepEqual(texts(await store.search(query(clock, [words("pizza")]))), [
        "lunch poll: pizza?",
      ]);
    }));

  test(`${name}: an edit re-indexes, a delete and retention remove, and so does deleting the room`, () =>
    withStore(async (store, clock) => {
      const [typo, gone] = await say(store, clock, "r", "the recieve path", "secret launch code");
      assert.ok(typo && gone);
      await store.append([{ ...chat("r", "the receive path"), kind: "edit", refId: typo.id }]);
      assert.deepEqual(texts(await store.search(query(clock, [words("recieve")]))), []);
      assert.deepEqual(texts(await store.search(query(clock, [words("receive")]))), [
        "the receive path",
      ]);
      assert.deepEqual(texts(await store.search(query(clock, [substring("ceive pa")]))), [
        "the receive path",
      ]);
      await store.append([{ ...chat("r", ""), kind: "delete", refId: gone.id }]);
      assert.deepEqual(texts(await store.search(query(clock, [words("launch")]))), []);
      assert.deepEqual(texts(await store.search(query(clock, [substring("launch c")]))), []);

      await say(store, clock, "old", "ancient history");
      clock.advance(10 * HOUR);
      await say(store, clock, "old", "recent history");
      let removed = 1;
      while (removed > 0) removed = await store.prune({ olderThanMs: clock.now() - HOUR });
      assert.deepEqual(texts(await store.search(query(clock, [words("history")]))), [
        "recent history",
      ]);

      await say(store, clock, "doomed", "doomed history");
      await store.deleteRoom("doomed");
      assert.deepEqual(texts(await store.search(query(clock, [words("history")]))), [
        "recent history",
      ]);
    }));

  test(`${name}: a hit never comes from others' direct messages, a private room the reader is not in, or a room that bans them`, () =>
    withStore(async (store, clock) => {
      const mine = `dm:${READER}:a-zed`;
      const theirs = "dm:a-writer:a-zed";
      await store.createRoom({
        room: "private",
        owner: "a-writer",
        inviteOnly: true,
        readOnly: false,
        createdMs: T0,
      });
      await store.createRoom({
        room: "joined",
        owner: "a-writer",
        inviteOnly: true,
        readOnly: false,
        createdMs: T0,
      });
      await store.setRole("joined", READER, "member", T0);
      await store.createRoom({
        room: "owned",
        owner: READER,
        inviteOnly: true,
        readOnly: false,
        createdMs: T0,
      });
      for (const room of [
        "lobby",
        "private",
        "joined",
        "owned",
        "banned",
        "was-banned",
        mine,
        theirs,
      ]) {
        await say(store, clock, room, `canary in ${room}`);
      }
      await store.setSanction({
        room: "banned",
        userId: READER,
        kind: "ban",
        untilMs: 0,
        reason: "",
        byId: "a-writer",
        createdMs: T0,
      });
      await store.setSanction({
        room: "was-banned",
        userId: READER,
        kind: "ban",
        untilMs: clock.now() + HOUR,
        reason: "",
        byId: "a-writer",
        createdMs: T0,
      });
      // A mute does not hide anything.
      await store.setSanction({
        room: "lobby",
        userId: READER,
        kind: "mute",
        untilMs: 0,
        reason: "",
        byId: "a-writer",
        createdMs: T0,
      });
      const rooms = async (extra: Partial<SearchQuery> = {}) =>
        (await store.search(query(clock, [words("canary")], extra))).map((m) => m.room).sort();
      assert.deepEqual(await rooms(), ["joined", "lobby", "owned", mine].sort());
      // Asking for a room does not widen what may be read.
      assert.deepEqual(await rooms({ rooms: ["private", theirs, "banned", "lobby"] }), ["lobby"]);
      clock.advance(HOUR);
      assert.deepEqual(await rooms(), ["joined", "lobby", "owned", "was-banned", mine].sort());
      // Admins read every room but others' direct messages.
      assert.deepEqual(
        await rooms({ admin: true }),
        ["banned", "joined", "lobby", "owned", "private", "was-banned", mine].sort(),
      );
    }));

  test(`${name}: the rooms one may read are part of the query, not a filter after the limit`, () =>
    withStore(async (store, clock) => {
      await store.createRoom({
        room: "busy-private",
        owner: "a-writer",
        inviteOnly: true,
        readOnly: false,
        createdMs: T0,
      });
      await say(store, clock, "lobby", "standup at ten");
      for (let i = 0; i < 40; i++) await say(store, clock, "busy-private", `standup item ${i}`);
      const hits = await store.search(query(clock, [words("standup")], { limit: 5 }));
      assert.deepEqual(texts(hits), ["standup at ten"]);
    }));
}
