// What every Store must do with change entries (edit, delete, react,
// unreact), replies, read markers and unread counts; run by storeContract on
// every engine.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type AppendResult,
  ChangeTargetError,
  type MessageId,
  type NewMessage,
  type Store,
} from "../src/store/store.ts";

interface Clock {
  now(): number;
  advance(ms: number): void;
}

const T0 = 1_700_000_000_000;

const chat = (room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  room,
  userId: "u1",
  username: "una",
  text,
  kind: "chat",
  clientMsgId: "",
  ...extra,
});

const change = (
  kind: "edit" | "delete" | "react" | "unreact",
  room: string,
  refId: MessageId,
  text = "",
  userId = "u1",
): NewMessage => ({
  room,
  userId,
  username: userId === "u1" ? "una" : userId,
  text,
  kind,
  clientMsgId: "",
  refId,
});

const system = (room: string, text: string): NewMessage =>
  chat(room, text, { kind: "system", userId: "system", username: "System" });

async function one(store: Store, message: NewMessage): Promise<AppendResult> {
  const [result] = await store.append([message]);
  assert.ok(result, "one result for one message");
  return result;
}

const isTargetError = (reason: "missing" | "deleted", targetId: MessageId) => (error: unknown) => {
  assert.ok(error instanceof ChangeTargetError, String(error));
  assert.equal(error.reason, reason);
  assert.equal(error.targetId, targetId);
  return true;
};

export function changeContract(
  name: string,
  withStore: (body: (store: Store, clock: Clock) => Promise<void>) => Promise<void>,
): void {
  const everything = { limit: 100, includeSystem: true };

  test(`${name}: an edit replaces the text and sets editedMs; its entries read the text now`, () =>
    withStore(async (store, clock) => {
      await store.append([chat("r", "hello"), chat("r", "other")]);
      clock.advance(7);
      const edited = await one(store, change("edit", "r", 1, "hello, edited"));
      assert.deepEqual(edited, {
        message: {
          room: "r",
          id: 3,
          timeMs: T0 + 7,
          userId: "u1",
          username: "una",
          text: "hello, edited",
          kind: "edit",
          clientMsgId: "",
          refId: 1,
        },
        duplicate: false,
      });
      clock.advance(3);
      await one(store, change("edit", "r", 1, "hello, again"));

      const history = await store.history("r", everything);
      assert.deepEqual(
        history.map((m) => [m.id, m.kind, m.text, m.editedMs]),
        [
          [2, "chat", "other", undefined],
          [1, "chat", "hello, again", T0 + 10],
        ],
      );
      assert.deepEqual(await store.message("r", 1), history[1]);
      // Neither edit entry keeps the text it brought: both read the text now.
      const page = await store.after("r", 0, 10);
      assert.deepEqual(
        page.messages.map((m) => [m.id, m.kind, m.text, m.refId]),
        [
          [1, "chat", "hello, again", undefined],
          [2, "chat", "other", undefined],
          [3, "edit", "hello, again", 1],
          [4, "edit", "hello, again", 1],
        ],
      );
      assert.equal(await store.lastId("r"), 4);
    }));

  test(`${name}: a delete leaves a tombstone, and the edits before it read ""`, () =>
    withStore(async (store) => {
      await store.append([chat("r", "secret"), chat("r", "kept")]);
      await one(store, change("edit", "r", 1, "secret, edited"));
      await one(store, change("react", "r", 1, "👍", "u2"));
      const deleted = await one(store, change("delete", "r", 1));
      assert.equal(deleted.message.id, 5);
      assert.equal(deleted.unchanged, undefined);

      const tombstone = await store.message("r", 1, "u2");
      assert.equal(tombstone?.text, "");
      assert.equal(tombstone?.deleted, true);
      assert.equal(tombstone?.reactions, undefined, "a deleted message has no reactions");
      assert.deepEqual(
        (await store.history("r", everything)).map((m) => [m.id, m.text, m.deleted ?? false]),
        [
          [2, "kept", false],
          [1, "", true],
        ],
      );
      const page = await store.after("r", 0, 10);
      assert.deepEqual(
        page.messages.map((m) => [m.id, m.kind, m.text, m.deleted ?? false]),
        [
          [1, "chat", "", true],
          [2, "chat", "kept", false],
          [3, "edit", "", false],
          [4, "react", "👍", false],
          [5, "delete", "", false],
        ],
      );

      const again = await one(store, change("delete", "r", 1));
      assert.equal(again.unchanged, true);
      assert.equal(again.message.id, 0);
      assert.equal(again.message.kind, "delete");
      for (const refused of [
        change("edit", "r", 1, "back from the dead"),
        change("react", "r", 1, "👍"),
        change("unreact", "r", 1, "👍", "u2"),
      ]) {
        await assert.rejects(store.append([refused]), isTargetError("deleted", 1), refused.kind);
      }
      assert.equal(await store.lastId("r"), 5, "nothing refused or unchanged was stored");
    }));

  test(`${name}: reactions count once per user per emoji, in first-added order, mine per viewer`, () =>
    withStore(async (store) => {
      await store.append([chat("r", "react to me")]);
      const added = await one(store, change("react", "r", 1, "🎉", "u2"));
      assert.deepEqual([added.message.id, added.message.text, added.message.count], [2, "🎉", 1]);
      assert.equal((await one(store, change("react", "r", 1, "👍", "u1"))).message.count, 1);
      assert.equal((await one(store, change("react", "r", 1, "👍", "u2"))).message.count, 2);
      assert.equal((await one(store, change("react", "r", 1, ":wave:", "u3"))).message.count, 1);

      const twice = await one(store, change("react", "r", 1, "👍", "u2"));
      assert.deepEqual(
        [twice.unchanged, twice.message.id, twice.message.count, twice.message.kind],
        [true, 0, 2, "react"],
      );
      const absent = await one(store, change("unreact", "r", 1, "🎉", "u1"));
      assert.deepEqual([absent.unchanged, absent.message.id, absent.message.count], [true, 0, 1]);
      const removed = await one(store, change("unreact", "r", 1, "🎉", "u2"));
      assert.deepEqual([removed.unchanged, removed.message.count], [undefined, 0]);
      // Added again, it is now the newest emoji.
      await one(store, change("react", "r", 1, "🎉", "u3"));

      assert.deepEqual((await store.message("r", 1, "u2"))?.reactions, [
        { emoji: "👍", count: 2, mine: true },
        { emoji: ":wave:", count: 1, mine: false },
        { emoji: "🎉", count: 1, mine: false },
      ]);
      const [forU3] = await store.history("r", { ...everything, viewer: "u3" });
      assert.deepEqual(
        forU3?.reactions?.map((r) => [r.emoji, r.mine]),
        [
          ["👍", false],
          [":wave:", true],
          ["🎉", true],
        ],
      );
      const [anonymous] = await store.history("r", everything);
      assert.ok(anonymous?.reactions?.every((r) => !r.mine));
      // Those who gave 👍 first take it back while another has it: 👍 keeps its
      // place, as a client applying the entries in order keeps it.
      await one(store, change("unreact", "r", 1, "👍", "u1"));
      await one(store, change("react", "r", 1, "👍", "u4"));
      await one(store, change("unreact", "r", 1, "👍", "u2"));
      assert.deepEqual(
        (await store.message("r", 1))?.reactions?.map((r) => [r.emoji, r.count]),
        [
          ["👍", 1],
          [":wave:", 1],
          ["🎉", 1],
        ],
      );
      assert.deepEqual(
        (await store.after("r", 1, 100)).messages.map((m) => [m.id, m.kind, m.text, m.count]),
        [
          [2, "react", "🎉", 1],
          [3, "react", "👍", 1],
          [4, "react", "👍", 2],
          [5, "react", ":wave:", 1],
          [6, "unreact", "🎉", 0],
          [7, "react", "🎉", 1],
          [8, "unreact", "👍", 1],
          [9, "react", "👍", 2],
          [10, "unreact", "👍", 1],
        ],
      );
      assert.equal((await store.after("r", 0, 1)).messages[0]?.reactions, undefined);
    }));

  test(`${name}: history and message() show messages only; after() shows every entry`, () =>
    withStore(async (store) => {
      await store.append([chat("r", "one"), system("r", "bob joined")]);
      await one(store, change("react", "r", 1, "👍"));
      await one(store, change("edit", "r", 1, "one, edited"));
      await store.append([chat("r", "two")]);
      assert.deepEqual(
        (await store.history("r", everything)).map((m) => m.id),
        [5, 2, 1],
      );
      assert.deepEqual(
        (await store.history("r", { limit: 2, includeSystem: false })).map((m) => m.id),
        [5, 1],
      );
      assert.deepEqual(
        (await store.history("r", { limit: 10, includeSystem: true, beforeId: 5 })).map(
          (m) => m.id,
        ),
        [2, 1],
      );
      assert.equal(await store.message("r", 3), undefined, "a change entry is not a message");
      assert.equal(await store.message("r", 4), undefined);
      assert.equal(await store.message("r", 99), undefined);
      assert.equal(await store.message("elsewhere", 1), undefined);
      assert.equal((await store.message("r", 2))?.kind, "system");
      // Without system messages, change entries still come.
      assert.deepEqual(
        (await store.after("r", 0, 10, false)).messages.map((m) => m.id),
        [1, 3, 4, 5],
      );
    }));

  test(`${name}: a reply keeps the id it answers, as sent and as read back`, () =>
    withStore(async (store) => {
      await store.append([chat("r", "question")]);
      const reply = await one(store, chat("r", "answer", { refId: 1 }));
      assert.equal(reply.message.refId, 1);
      assert.equal((await store.message("r", 2))?.refId, 1);
      assert.equal((await store.history("r", everything))[0]?.refId, 1);
      assert.equal((await store.after("r", 1, 10)).messages[0]?.refId, 1);
      const keyed = chat("r", "keyed answer", { refId: 1, clientMsgId: "k" });
      await one(store, keyed);
      const repeat = await one(store, keyed);
      assert.deepEqual([repeat.duplicate, repeat.message.refId], [true, 1]);
    }));

  test(`${name}: a change to anything but a chat message of the room is refused, storing nothing`, () =>
    withStore(async (store) => {
      await store.append([chat("r", "one"), system("r", "bob joined"), chat("elsewhere", "x")]);
      await one(store, change("react", "r", 1, "👍"));
      const cases: [NewMessage, MessageId][] = [
        [change("edit", "r", 99, "no such message"), 99],
        [change("edit", "r", 0, "no target"), 0],
        [{ ...chat("r", "no refId"), kind: "delete" }, 0],
        [change("react", "r", 2, "👍"), 2],
        [change("delete", "r", 3), 3],
        [change("edit", "other", 1, "wrong room"), 1],
      ];
      for (const [refused, targetId] of cases) {
        await assert.rejects(
          store.append([refused]),
          isTargetError("missing", targetId),
          JSON.stringify(refused),
        );
      }
      // In a call of several, the whole call goes.
      await assert.rejects(
        store.append([chat("r", "lost"), change("edit", "r", 99, "x")]),
        isTargetError("missing", 99),
      );
      assert.equal(await store.lastId("r"), 3);
      assert.equal((await store.message("r", 1))?.text, "one");
    }));

  test(`${name}: a change that fails among others arriving together fails alone`, () =>
    withStore(async (store) => {
      await store.append([chat("r", "one"), chat("r", "two")]);
      const settled = await Promise.allSettled([
        store.append([chat("r", "three")]),
        store.append([change("edit", "r", 1, "one, edited")]),
        store.append([change("edit", "r", 42, "nothing there")]),
        store.append([change("react", "r", 2, "👍"), chat("r", "and a word")]),
        store.append([change("react", "r", 2, "👍")]),
        store.append([change("delete", "r", 99)]),
        store.append([chat("s", "elsewhere")]),
      ]);
      assert.deepEqual(
        settled.map((s) => s.status),
        ["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled", "rejected", "fulfilled"],
      );
      const value = (i: number) => (settled[i] as PromiseFulfilledResult<AppendResult[]>).value;
      assert.equal(value(4)[0]?.unchanged, true, "the second react found the first");
      const page = await store.after("r", 0, 100);
      assert.deepEqual(
        page.messages.map((m) => [m.id, m.kind, m.text]),
        [
          [1, "chat", "one, edited"],
          [2, "chat", "two"],
          [3, "chat", "three"],
          [4, "edit", "one, edited"],
          [5, "react", "👍"],
          [6, "chat", "and a word"],
        ],
      );
      assert.equal(await store.lastId("s"), 1);
    }));

  test(`${name}: retention removes change entries and reactions with their messages, and no others`, () =>
    withStore(async (store) => {
      await store.append([chat("r", "m1"), chat("r", "m2"), chat("r", "m3")]);
      await one(store, change("edit", "r", 1, "m1, edited")); // 4
      await one(store, change("react", "r", 3, "👍")); // 5
      await one(store, change("react", "r", 1, "🎉", "u2")); // 6
      await store.append([chat("r", "m7", { refId: 1 })]); // a reply stays
      await one(store, change("react", "r", 2, "👀", "u3")); // 8
      await store.append([chat("other", "o1")]);
      await one(store, change("react", "other", 1, "👍"));

      // maxPerRoom 6 of 8 ids: 1 and 2 go, and with them 4, 6 and 8.
      assert.equal(await store.prune({ maxPerRoom: 6 }), 5);
      const page = await store.after("r", 0, 100);
      assert.equal(page.prunedThrough, 2);
      assert.deepEqual(
        page.messages.map((m) => [m.id, m.kind]),
        [
          [3, "chat"],
          [5, "react"],
          [7, "chat"],
        ],
      );
      assert.equal((await store.message("r", 7))?.refId, 1);
      assert.deepEqual((await store.message("r", 3))?.reactions, [
        { emoji: "👍", count: 1, mine: false },
      ]);
      assert.deepEqual((await store.message("other", 1))?.reactions, [
        { emoji: "👍", count: 1, mine: false },
      ]);
      assert.equal(await store.lastId("r"), 8);

      // A change to a message retention removed finds nothing.
      await assert.rejects(
        store.append([change("react", "r", 1, "🎉")]),
        isTargetError("missing", 1),
      );
      // Everything left: 3, 5 and 7 here, and both entries of "other".
      assert.equal(await store.prune({ maxPerRoom: 0 }), 5);
      assert.deepEqual(await store.after("r", 0, 100), { messages: [], prunedThrough: 7 });
    }));

  test(`${name}: a read marker only moves forward, per user and room, and lists no room`, () =>
    withStore(async (store) => {
      await store.append([chat("r", "one"), chat("r", "two"), chat("r", "three")]);
      assert.equal(await store.readMarker("u1", "r"), 0);
      assert.equal(await store.markRead("u1", "r", 2), 2);
      assert.equal(await store.markRead("u1", "r", 1), 2, "never back");
      assert.equal(await store.readMarker("u1", "r"), 2);
      assert.equal(await store.markRead("u1", "r", 3), 3);
      assert.equal(await store.readMarker("u2", "r"), 0);
      assert.equal(await store.readMarker("u1", "s"), 0);
      await store.markRead("u1", "only-a-marker", 5);
      assert.deepEqual(
        (await store.listRooms({ limit: 10 })).map((r) => r.room),
        ["r"],
      );
      await assert.rejects(store.markRead("u1", "r", -1), RangeError);
      await assert.rejects(store.markRead("u1", "r", 1.5), RangeError);
    }));

  test(`${name}: unread counts others' live chat messages above the marker, up to the cap`, () =>
    withStore(async (store) => {
      const them = { userId: "u2", username: "two" };
      await store.append([
        chat("r", "read already", them), // 1
        chat("r", "mine"), // 2
        chat("r", "theirs a", them), // 3
        system("r", "bob joined"), // 4
        chat("r", "theirs b", them), // 5
        chat("r", "theirs gone", them), // 6
      ]);
      await one(store, change("delete", "r", 6)); // 7
      await one(store, change("react", "r", 5, "👍")); // 8
      await store.append([chat("r", "theirs c", them)]); // 9
      await store.append([chat("quiet", "q1", them), chat("dm:u1:u2", "psst", them)]);
      await store.markRead("u1", "r", 1);
      const options = { cap: 100, mentionNames: [], fromStart: new Set<string>() };

      const [r, quiet, dm, none] = await store.unread(
        "u1",
        ["r", "quiet", "dm:u1:u2", "nowhere"],
        options,
      );
      assert.deepEqual(r, { room: "r", lastReadId: 1, unread: 3, mentionCandidates: [] });
      assert.deepEqual(quiet, { room: "quiet", lastReadId: 0, unread: 0, mentionCandidates: [] });
      assert.deepEqual(dm?.unread, 0, "no marker and not from the start: nothing counted");
      assert.deepEqual(none, { room: "nowhere", lastReadId: 0, unread: 0, mentionCandidates: [] });

      const fromStart = new Set(["dm:u1:u2", "nowhere"]);
      const [dmFromStart, nowhere] = await store.unread("u1", ["dm:u1:u2", "nowhere"], {
        ...options,
        fromStart,
      });
      assert.deepEqual(dmFromStart, {
        room: "dm:u1:u2",
        lastReadId: 0,
        unread: 1,
        mentionCandidates: [],
      });
      assert.equal(nowhere?.unread, 0);
      // A marker wins over fromStart.
      await store.markRead("u1", "dm:u1:u2", 1);
      assert.equal(
        (await store.unread("u1", ["dm:u1:u2"], { ...options, fromStart }))[0]?.unread,
        0,
      );

      assert.equal((await store.unread("u1", ["r"], { ...options, cap: 2 }))[0]?.unread, 2);
      assert.equal((await store.unread("u1", ["r"], { ...options, cap: 0 }))[0]?.unread, 0);
      assert.deepEqual(await store.unread("u1", [], options), []);
      await assert.rejects(store.unread("u1", ["r"], { ...options, cap: -1 }), RangeError);
      // The other user sees the first user's message, and theirs not.
      assert.equal(
        (await store.unread("u2", ["r"], { ...options, fromStart: new Set(["r"]) }))[0]?.unread,
        1,
      );
    }));

  test(`${name}: mention candidates hold a name ignoring case, newest first; % and _ are plain`, () =>
    withStore(async (store) => {
      const them = { userId: "u2", username: "two" };
      await store.append(
        [
          "hey UNA, look", // 1
          "nothing here", // 2
          "ask 100%_sure", // 3: the name "0%_s" is in it as it stands
          "ask 100xxsure", // 4: % and _ as wildcards would match here
          "Émile et una", // 5
          "émile encore", // 6
          "deleted una", // 7
        ].map((text) => chat("r", text, them)),
      );
      await store.append([chat("r", "una myself")]); // 8: the reader's own
      await one(store, change("delete", "r", 7));
      const unread = (mentionNames: string[], cap = 100) =>
        store.unread("u1", ["r"], { cap, mentionNames, fromStart: new Set(["r"]) });

      const [both] = await unread(["una", "0%_s"]);
      assert.equal(both?.unread, 6);
      assert.deepEqual(both?.mentionCandidates, ["Émile et una", "ask 100%_sure", "hey UNA, look"]);
      assert.deepEqual((await unread(["ÉMILE"]))[0]?.mentionCandidates, [
        "émile encore",
        "Émile et una",
      ]);
      assert.deepEqual((await unread(["_"]))[0]?.mentionCandidates, ["ask 100%_sure"]);
      assert.deepEqual((await unread(["una"], 2))[0], {
        room: "r",
        lastReadId: 0,
        unread: 2,
        mentionCandidates: ["Émile et una"],
      });
      assert.deepEqual((await unread([]))[0]?.mentionCandidates, []);
    }));
}
