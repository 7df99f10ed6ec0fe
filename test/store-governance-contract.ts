// What every Store must do as a GovernanceStore: room records and roles,
// bans and mutes, address bans, invites, webhooks, reports, audit, admins and the ids
// a ban erases. Run on every engine next to storeContract.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type AddressBan,
  type InviteRecord,
  type NewAuditEntry,
  type NewMessage,
  type NewReport,
  type RoomRecord,
  type Sanction,
  type Store,
  StoreUnavailableError,
  type WebhookRecord,
} from "../src/store/store.ts";
import { type ManualClock, manualClock } from "./store-contract.ts";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const chat = (room: string, text: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  room,
  userId: "u1",
  username: "una",
  text,
  kind: "chat",
  clientMsgId: "",
  ...extra,
});

const record = (room: string, extra: Partial<RoomRecord> = {}): RoomRecord => ({
  room,
  owner: "a-owner",
  inviteOnly: false,
  readOnly: false,
  createdMs: T0,
  ...extra,
});

const sanction = (extra: Partial<Sanction> = {}): Sanction => ({
  room: "r",
  userId: "u-bad",
  kind: "ban",
  untilMs: 0,
  reason: "spam",
  byId: "a-mod",
  createdMs: T0,
  ...extra,
});

const addressBan = (cidr: string, extra: Partial<AddressBan> = {}): AddressBan => ({
  cidr,
  untilMs: 0,
  reason: "flood",
  byId: "a-admin",
  createdMs: T0,
  ...extra,
});

const invite = (codeHash: string, extra: Partial<InviteRecord> = {}): InviteRecord => ({
  codeHash: codeHash.repeat(64).slice(0, 64),
  room: "r",
  createdBy: "a-mod",
  createdMs: T0,
  expiresMs: T0 + HOUR,
  usesLeft: 1,
  unlimited: false,
  ...extra,
});

const hook = (name: string, extra: Partial<WebhookRecord> = {}): WebhookRecord => ({
  id: `h-${name}`,
  secretHash: name.repeat(64).slice(0, 64),
  room: "r",
  name,
  createdBy: "a-mod",
  createdMs: T0,
  revokedMs: 0,
  ...extra,
});

const report = (room: string, messageId: number, extra: Partial<NewReport> = {}): NewReport => ({
  room,
  messageId,
  reporter: "u-reporter",
  reason: "rude",
  createdMs: T0,
  ...extra,
});

const audit = (room: string, action: string, extra: Partial<NewAuditEntry> = {}) => ({
  actor: "a-mod",
  action,
  room,
  target: "u-bad",
  reason: "",
  detail: "",
  createdMs: T0,
  ...extra,
});

const sorted = <T extends object>(list: readonly T[], key: (item: T) => string) =>
  [...list].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));

/**
 * What every Store must do as a GovernanceStore, run against a real engine.
 * `open` returns a fresh, empty store whose message times come from `now`.
 */
export function governanceContract(
  name: string,
  open: (now: () => number) => Promise<Store>,
): void {
  const withStore = async (body: (store: Store, clock: ManualClock) => Promise<void>) => {
    const clock = manualClock(T0);
    const store = await open(clock.now);
    try {
      await body(store, clock);
    } finally {
      await store.close();
    }
  };

  test(`${name}: createRoom stores the record and its owner's role, once`, () =>
    withStore(async (store) => {
      assert.equal(await store.roomRecord("r"), undefined);
      assert.equal(await store.createRoom(record("r", { inviteOnly: true })), true);
      assert.deepEqual(await store.roomRecord("r"), record("r", { inviteOnly: true }));
      assert.deepEqual(await store.roles("r"), new Map([["a-owner", "owner"]]));

      // An existing record is not created again, whoever asks and however.
      assert.equal(
        await store.createRoom(record("r", { owner: "a-other", readOnly: true })),
        false,
      );
      assert.deepEqual(await store.roomRecord("r"), record("r", { inviteOnly: true }));
      assert.deepEqual(await store.roles("r"), new Map([["a-owner", "owner"]]));

      // No owner: no role.
      assert.equal(await store.createRoom(record("ownerless", { owner: "" })), true);
      assert.deepEqual(await store.roomRecord("ownerless"), record("ownerless", { owner: "" }));
      assert.equal((await store.roles("ownerless")).size, 0);
    }));

  test(`${name}: createRoom refuses a room that has a message or a topic, storing nothing`, () =>
    withStore(async (store) => {
      await store.append([chat("talked", "hi")]);
      await store.append([chat("system-only", "una joined", { kind: "system", userId: "system" })]);
      await store.setTopic("topical", "about things");
      for (const room of ["talked", "system-only", "topical"]) {
        assert.equal(await store.createRoom(record(room)), false, room);
        assert.equal(await store.roomRecord(room), undefined, room);
        assert.equal((await store.roles(room)).size, 0, room);
      }
      // A topic cleared again is no topic.
      await store.setTopic("cleared", "for a while");
      await store.setTopic("cleared", "");
      assert.equal(await store.createRoom(record("cleared")), true);
    }));

  test(`${name}: listRooms lists a room once it is created, before anyone writes in it`, () =>
    withStore(async (store) => {
      await store.append([chat("b-talked", "hi")]);
      await store.createRoom(record("a-created"));
      await store.updateRoom("c-settings", { readOnly: true }, T0);
      await store.createRoom(record("d-used"));
      await store.append([chat("d-used", "first")]);
      const names = (rooms: { room: string }[]) => rooms.map((r) => r.room);
      assert.deepEqual(names(await store.listRooms({ limit: 10 })), [
        "a-created",
        "b-talked",
        "c-settings",
        "d-used",
      ]);
      const created = (await store.listRooms({ limit: 1 }))[0];
      assert.deepEqual(created, { room: "a-created", lastId: 0, lastTimeMs: 0, topic: "" });
      // Paged: each room once, in order.
      assert.deepEqual(names(await store.listRooms({ limit: 2, afterRoom: "a-created" })), [
        "b-talked",
        "c-settings",
      ]);
      assert.deepEqual(names(await store.listRooms({ limit: 5, afterRoom: "c-settings" })), [
        "d-used",
      ]);
    }));

  test(`${name}: createRoom of one name at once succeeds once`, () =>
    withStore(async (store) => {
      const owners = Array.from({ length: 6 }, (_, i) => `a-${i}`);
      const created = await Promise.all(
        owners.map((owner) => store.createRoom(record("r", { owner }))),
      );
      assert.equal(created.filter(Boolean).length, 1);
      const winner = owners[created.indexOf(true)] ?? "";
      assert.equal((await store.roomRecord("r"))?.owner, winner);
      assert.deepEqual(await store.roles("r"), new Map([[winner, "owner"]]));
    }));

  test(`${name}: updateRoom creates a record with defaults, then changes only the flags given`, () =>
    withStore(async (store) => {
      const created = await store.updateRoom("r", { readOnly: true }, T0 + 5);
      const expected = {
        room: "r",
        owner: "",
        inviteOnly: false,
        readOnly: true,
        createdMs: T0 + 5,
      };
      assert.deepEqual(created, expected);
      assert.deepEqual(await store.roomRecord("r"), expected);
      assert.deepEqual(await store.updateRoom("r", { inviteOnly: true }, T0 + 9), {
        ...expected,
        inviteOnly: true,
      });
      assert.deepEqual(await store.updateRoom("r", { readOnly: false }, T0 + 10), {
        ...expected,
        inviteOnly: true,
        readOnly: false,
      });
      assert.deepEqual(await store.updateRoom("r", {}, T0 + 11), {
        ...expected,
        inviteOnly: true,
        readOnly: false,
      });
      // A created room keeps its owner.
      await store.createRoom(record("owned"));
      assert.deepEqual(
        await store.updateRoom("owned", { inviteOnly: true }, T0 + 20),
        record("owned", { inviteOnly: true }),
      );
      assert.equal(await store.createRoom(record("r")), false, "a record from updateRoom counts");
    }));

  test(`${name}: setRole owner hands the room on; the previous owner becomes a moderator`, () =>
    withStore(async (store) => {
      await store.createRoom(record("r"));
      await store.setRole("r", "a-mod", "moderator", T0 + 1);
      await store.setRole("r", "a-member", "member", T0 + 1);
      await store.setRole("r", "a-mod", "owner", T0 + 2);
      assert.deepEqual(await store.roomRecord("r"), record("r", { owner: "a-mod" }));
      assert.deepEqual(
        await store.roles("r"),
        new Map([
          ["a-owner", "moderator"],
          ["a-mod", "owner"],
          ["a-member", "member"],
        ]),
      );
      // To someone with no role yet; the same owner again changes nothing.
      await store.setRole("r", "a-new", "owner", T0 + 3);
      await store.setRole("r", "a-new", "owner", T0 + 4);
      assert.equal((await store.roomRecord("r"))?.owner, "a-new");
      assert.deepEqual(
        await store.roles("r"),
        new Map([
          ["a-owner", "moderator"],
          ["a-mod", "moderator"],
          ["a-member", "member"],
          ["a-new", "owner"],
        ]),
      );
    }));

  test(`${name}: setRole owner on a room with no record creates one with defaults`, () =>
    withStore(async (store) => {
      await store.setRole("r", "a-first", "owner", T0 + 7);
      assert.deepEqual(await store.roomRecord("r"), {
        room: "r",
        owner: "a-first",
        inviteOnly: false,
        readOnly: false,
        createdMs: T0 + 7,
      });
      assert.deepEqual(await store.roles("r"), new Map([["a-first", "owner"]]));
      // An ownerless record (admins own it) gets its first owner: nobody is demoted.
      await store.updateRoom("open", { readOnly: true }, T0);
      await store.setRole("open", "a-mod", "moderator", T0);
      await store.setRole("open", "a-boss", "owner", T0 + 1);
      assert.deepEqual(await store.roomRecord("open"), {
        room: "open",
        owner: "a-boss",
        inviteOnly: false,
        readOnly: true,
        createdMs: T0,
      });
      assert.deepEqual(
        await store.roles("open"),
        new Map([
          ["a-mod", "moderator"],
          ["a-boss", "owner"],
        ]),
      );
    }));

  test(`${name}: setRole undefined removes a role; the owner's leaves the room ownerless`, () =>
    withStore(async (store) => {
      await store.createRoom(record("r"));
      await store.setRole("r", "a-mod", "moderator", T0);
      await store.setRole("r", "a-mod", undefined, T0);
      await store.setRole("r", "a-nobody", undefined, T0);
      assert.deepEqual(await store.roles("r"), new Map([["a-owner", "owner"]]));
      assert.equal((await store.roomRecord("r"))?.owner, "a-owner");

      await store.setRole("r", "a-owner", undefined, T0);
      assert.deepEqual(await store.roomRecord("r"), record("r", { owner: "" }));
      assert.equal((await store.roles("r")).size, 0);
      // setRole with no owner to hand over from still demotes nobody.
      await store.setRole("r", "a-next", "owner", T0);
      assert.deepEqual(await store.roles("r"), new Map([["a-next", "owner"]]));
      // An owner given another role is no longer the owner either.
      await store.setRole("r", "a-next", "moderator", T0);
      assert.equal((await store.roomRecord("r"))?.owner, "");
      assert.deepEqual(await store.roles("r"), new Map([["a-next", "moderator"]]));
      // A role without a record stores no record.
      await store.setRole("bare", "a-mod", "moderator", T0);
      assert.equal(await store.roomRecord("bare"), undefined);
      assert.deepEqual(await store.roles("bare"), new Map([["a-mod", "moderator"]]));
    }));

  test(`${name}: rolesOf lists the rooms where a user has a role`, () =>
    withStore(async (store) => {
      await store.createRoom(record("mine", { owner: "a-una" }));
      await store.setRole("modded", "a-una", "moderator", T0);
      await store.setRole("club", "a-una", "member", T0);
      await store.setRole("club", "a-bob", "member", T0);
      await store.setRole("gone", "a-una", "member", T0);
      await store.setRole("gone", "a-una", undefined, T0);
      assert.deepEqual(
        await store.rolesOf("a-una"),
        new Map([
          ["club", "member"],
          ["mine", "owner"],
          ["modded", "moderator"],
        ]),
      );
      assert.deepEqual(await store.rolesOf("a-bob"), new Map([["club", "member"]]));
      assert.equal((await store.rolesOf("a-nobody")).size, 0);
      await store.setRole("mine", "a-bob", "owner", T0);
      assert.equal((await store.rolesOf("a-una")).get("mine"), "moderator");
    }));

  test(`${name}: a sanction replaces the same user's same kind; lifting says whether there was one`, () =>
    withStore(async (store, clock) => {
      await store.setSanction(sanction());
      await store.setSanction(sanction({ kind: "mute", untilMs: T0 + HOUR }));
      await store.setSanction(
        sanction({ reason: "more spam", untilMs: T0 + 2 * HOUR, byId: "a-o" }),
      );
      await store.setSanction(sanction({ userId: "u-other" }));
      const now = clock.now();
      assert.deepEqual(
        sorted(await store.sanctions("r", now), (s) => s.userId + s.kind),
        [
          sanction({ reason: "more spam", untilMs: T0 + 2 * HOUR, byId: "a-o" }),
          sanction({ kind: "mute", untilMs: T0 + HOUR }),
          sanction({ userId: "u-other" }),
        ],
      );
      assert.equal(await store.liftSanction("r", "u-bad", "ban"), true);
      assert.equal(await store.liftSanction("r", "u-bad", "ban"), false);
      assert.equal(await store.liftSanction("elsewhere", "u-other", "ban"), false);
      assert.equal(await store.liftSanction("r", "u-other", "mute"), false);
      assert.deepEqual(
        sorted(await store.sanctions("r", now), (s) => s.userId + s.kind),
        [sanction({ kind: "mute", untilMs: T0 + HOUR }), sanction({ userId: "u-other" })],
      );
    }));

  test(`${name}: sanctions leaves out ended ones, and lists every room's when room is undefined`, () =>
    withStore(async (store, clock) => {
      await store.setSanction(sanction({ untilMs: T0 + HOUR }));
      await store.setSanction(sanction({ room: "r2", kind: "mute" }));
      await store.setSanction(sanction({ room: "r3", untilMs: T0 - 1 }));
      const kinds = (list: Sanction[]) => sorted(list, (s) => s.room).map((s) => [s.room, s.kind]);
      assert.deepEqual(kinds(await store.sanctions(undefined, clock.now())), [
        ["r", "ban"],
        ["r2", "mute"],
      ]);
      assert.deepEqual(kinds(await store.sanctions("r3", clock.now())), []);
      clock.advance(HOUR - 1);
      assert.deepEqual(kinds(await store.sanctions("r", clock.now())), [["r", "ban"]]);
      // untilMs is when it ends: not in force at that very time.
      clock.advance(1);
      assert.deepEqual(kinds(await store.sanctions("r", clock.now())), []);
      assert.deepEqual(kinds(await store.sanctions(undefined, clock.now() + 365 * 24 * HOUR)), [
        ["r2", "mute"],
      ]);
    }));

  test(`${name}: address bans are replaced, lifted and end like sanctions`, () =>
    withStore(async (store, clock) => {
      await store.setAddressBan(addressBan("203.0.113.0/24", { untilMs: T0 + HOUR }));
      await store.setAddressBan(addressBan("2001:db8::/32"));
      await store.setAddressBan(addressBan("198.51.100.7/32", { untilMs: T0 }));
      await store.setAddressBan(
        addressBan("203.0.113.0/24", { untilMs: T0 + 2 * HOUR, reason: "again", byId: "a-2" }),
      );
      const now = clock.now();
      assert.deepEqual(
        sorted(await store.addressBans(now), (b) => b.cidr),
        [
          addressBan("2001:db8::/32"),
          addressBan("203.0.113.0/24", { untilMs: T0 + 2 * HOUR, reason: "again", byId: "a-2" }),
        ],
      );
      clock.advance(2 * HOUR);
      assert.deepEqual(
        (await store.addressBans(clock.now())).map((b) => b.cidr),
        ["2001:db8::/32"],
      );
      assert.equal(await store.liftAddressBan("2001:db8::/32"), true);
      assert.equal(await store.liftAddressBan("2001:db8::/32"), false);
      assert.deepEqual(await store.addressBans(clock.now()), []);
      // An ended ban is still there to lift.
      assert.equal(await store.liftAddressBan("198.51.100.7/32"), true);
    }));

  test(`${name}: an invite is used up use by use, and ends when it expires`, () =>
    withStore(async (store) => {
      await store.createInvite(invite("a", { usesLeft: 2 }));
      assert.equal(await store.redeemInvite(invite("a").codeHash, T0), "r");
      assert.equal(await store.redeemInvite(invite("a").codeHash, T0 + 1), "r");
      assert.equal(await store.redeemInvite(invite("a").codeHash, T0 + 2), undefined);
      assert.equal(await store.redeemInvite(invite("x").codeHash, T0), undefined, "unknown code");

      await store.createInvite(invite("b", { room: "club", usesLeft: 5 }));
      assert.equal(await store.redeemInvite(invite("b").codeHash, T0 + HOUR - 1), "club");
      // expiresMs is when it stops working.
      assert.equal(await store.redeemInvite(invite("b").codeHash, T0 + HOUR), undefined);
      assert.equal(await store.redeemInvite(invite("b").codeHash, T0 + 2 * HOUR), undefined);
      // An expired redeem used nothing: earlier, uses are still left.
      for (let i = 0; i < 4; i++) {
        assert.equal(await store.redeemInvite(invite("b").codeHash, T0), "club", `use ${i + 2}`);
      }
      assert.equal(await store.redeemInvite(invite("b").codeHash, T0), undefined);
    }));

  test(`${name}: an unlimited invite works until it expires`, () =>
    withStore(async (store) => {
      await store.createInvite(invite("u", { usesLeft: 0, unlimited: true }));
      for (let i = 0; i < 20; i++) {
        assert.equal(await store.redeemInvite(invite("u").codeHash, T0 + i), "r", `use ${i}`);
      }
      assert.equal(await store.redeemInvite(invite("u").codeHash, T0 + HOUR), undefined);
    }));

  test(`${name}: a one-use invite redeemed by many at once works once`, () =>
    withStore(async (store) => {
      for (const code of ["p", "q", "s"]) {
        await store.createInvite(invite(code));
        const rooms = await Promise.all(
          Array.from({ length: 8 }, () => store.redeemInvite(invite(code).codeHash, T0)),
        );
        assert.deepEqual(
          rooms.filter((room) => room !== undefined),
          ["r"],
          code,
        );
      }
      await store.createInvite(invite("t", { usesLeft: 3 }));
      const rooms = await Promise.all(
        Array.from({ length: 10 }, () => store.redeemInvite(invite("t").codeHash, T0)),
      );
      assert.equal(rooms.filter((room) => room === "r").length, 3);
    }));

  test(`${name}: a webhook's name is unique among the room's working hooks; revoked ones stay listed`, () =>
    withStore(async (store) => {
      const a = hook("a", { createdMs: T0 + 2 });
      const b = hook("b", { createdMs: T0 + 1 });
      assert.equal(await store.createWebhook(a), true);
      assert.equal(await store.createWebhook(b), true);
      // The same name in another room is another hook.
      const elsewhere = hook("c", { id: "h-c2", room: "r2", name: "a" });
      assert.equal(await store.createWebhook(elsewhere), true);

      // A taken name stores nothing, not even its id or secret.
      const taken = hook("x", { name: "a", createdMs: T0 + 3 });
      assert.equal(await store.createWebhook(taken), false);
      assert.equal(await store.webhookBySecret(taken.secretHash), undefined);
      assert.deepEqual(await store.webhooks("r"), [b, a], "oldest first");

      assert.deepEqual(await store.webhookBySecret(a.secretHash), a);
      assert.equal(await store.webhookBySecret(hook("z").secretHash), undefined, "unknown hash");
      assert.deepEqual(await store.webhooks("nowhere"), []);

      const revoked = { ...a, revokedMs: T0 + 10 };
      assert.deepEqual(await store.revokeWebhook("r", "a", T0 + 10), revoked);
      assert.equal(await store.revokeWebhook("r", "a", T0 + 11), undefined, "already revoked");
      assert.equal(await store.revokeWebhook("r", "nobody", T0 + 11), undefined);
      assert.equal(await store.revokeWebhook("r3", "a", T0 + 11), undefined, "another room");
      assert.deepEqual(await store.webhookBySecret(a.secretHash), revoked);
      assert.deepEqual(await store.webhooks("r2"), [elsewhere]);

      // Once revoked, its name is free again; the revoked hook stays listed.
      const again = hook("y", { name: "a", createdMs: T0 + 20 });
      assert.equal(await store.createWebhook(again), true);
      assert.deepEqual(await store.webhooks("r"), [b, revoked, again]);
      assert.equal(await store.createWebhook(hook("w", { name: "a", createdMs: T0 + 21 })), false);
      assert.deepEqual(await store.revokeWebhook("r", "a", T0 + 30), {
        ...again,
        revokedMs: T0 + 30,
      });
    }));

  test(`${name}: webhooks of one name created at once: one is stored`, () =>
    withStore(async (store) => {
      const created = await Promise.all(
        ["p", "q", "s", "t", "u", "v"].map((id) => store.createWebhook(hook(id, { name: "same" }))),
      );
      assert.equal(created.filter(Boolean).length, 1, `${created}`);
      assert.equal((await store.webhooks("r")).length, 1);
    }));

  test(`${name}: deleting a room deletes its webhooks, revoked or not, and no other room's`, () =>
    withStore(async (store) => {
      const kept = hook("k", { room: "kept" });
      await store.createWebhook(hook("a"));
      await store.createWebhook(hook("b"));
      await store.revokeWebhook("r", "b", T0 + 1);
      await store.createWebhook(kept);
      await store.deleteRoom("r");
      assert.deepEqual(await store.webhooks("r"), []);
      assert.equal(await store.webhookBySecret(hook("a").secretHash), undefined);
      assert.equal(await store.webhookBySecret(hook("b").secretHash), undefined);
      assert.deepEqual(await store.webhooks("kept"), [kept]);
      // The names are free in the room started again.
      assert.equal(await store.createWebhook(hook("a")), true);
    }));

  test(`${name}: reports page newest first per room; open ones only unless asked`, () =>
    withStore(async (store) => {
      const ids: number[] = [];
      for (let i = 1; i <= 5; i++) {
        ids.push(await store.addReport(report("r", i, { createdMs: T0 + i })));
        await store.addReport(report("other", i));
      }
      assert.ok(
        ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? 0)),
        `ids increase: ${ids}`,
      );
      const [i1, i2, i3, i4, i5] = ids as [number, number, number, number, number];
      const open = { limit: 10, includeResolved: false };
      const list = await store.reports("r", open);
      assert.deepEqual(
        list.map((r) => r.id),
        [i5, i4, i3, i2, i1],
      );
      assert.deepEqual(list[4], {
        ...report("r", 1, { createdMs: T0 + 1 }),
        id: i1,
        resolvedBy: "",
        resolution: "",
        resolvedMs: 0,
      });
      assert.deepEqual(
        (await store.reports("r", { ...open, limit: 2 })).map((r) => r.id),
        [i5, i4],
      );
      assert.deepEqual(
        (await store.reports("r", { ...open, limit: 2, beforeId: i4 })).map((r) => r.id),
        [i3, i2],
      );
      assert.deepEqual(await store.reports("r", { ...open, beforeId: i1 }), []);
      assert.deepEqual(await store.reports("nowhere", open), []);

      assert.equal(await store.resolveReport("other", i4, "a-mod", "wrong room", T0 + 50), false);
      assert.equal(await store.resolveReport("r", i4, "a-mod", "warned", T0 + 50), true);
      assert.equal(await store.resolveReport("r", i4, "a-mod2", "again", T0 + 60), false);
      assert.equal(await store.resolveReport("r", i5 + 1_000, "a-mod", "none", T0), false);
      assert.deepEqual(
        (await store.reports("r", open)).map((r) => r.id),
        [i5, i3, i2, i1],
      );
      const all = await store.reports("r", { limit: 10, includeResolved: true });
      assert.deepEqual(
        all.map((r) => r.id),
        [i5, i4, i3, i2, i1],
      );
      assert.deepEqual(all[1], {
        ...report("r", 4, { createdMs: T0 + 4 }),
        id: i4,
        resolvedBy: "a-mod",
        resolution: "warned",
        resolvedMs: T0 + 50,
      });
      // The other room's report with that id stays open.
      assert.equal((await store.reports("other", open)).length, 5);
    }));

  test(`${name}: audit entries page newest first, per room or all`, () =>
    withStore(async (store) => {
      const ban = await store.addAudit(
        audit("r", "ban", { reason: "spam", detail: "until lifted", createdMs: T0 + 1 }),
      );
      const server = await store.addAudit(audit("", "ban_address", { target: "203.0.113.0/24" }));
      const mute = await store.addAudit(audit("r", "mute"));
      const other = await store.addAudit(audit("r2", "kick"));
      assert.ok(ban < server && server < mute && mute < other, `${[ban, server, mute, other]}`);

      const room = await store.audit({ room: "r", limit: 10 });
      assert.deepEqual(
        room.map((e) => e.id),
        [mute, ban],
      );
      assert.deepEqual(room[1], {
        ...audit("r", "ban", { reason: "spam", detail: "until lifted", createdMs: T0 + 1 }),
        id: ban,
      });
      assert.deepEqual(
        (await store.audit({ limit: 10 })).map((e) => e.id),
        [other, mute, server, ban],
      );
      assert.deepEqual(
        (await store.audit({ limit: 2 })).map((e) => e.id),
        [other, mute],
      );
      assert.deepEqual(
        (await store.audit({ limit: 2, beforeId: mute })).map((e) => e.id),
        [server, ban],
      );
      assert.deepEqual(
        (await store.audit({ room: "r", limit: 10, beforeId: mute })).map((e) => e.id),
        [ban],
      );
      assert.deepEqual(
        (await store.audit({ room: "", limit: 10 })).map((e) => [e.id, e.action, e.target]),
        [[server, "ban_address", "203.0.113.0/24"]],
      );
      assert.deepEqual(await store.audit({ room: "nowhere", limit: 10 }), []);
    }));

  test(`${name}: admins are granted and taken away; a call that changes nothing says so`, () =>
    withStore(async (store) => {
      assert.deepEqual(await store.admins(), []);
      assert.equal(await store.setAdmin("a-una", true), true);
      assert.equal(await store.setAdmin("a-una", true), false);
      assert.equal(await store.setAdmin("a-bob", true), true);
      assert.deepEqual([...(await store.admins())].sort(), ["a-bob", "a-una"]);
      assert.equal(await store.setAdmin("a-una", false), true);
      assert.equal(await store.setAdmin("a-una", false), false);
      assert.equal(await store.setAdmin("a-nobody", false), false);
      assert.deepEqual(await store.admins(), ["a-bob"]);
    }));

  test(`${name}: messageIdsBy gives a user's chat messages in a room since a time, not deleted, oldest first`, () =>
    withStore(async (store, clock) => {
      const mine = (text: string) => chat("r", text, { userId: "u-bad", username: "bad" });
      await store.append([mine("old")]); // 1, T0
      clock.advance(HOUR);
      const since = clock.now();
      await store.append([mine("a"), chat("r", "someone else")]); // 2, 3
      await store.append([chat("r2", "other room", { userId: "u-bad" })]);
      await store.append([{ ...mine("joined"), kind: "system" }]); // 4
      await store.append([mine("b"), mine("c"), mine("d")]); // 5, 6, 7
      await store.append([{ ...mine(""), kind: "delete", refId: 6 }]); // 8
      await store.append([{ ...mine("👍"), kind: "react", refId: 3 }]); // 9
      await store.append([{ ...mine("b, edited"), kind: "edit", refId: 5 }]); // 10
      await store.append([mine("e")]); // 11

      assert.deepEqual(await store.messageIdsBy("r", "u-bad", since, 100), [2, 5, 7, 11]);
      assert.deepEqual(await store.messageIdsBy("r", "u-bad", T0, 100), [1, 2, 5, 7, 11]);
      assert.deepEqual(await store.messageIdsBy("r", "u-bad", since, 2), [2, 5]);
      assert.deepEqual(await store.messageIdsBy("r", "u-bad", since + 1, 100), []);
      assert.deepEqual(await store.messageIdsBy("r", "u1", T0, 100), [3]);
      assert.deepEqual(await store.messageIdsBy("r2", "u-bad", T0, 100), [1]);
      assert.deepEqual(await store.messageIdsBy("nowhere", "u-bad", T0, 100), []);
    }));

  test(`${name}: a page size must be an integer >= 0`, () =>
    withStore(async (store) => {
      const bad = (error: unknown) => error instanceof RangeError;
      await assert.rejects(store.reports("r", { limit: -1, includeResolved: true }), bad);
      await assert.rejects(store.audit({ limit: 1.5 }), bad);
      await assert.rejects(store.messageIdsBy("r", "u1", 0, -1), bad);
      assert.deepEqual(await store.audit({ limit: 0 }), []);
    }));

  test(`${name}: retention leaves everything governance stored`, () =>
    withStore(async (store, clock) => {
      await store.append([chat("r", "hi")]);
      await store.createRoom(record("made"));
      await store.setRole("r", "a-mod", "moderator", T0);
      await store.setSanction(sanction());
      await store.setAddressBan(addressBan("203.0.113.0/24"));
      await store.createInvite(invite("k", { usesLeft: 2 }));
      await store.createWebhook(hook("h"));
      const reportId = await store.addReport(report("r", 1));
      const auditId = await store.addAudit(audit("r", "ban"));
      await store.setAdmin("a-una", true);
      clock.advance(HOUR);
      assert.equal(await store.prune({ olderThanMs: clock.now(), maxPerRoom: 0 }), 1);

      assert.deepEqual(await store.roomRecord("made"), record("made"));
      assert.deepEqual(await store.roles("r"), new Map([["a-mod", "moderator"]]));
      assert.deepEqual(await store.sanctions("r", clock.now()), [sanction()]);
      assert.equal((await store.addressBans(clock.now())).length, 1);
      assert.equal(await store.redeemInvite(invite("k").codeHash, T0), "r");
      assert.deepEqual(await store.webhooks("r"), [hook("h")]);
      assert.deepEqual(
        (await store.reports("r", { limit: 10, includeResolved: true })).map((r) => r.id),
        [reportId],
      );
      assert.deepEqual(
        (await store.audit({ limit: 10 })).map((e) => e.id),
        [auditId],
      );
      assert.deepEqual(await store.admins(), ["a-una"]);
    }));

  test(`${name}: after close() governance calls fail as unavailable`, async () => {
    const store = await open(manualClock(T0).now);
    await store.close();
    const unavailable = (error: unknown) => error instanceof StoreUnavailableError;
    await assert.rejects(store.roomRecord("r"), unavailable);
    await assert.rejects(store.setAdmin("a-una", true), unavailable);
    await assert.rejects(store.redeemInvite("00", T0), unavailable);
    await assert.rejects(store.createWebhook(hook("a")), unavailable);
  });
}
