// What every Store must do as an AdminStore: accounts listed, disabled and
// deleted, password resets, whole rooms deleted, and a history exported and
// imported in its current state. Run on every engine next to storeContract;
// backups are engine-specific (store-backup.test.ts, pg-store.test.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Account,
  type ExportedMessage,
  ImportConflictError,
  type NewMessage,
  type Store,
  type TokenRecord,
} from "../src/store/store.ts";
import { type ManualClock, manualClock } from "./store-contract.ts";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const chat = (room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  room,
  userId: "a-una",
  username: "una",
  text,
  kind: "chat",
  clientMsgId: "",
  ...extra,
});

const change = (
  room: string,
  kind: "edit" | "delete" | "react" | "unreact",
  refId: number,
  userId: string,
  text = "",
): NewMessage => chat(room, text, { kind, refId, userId, username: userId.slice(2) });

const account = (name: string, extra: Partial<Account> = {}): Account => ({
  userId: `a-${name.toLowerCase()}`,
  username: name,
  nameKey: name.toLowerCase(),
  passwordHash: `hash-of-${name}`,
  createdMs: T0,
  ...extra,
});

const hash = (seed: string) => seed.repeat(64).slice(0, 64);

const token = (seed: string, userId: string, expiresMs = T0 + HOUR): TokenRecord => ({
  tokenHash: hash(seed),
  userId,
  expiresMs,
});

const isConflict = (room: string) => (error: unknown) => {
  assert.ok(error instanceof ImportConflictError, String(error));
  assert.equal(error.room, room);
  return true;
};

/**
 * What every Store must do as an AdminStore, run against a real engine.
 * `open` returns a fresh, empty store whose times come from `now`.
 */
export function adminContract(name: string, open: (now: () => number) => Promise<Store>): void {
  const withStore = async (body: (store: Store, clock: ManualClock) => Promise<void>) => {
    const clock = manualClock(T0);
    const store = await open(clock.now);
    try {
      await body(store, clock);
    } finally {
      await store.close();
    }
  };
  const everything = { limit: 1_000, includeSystem: true };

  test(`${name}: listAccounts pages by name key, with each account's disabled flag`, () =>
    withStore(async (store) => {
      for (const who of ["carol", "Alice", "bob", "dave"]) {
        assert.equal(await store.createAccount(account(who)), true);
      }
      await store.setDisabled("a-bob", true);
      const page = await store.listAccounts({ limit: 2 });
      assert.deepEqual(page, [
        { ...account("Alice"), disabled: false },
        { ...account("bob"), disabled: true },
      ]);
      const next = await store.listAccounts({ limit: 10, afterNameKey: "bob" });
      assert.deepEqual(
        next.map((a) => [a.nameKey, a.disabled]),
        [
          ["carol", false],
          ["dave", false],
        ],
      );
      assert.deepEqual(await store.listAccounts({ limit: 10, afterNameKey: "dave" }), []);
      // Byte order on every engine, whatever a database's collation says.
      await store.createAccount(account("Émile"));
      await store.createAccount(account("zoe"));
      assert.deepEqual(
        (await store.listAccounts({ limit: 10, afterNameKey: "dave" })).map((a) => a.nameKey),
        ["zoe", "émile"],
      );
      assert.deepEqual(await store.listAccounts({ limit: 0 }), []);
      await assert.rejects(store.listAccounts({ limit: -1 }), RangeError);
    }));

  test(`${name}: a disabled account's tokens stop working, and none it gets later works`, () =>
    withStore(async (store) => {
      await store.createAccount(account("una"));
      await store.createAccount(account("bob"));
      await store.saveToken(token("1", "a-una"));
      await store.saveToken(token("2", "a-bob"));
      assert.equal(await store.accountDisabled("a-una"), false);
      assert.equal(await store.accountDisabled("a-nobody"), false);
      assert.equal(await store.setDisabled("a-nobody", true), false);

      assert.equal(await store.setDisabled("a-una", true), true);
      assert.equal(await store.accountDisabled("a-una"), true);
      assert.equal(await store.tokenAccount(hash("1"), T0), undefined);
      assert.equal(await store.revokeToken(hash("1")), false, "deleted, not only hidden");
      // A login that checked the password just before the account was disabled.
      await store.saveToken(token("3", "a-una"));
      assert.equal(await store.tokenAccount(hash("3"), T0), undefined);
      assert.equal((await store.tokenAccount(hash("2"), T0))?.account.userId, "a-bob");
      // The account itself stays, and its name stays taken.
      assert.deepEqual(await store.accountById("a-una"), account("una"));
      assert.equal(await store.createAccount(account("una", { userId: "a-other" })), false);

      assert.equal(await store.setDisabled("a-una", false), true);
      assert.equal(await store.accountDisabled("a-una"), false);
      await store.saveToken(token("4", "a-una"));
      assert.equal((await store.tokenAccount(hash("4"), T0))?.account.userId, "a-una");
    }));

  test(`${name}: deleteAccount takes its tokens, codes, roles, admin grant and markers; messages stay`, () =>
    withStore(async (store) => {
      await store.createAccount(account("una"));
      await store.createAccount(account("bob"));
      await store.append([chat("lobby", "mine"), chat("lobby", "bob's", { userId: "a-bob" })]);
      for (const who of ["a-una", "a-bob"]) {
        await store.saveToken(token(who.at(-1) ?? "", who));
        await store.markRead(who, "lobby", 2);
        await store.setRole("lobby", who, "moderator", T0);
        await store.setAdmin(who, true);
        await store.saveResetCode({
          codeHash: hash(`${who}-code`),
          userId: who,
          expiresMs: T0 + HOUR,
        });
      }
      await store.createRoom({
        room: "owned",
        owner: "a-una",
        inviteOnly: true,
        readOnly: false,
        createdMs: T0,
      });

      assert.equal(await store.deleteAccount("a-una"), true);
      assert.equal(await store.deleteAccount("a-una"), false);
      assert.equal(await store.deleteAccount("a-nobody"), false);
      assert.equal(await store.accountById("a-una"), undefined);
      assert.equal(await store.accountByName("una"), undefined);
      assert.equal(await store.tokenAccount(hash("a"), T0), undefined);
      assert.equal(await store.takeResetCode(hash("a-una-code"), T0), undefined);
      assert.equal((await store.rolesOf("a-una")).size, 0);
      assert.deepEqual(await store.roles("lobby"), new Map([["a-bob", "moderator"]]));
      assert.equal((await store.roomRecord("owned"))?.owner, "", "left to the server's admins");
      assert.deepEqual(await store.admins(), ["a-bob"]);
      assert.equal(await store.readMarker("a-una", "lobby"), 0);
      assert.deepEqual(
        (await store.history("lobby", everything)).map((m) => [m.userId, m.text]),
        [
          ["a-bob", "bob's"],
          ["a-una", "mine"],
        ],
      );
      // Bob is untouched.
      assert.equal((await store.tokenAccount(hash("b"), T0))?.account.userId, "a-bob");
      assert.equal(await store.readMarker("a-bob", "lobby"), 2);
      assert.equal(await store.takeResetCode(hash("a-bob-code"), T0), "a-bob");
      // The name is free for someone new.
      assert.equal(await store.createAccount(account("una", { userId: "a-una2" })), true);
      assert.equal((await store.accountByName("una"))?.userId, "a-una2");
    }));

  test(`${name}: setPasswordHash replaces the hash and ends the account's sessions only`, () =>
    withStore(async (store) => {
      await store.createAccount(account("una"));
      await store.createAccount(account("bob"));
      await store.saveToken(token("1", "a-una"));
      await store.saveToken(token("2", "a-bob"));
      assert.equal(await store.setPasswordHash("a-una", "new-hash"), true);
      assert.equal((await store.accountById("a-una"))?.passwordHash, "new-hash");
      assert.equal(await store.tokenAccount(hash("1"), T0), undefined);
      assert.equal((await store.tokenAccount(hash("2"), T0))?.account.userId, "a-bob");
      assert.equal(await store.setPasswordHash("a-nobody", "x"), false);
      assert.equal(await store.accountById("a-nobody"), undefined);
    }));

  test(`${name}: a reset code is taken once, not at or after its expiry, and a new one replaces it`, () =>
    withStore(async (store) => {
      await store.createAccount(account("una"));
      const code = (seed: string, expiresMs = T0 + HOUR) => ({
        codeHash: hash(seed),
        userId: "a-una",
        expiresMs,
      });
      await store.saveResetCode(code("1"));
      assert.equal(await store.takeResetCode(hash("1"), T0), "a-una");
      assert.equal(await store.takeResetCode(hash("1"), T0), undefined);

      await store.saveResetCode(code("2"));
      assert.equal(await store.takeResetCode(hash("2"), T0 + HOUR), undefined, "expired");
      assert.equal(await store.takeResetCode(hash("2"), T0 + HOUR - 1), "a-una");

      await store.saveResetCode(code("3"));
      await store.saveResetCode(code("4"));
      assert.equal(await store.takeResetCode(hash("3"), T0), undefined, "replaced");
      assert.equal(await store.takeResetCode(hash("4"), T0), "a-una");

      // Nobody to reset: nothing is stored.
      await store.saveResetCode({ ...code("5"), userId: "a-nobody" });
      assert.equal(await store.takeResetCode(hash("5"), T0), undefined);

      // Taken at once by many: once.
      await store.saveResetCode(code("6"));
      const takes = await Promise.all(
        Array.from({ length: 8 }, () => store.takeResetCode(hash("6"), T0)),
      );
      assert.deepEqual(
        takes.filter((taken) => taken !== undefined),
        ["a-una"],
      );
    }));

  test(`${name}: retention drops expired reset codes and keeps the others`, () =>
    withStore(async (store, clock) => {
      await store.createAccount(account("una"));
      await store.createAccount(account("bob"));
      await store.saveResetCode({ codeHash: hash("1"), userId: "a-una", expiresMs: T0 + 5 });
      await store.saveResetCode({ codeHash: hash("2"), userId: "a-bob", expiresMs: T0 + HOUR });
      await store.prune({});
      assert.equal(await store.takeResetCode(hash("1"), T0), "a-una", "not yet expired");
      await store.saveResetCode({ codeHash: hash("1"), userId: "a-una", expiresMs: T0 + 5 });
      clock.advance(10);
      await store.prune({ maxPerRoom: 100 });
      // Asked as if earlier: only a code retention dropped is gone then.
      assert.equal(await store.takeResetCode(hash("1"), T0), undefined);
      assert.equal(await store.takeResetCode(hash("2"), T0 + 10), "a-bob");
    }));

  test(`${name}: deleteRoom leaves no trace of the room, and other rooms as they were`, () =>
    withStore(async (store) => {
      const room = (name: string) => ({
        room: name,
        owner: "a-una",
        inviteOnly: true,
        readOnly: false,
        createdMs: T0,
      });
      for (const r of ["doomed", "kept"]) {
        await store.createRoom(room(r));
        await store.setRole(r, "a-bob", "moderator", T0);
        await store.setTopic(r, `about ${r}`);
        await store.append([chat(r, "first"), chat(r, "hi", { clientMsgId: "k1" })]);
        await store.append([chat(r, "bob joined", { kind: "system", userId: "system" })]);
        await store.append([chat(r, "reply", { refId: 1, userId: "a-bob" })]);
        await store.append([change(r, "edit", 1, "a-una", "first, edited")]);
        await store.append([change(r, "react", 1, "a-bob", "👍")]);
        await store.append([change(r, "delete", 2, "a-una")]);
        await store.markRead("a-bob", r, 4);
        await store.setSanction({
          room: r,
          userId: "a-eve",
          kind: "ban",
          untilMs: 0,
          reason: "",
          byId: "a-una",
          createdMs: T0,
        });
        await store.createInvite({
          codeHash: hash(r[0] ?? ""),
          room: r,
          createdBy: "a-una",
          createdMs: T0,
          expiresMs: T0 + HOUR,
          usesLeft: 5,
          unlimited: false,
        });
        await store.addReport({
          room: r,
          messageId: 1,
          reporter: "a-bob",
          reason: "",
          createdMs: T0,
        });
      }
      const keptBefore = await store.history("kept", { ...everything, viewer: "a-bob" });

      assert.equal(await store.deleteRoom("doomed"), 4, "three chat messages and a system one");
      assert.equal(await store.lastId("doomed"), 0);
      assert.deepEqual(await store.after("doomed", 0, 100), { messages: [], prunedThrough: 0 });
      assert.deepEqual(await store.history("doomed", everything), []);
      assert.equal(await store.message("doomed", 1), undefined);
      assert.deepEqual(
        (await store.listRooms({ limit: 10 })).map((r) => r.room),
        ["kept"],
      );
      assert.equal(await store.topic("doomed"), "");
      assert.equal(await store.roomRecord("doomed"), undefined);
      assert.equal((await store.roles("doomed")).size, 0);
      assert.deepEqual(await store.rolesOf("a-bob"), new Map([["kept", "moderator"]]));
      assert.deepEqual(await store.reports("doomed", { limit: 10, includeResolved: true }), []);
      assert.deepEqual(await store.sanctions("doomed", T0), []);
      assert.equal(await store.redeemInvite(hash("d"), T0), undefined);
      assert.equal(await store.readMarker("a-bob", "doomed"), 0);
      assert.deepEqual(
        (await store.exportRooms()).map((r) => r.room),
        ["kept"],
      );
      assert.equal(await store.deleteRoom("doomed"), 0);
      assert.equal(await store.deleteRoom("never-was"), 0);

      // The name starts again as if never used: it can be created, its ids
      // count from 1, and no old reaction comes back.
      assert.equal(await store.createRoom(room("doomed")), true);
      const [again] = await store.append([chat("doomed", "anew")]);
      assert.equal(again?.message.id, 1);
      assert.deepEqual(await store.message("doomed", 1, "a-bob"), again?.message);

      // The other room is as it was.
      assert.deepEqual(await store.history("kept", { ...everything, viewer: "a-bob" }), keptBefore);
      assert.equal(await store.topic("kept"), "about kept");
      assert.equal((await store.roomRecord("kept"))?.owner, "a-una");
      assert.equal(await store.readMarker("a-bob", "kept"), 4);
      assert.equal((await store.reports("kept", { limit: 10, includeResolved: true })).length, 1);
      assert.equal((await store.sanctions("kept", T0)).length, 1);
      assert.equal(await store.redeemInvite(hash("k"), T0), "kept");
    }));

  test(`${name}: deleteRoom of a pruned room forgets its ids too`, () =>
    withStore(async (store) => {
      await store.append([chat("p", "1"), chat("p", "2"), chat("p", "3")]);
      assert.equal(await store.prune({ maxPerRoom: 1 }), 2);
      assert.equal(await store.deleteRoom("p"), 1);
      assert.equal(await store.lastId("p"), 0);
      assert.deepEqual(await store.after("p", 0, 10), { messages: [], prunedThrough: 0 });
      const [first] = await store.append([chat("p", "anew")]);
      assert.equal(first?.message.id, 1);
    }));

  test(`${name}: appends during deleteRoom leave a gapless room counting from 1`, () =>
    withStore(async (store) => {
      await store.append(Array.from({ length: 20 }, (_, i) => chat("busy", `old ${i}`)));
      const appends = Array.from({ length: 30 }, (_, i) =>
        store.append([chat("busy", `new ${i}`)]),
      );
      const [removed] = await Promise.all([store.deleteRoom("busy"), ...appends]);
      const left = (await store.after("busy", 0, 100)).messages.map((m) => m.id);
      assert.deepEqual(
        left,
        Array.from({ length: left.length }, (_, i) => i + 1),
      );
      assert.equal(await store.lastId("busy"), left.length);
      assert.equal(removed + left.length, 50, "every message was either deleted or kept");
    }));

  test(`${name}: exportRooms lists every room with a message, topic or record, dm rooms too`, () =>
    withStore(async (store) => {
      await store.append([chat("dm:a-bob:a-una", "psst")]);
      await store.setTopic("topical", "things");
      await store.setTopic("cleared", "was");
      await store.setTopic("cleared", "");
      await store.updateRoom("recorded", { readOnly: true }, T0 + 1);
      await store.setRole("recorded", "a-bob", "member", T0);
      await store.setRole("recorded", "a-al", "moderator", T0);
      await store.setRole("roles-only", "a-bob", "member", T0);
      assert.deepEqual(await store.exportRooms(), [
        { room: "dm:a-bob:a-una", topic: "", record: undefined, roles: [] },
        {
          room: "recorded",
          topic: "",
          record: { owner: "", inviteOnly: false, readOnly: true, createdMs: T0 + 1 },
          roles: [
            { userId: "a-al", role: "moderator" },
            { userId: "a-bob", role: "member" },
          ],
        },
        { room: "topical", topic: "things", record: undefined, roles: [] },
      ]);
    }));

  test(`${name}: exportMessages gives chat and system messages in current state, with reactors in order`, () =>
    withStore(async (store) => {
      await fillLobby(store);
      const exported = await store.exportMessages("lobby", 0, 100);
      assert.deepEqual(
        exported.map((m) => [m.id, m.kind, m.text, m.refId, m.deleted, m.editedMs]),
        [
          [1, "chat", "hello, edited", undefined, undefined, T0],
          [2, "system", "bob joined", undefined, undefined, undefined],
          [3, "chat", "", undefined, true, undefined],
          [4, "chat", "answer", 1, undefined, undefined],
        ],
      );
      assert.deepEqual(exported[0]?.reactors, [
        { emoji: "👍", users: ["a-cy", "a-bob", "a-una"] },
        { emoji: "🎉", users: ["a-bob", "a-eve"] },
        { emoji: "😀", users: ["a-cy"] },
      ]);
      assert.deepEqual(exported[3]?.reactors, []);
      assert.equal(exported[0]?.clientMsgId, "k-hello");
      // Paged: after an id, at most the limit.
      assert.deepEqual(
        (await store.exportMessages("lobby", 1, 2)).map((m) => m.id),
        [2, 3],
      );
      assert.deepEqual(await store.exportMessages("lobby", 4, 10), []);
      assert.deepEqual(await store.exportMessages("nowhere", 0, 10), []);
      await assert.rejects(store.exportMessages("lobby", 0, -1), RangeError);
    }));

  test(`${name}: an export imported into a fresh store reads exactly as it did`, () =>
    withStore(async (source, clock) => {
      await fillLobby(source);
      await source.append([chat("dm:a-bob:a-una", "psst", { userId: "a-bob" })]);
      await source.setTopic("topic-only", "quiet");
      const target = await open(clock.now);
      try {
        await copyHistory(source, target, 2);
        assert.deepEqual(await target.exportRooms(), await source.exportRooms());
        for (const room of ["lobby", "dm:a-bob:a-una"]) {
          await assertReadsAlike(source, target, room);
          assert.deepEqual(
            await target.exportMessages(room, 0, 100),
            await source.exportMessages(room, 0, 100),
          );
        }
        assert.equal(await target.topic("topic-only"), "quiet");
        assert.deepEqual(
          (await target.listRooms({ limit: 10, dmsOf: "a-una" })).map((r) => [r.room, r.lastId]),
          [
            ["dm:a-bob:a-una", 1],
            ["lobby", 4],
            ["topic-only", 0],
          ],
        );

        // Imported again from the copy, after() pages are identical too: the
        // copy has no change entries, and neither has its copy.
        const third = await open(clock.now);
        try {
          await copyHistory(target, third, 3);
          for (let after = 0; after <= 4; after++) {
            assert.deepEqual(
              await third.after("lobby", after, 2),
              await target.after("lobby", after, 2),
            );
            assert.deepEqual(
              await third.after("lobby", after, 2, false),
              await target.after("lobby", after, 2, false),
            );
          }
        } finally {
          await third.close();
        }

        // The history goes on after the highest id, and later reactions sort after the imported ones.
        const [next] = await target.append([chat("lobby", "after the import")]);
        assert.equal(next?.message.id, 5);
        await target.append([change("lobby", "react", 1, "a-new", "🎉")]);
        await target.append([change("lobby", "react", 1, "a-new", "🆕")]);
        const [first] = await target.exportMessages("lobby", 0, 1);
        assert.deepEqual(first?.reactors, [
          { emoji: "👍", users: ["a-cy", "a-bob", "a-una"] },
          { emoji: "🎉", users: ["a-bob", "a-eve", "a-new"] },
          { emoji: "😀", users: ["a-cy"] },
          { emoji: "🆕", users: ["a-new"] },
        ]);
      } finally {
        await target.close();
      }
    }));

  test(`${name}: an import into a room with history is refused, storing nothing`, () =>
    withStore(async (store) => {
      await store.append([chat("busy", "here first"), chat("busy", "and second")]);
      await store.setTopic("busy", "ours");
      await assert.rejects(
        store.importRoom({
          room: "busy",
          topic: "theirs",
          record: { owner: "a-x", inviteOnly: true, readOnly: true, createdMs: T0 },
          roles: [{ userId: "a-x", role: "owner" }],
        }),
        isConflict("busy"),
      );
      assert.equal(await store.topic("busy"), "ours");
      assert.equal(await store.roomRecord("busy"), undefined);
      assert.equal((await store.roles("busy")).size, 0);

      const message = (id: number, text = `m${id}`): ExportedMessage => ({
        ...chat("busy", text),
        id,
        timeMs: T0 + id,
        reactors: [{ emoji: "👍", users: ["a-x"] }],
      });
      // At or below the room's newest, or not ascending: nothing of the call.
      for (const ids of [[2], [1, 3], [3, 5, 4], [3, 3], [4, 6, 2]]) {
        await assert.rejects(
          store.importMessages(
            "busy",
            ids.map((id) => message(id)),
          ),
          isConflict("busy"),
          `${ids}`,
        );
      }
      assert.equal(await store.lastId("busy"), 2);
      assert.deepEqual(
        (await store.history("busy", everything)).map((m) => m.text),
        ["and second", "here first"],
      );
      // Refused by the database half-way (one user's key twice): nothing either.
      const keyed = (id: number) => ({ ...message(id), clientMsgId: "same" });
      await assert.rejects(store.importMessages("busy", [message(3), keyed(4), keyed(5)]));
      assert.equal(await store.lastId("busy"), 2);
      assert.equal(await store.message("busy", 3), undefined);
      await assert.rejects(
        store.importMessages("busy", [{ ...message(3), kind: "edit", refId: 1 }]),
        RangeError,
      );

      // Above the newest, ascending: taken, and appends go on after them.
      await store.importMessages("busy", [message(7), message(9)]);
      assert.equal(await store.lastId("busy"), 9);
      const [next] = await store.append([chat("busy", "next")]);
      assert.equal(next?.message.id, 10);
      assert.deepEqual((await store.message("busy", 9, "a-x"))?.reactions, [
        { emoji: "👍", count: 1, mine: true },
      ]);
    }));

  test(`${name}: importRoom restores the record, roles and topic of a room with no messages`, () =>
    withStore(async (store) => {
      await store.setTopic("r", "old topic");
      await store.setRole("r", "a-stale", "member", T0);
      await store.importRoom({
        room: "r",
        topic: "new topic",
        record: { owner: "a-una", inviteOnly: true, readOnly: false, createdMs: T0 - 5 },
        roles: [
          { userId: "a-bob", role: "member" },
          { userId: "a-una", role: "owner" },
        ],
      });
      assert.equal(await store.topic("r"), "new topic");
      assert.deepEqual(await store.roomRecord("r"), {
        room: "r",
        owner: "a-una",
        inviteOnly: true,
        readOnly: false,
        createdMs: T0 - 5,
      });
      assert.deepEqual(
        await store.roles("r"),
        new Map([
          ["a-bob", "member"],
          ["a-una", "owner"],
        ]),
      );
      await store.importRoom({ room: "r", topic: "", record: undefined, roles: [] });
      assert.equal(await store.topic("r"), "");
      assert.equal(await store.roomRecord("r"), undefined);
      assert.equal((await store.roles("r")).size, 0);
      await store.importMessages("r", []);
      assert.equal(await store.lastId("r"), 0);
    }));
}

/**
 * Room "lobby": a chat message (edited, keyed, reacted to in a tangled
 * order), a system message, a deleted message that had reactions, and a
 * reply; change entries take ids 5 and up.
 */
async function fillLobby(store: Store): Promise<void> {
  await store.createRoom({
    room: "lobby",
    owner: "a-una",
    inviteOnly: false,
    readOnly: false,
    createdMs: T0,
  });
  await store.setRole("lobby", "a-bob", "moderator", T0);
  await store.setTopic("lobby", "welcome");
  await store.append([chat("lobby", "hello", { clientMsgId: "k-hello" })]);
  await store.append([
    chat("lobby", "bob joined", { kind: "system", userId: "system", username: "System" }),
  ]);
  await store.append([chat("lobby", "regret", { userId: "a-bob" })]);
  await store.append([chat("lobby", "answer", { refId: 1, userId: "a-bob" })]);
  const steps: [Parameters<typeof change>[1], number, string, string][] = [
    ["react", 1, "a-una", "👍"],
    ["react", 1, "a-bob", "🎉"],
    ["react", 1, "a-cy", "👍"],
    ["react", 1, "a-una", "😀"],
    ["unreact", 1, "a-una", "😀"],
    ["react", 1, "a-bob", "👍"],
    ["unreact", 1, "a-una", "👍"],
    ["react", 1, "a-una", "👍"],
    ["react", 1, "a-eve", "🎉"],
    ["react", 1, "a-cy", "😀"],
    ["react", 3, "a-una", "👍"],
    ["delete", 3, "a-bob", ""],
  ];
  for (const [kind, refId, userId, text] of steps) {
    await store.append([change("lobby", kind, refId, userId, text)]);
  }
  await store.append([change("lobby", "edit", 1, "a-una", "hello, edited")]);
}

/** Every room of `source` into `target`, messages `pageSize` at a time. */
async function copyHistory(source: Store, target: Store, pageSize: number): Promise<void> {
  for (const room of await source.exportRooms()) {
    await target.importRoom(room);
    for (let after = 0; ; ) {
      const page = await source.exportMessages(room.room, after, pageSize);
      const last = page.at(-1);
      if (!last) break;
      await target.importMessages(room.room, page);
      after = last.id;
    }
  }
}

/**
 * history, message (for two readers and none) and after read the same on
 * both, after() leaving out the source's change entries, which an export
 * does not carry (the state they made is in the messages).
 */
async function assertReadsAlike(source: Store, target: Store, room: string): Promise<void> {
  for (const viewer of ["a-una", "a-bob", undefined]) {
    for (const includeSystem of [true, false]) {
      const options = { limit: 100, includeSystem, viewer };
      assert.deepEqual(await target.history(room, options), await source.history(room, options));
    }
    for (let id = 0; id <= (await source.lastId(room)) + 1; id++) {
      assert.deepEqual(
        await target.message(room, id, viewer),
        await source.message(room, id, viewer),
        `${room} ${id} for ${viewer}`,
      );
    }
  }
  const messagesOnly = async (store: Store, includeSystem: boolean) => {
    const page = await store.after(room, 0, 1_000, includeSystem);
    return {
      ...page,
      messages: page.messages.filter((m) => m.kind === "chat" || m.kind === "system"),
    };
  };
  for (const includeSystem of [true, false]) {
    assert.deepEqual(
      await messagesOnly(target, includeSystem),
      await messagesOnly(source, includeSystem),
    );
  }
  assert.equal(
    await target.lastId(room),
    (await source.exportMessages(room, 0, 1_000)).at(-1)?.id ?? 0,
  );
}
