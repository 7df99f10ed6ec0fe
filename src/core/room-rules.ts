import type { RoomRecord, RoomRole, Sanction, Store } from "../store/store.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import { ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import { excerpt, nameKey } from "./names.ts";
import { noSuchRoom } from "./rooms.ts";
import type { Identity, RoomId, UserId } from "./types.ts";

/** A role as the rules rank it; `admin` is a server admin, in every room. */
export type Rank = "none" | RoomRole | "admin";

const RANKS: Readonly<Record<Rank, number>> = {
  none: 0,
  member: 1,
  moderator: 2,
  owner: 3,
  admin: 4,
};

/** Whether `rank` is at least `needed`. */
export function atLeast(rank: Rank, needed: Rank): boolean {
  return RANKS[rank] >= RANKS[needed];
}

/** What a caller is about to do in a room, for the rules of posting. */
export type Act = "post" | "react" | "topic";

/** "until 2026-12-06 10:00 UTC", or "until it is lifted" for 0. */
export function untilText(untilMs: number): string {
  if (untilMs === 0) return "until it is lifted";
  return `until ${new Date(untilMs).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function because(reason: string): string {
  return reason === "" ? "" : ` Reason: ${excerpt(reason, 200)}`;
}

/** One room's record, roles and bans and mutes as loaded: answers without the store. */
export class RoomPolicy {
  readonly room: RoomId;
  readonly record: RoomRecord | undefined;
  readonly roles: ReadonlyMap<UserId, RoomRole>;
  /** Whether a first join already tried to create the room (its history may predate owners). */
  claimTried = false;
  readonly #bans = new Map<UserId, Sanction>();
  readonly #mutes = new Map<UserId, Sanction>();

  constructor(
    room: RoomId,
    record: RoomRecord | undefined,
    roles: ReadonlyMap<UserId, RoomRole>,
    sanctions: readonly Sanction[],
  ) {
    this.room = room;
    this.record = record;
    this.roles = roles;
    for (const sanction of sanctions) {
      (sanction.kind === "ban" ? this.#bans : this.#mutes).set(sanction.userId, sanction);
    }
  }

  get inviteOnly(): boolean {
    return this.record?.inviteOnly ?? false;
  }

  get readOnly(): boolean {
    return this.record?.readOnly ?? false;
  }

  /** The owner's id; "" when the room has none (server admins own it). */
  get owner(): UserId {
    return this.record?.owner ?? "";
  }

  rankOf(userId: UserId, admin: boolean): Rank {
    if (admin) return "admin";
    if (this.owner !== "" && this.owner === userId) return "owner";
    return this.roles.get(userId) ?? "none";
  }

  /** The ban or mute of `userId` in force at `nowMs`, if any. */
  sanction(userId: UserId, kind: Sanction["kind"], nowMs: number): Sanction | undefined {
    const sanction = (kind === "ban" ? this.#bans : this.#mutes).get(userId);
    if (!sanction || (sanction.untilMs !== 0 && sanction.untilMs <= nowMs)) return undefined;
    return sanction;
  }

  /** Why `userId` may not read the room (join, history, members), or undefined. */
  readRefusal(userId: UserId | undefined, admin: boolean, nowMs: number): ChatError | undefined {
    if (admin) return undefined;
    if (userId !== undefined) {
      const ban = this.sanction(userId, "ban", nowMs);
      if (ban) {
        return new ChatError(
          "permission_denied",
          `You are banned from ${this.room} ${untilText(ban.untilMs)}.${because(ban.reason)}`,
        );
      }
    }
    if (this.inviteOnly && (userId === undefined || !atLeast(this.rankOf(userId, false), "member")))
      return noSuchRoom(this.room);
    return undefined;
  }

  /** Why `userId` may not do `act` in the room, or undefined. */
  actRefusal(userId: UserId, admin: boolean, act: Act, nowMs: number): ChatError | undefined {
    const refusal = this.readRefusal(userId, admin, nowMs);
    if (refusal || admin) return refusal;
    const mute = this.sanction(userId, "mute", nowMs);
    if (mute) {
      return new ChatError(
        "permission_denied",
        `You are muted in ${this.room} ${untilText(mute.untilMs)}: you can read, but not post, react or set the topic.${because(mute.reason)}`,
      );
    }
    if (this.readOnly && act !== "react" && !atLeast(this.rankOf(userId, false), "moderator")) {
      return new ChatError(
        "permission_denied",
        `${this.room} is read-only: only its moderators post or set its topic.`,
      );
    }
    return undefined;
  }
}

/** The most rooms whose policy is kept in memory; the least recently loaded go first. */
const MAX_CACHED_ROOMS = 10_000;

/**
 * Who may do what in which room, from the store, kept in memory per room
 * until a change to that room (here, or heard on the bus) drops it. Server
 * admins are accounts named by --admin, or granted on the database.
 */
export class RoomRules {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #adminKeys: ReadonlySet<string>;
  #grantedAdmins = new Set<UserId>();
  readonly #policies = new Map<RoomId, Promise<RoomPolicy>>();

  constructor(options: { store: Store; clock: Clock; adminNames?: readonly string[] }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#adminKeys = new Set((options.adminNames ?? []).map(nameKey));
  }

  /** Reloads the admins granted on the database. */
  async loadAdmins(): Promise<void> {
    this.#grantedAdmins = new Set(await this.#store.admins());
  }

  /** A server admin: an account (never a guest, who could take any name) named or granted. */
  isAdmin(identity: Identity): boolean {
    if (!identity.userId.startsWith("a-")) return false;
    return (
      this.#grantedAdmins.has(identity.userId) || this.#adminKeys.has(nameKey(identity.username))
    );
  }

  /** The room's policy; direct-message rooms have none to load (no roles, no bans). */
  policy(room: RoomId): Promise<RoomPolicy> {
    const cached = this.#policies.get(room);
    if (cached) return cached;
    const policy: Promise<RoomPolicy> = isDirectRoom(room)
      ? Promise.resolve(new RoomPolicy(room, undefined, new Map(), []))
      : this.#load(room);
    this.#policies.set(room, policy);
    if (this.#policies.size > MAX_CACHED_ROOMS) {
      const oldest = this.#policies.keys().next().value;
      if (oldest !== undefined) this.#policies.delete(oldest);
    }
    policy.catch(() => {
      if (this.#policies.get(room) === policy) this.#policies.delete(room);
    });
    return policy;
  }

  async #load(room: RoomId): Promise<RoomPolicy> {
    const store = this.#store;
    const [record, roles, sanctions] = await Promise.all([
      store.roomRecord(room),
      store.roles(room),
      store.sanctions(room, this.#clock.now()),
    ]);
    return new RoomPolicy(room, record, roles, sanctions);
  }

  /** The room changed: the next question loads it again. */
  forget(room: RoomId): void {
    this.#policies.delete(room);
  }

  /** Every room may have changed (the bus was away). */
  forgetAll(): void {
    this.#policies.clear();
  }

  /** Throws unless `who` may read the room (after its name and the DM rule are checked). */
  async checkRead(who: Identity | undefined, room: RoomId): Promise<RoomPolicy> {
    if (who?.botScope && (!who.botScope.read || !who.botScope.rooms.has(room)))
      throw botRefusal(room, "read");
    const policy = await this.policy(room);
    const admin = who !== undefined && this.isAdmin(who);
    const refusal = policy.readRefusal(who?.userId, admin, this.#clock.now());
    if (refusal) throw refusal;
    return policy;
  }

  /** Throws unless `who` may do `act` in the room. */
  async checkAct(who: Identity, room: RoomId, act: Act): Promise<RoomPolicy> {
    if (who.botScope && !who.botScope.rooms.has(room)) throw botRefusal(room, "post in");
    const policy = await this.policy(room);
    const refusal = policy.actRefusal(who.userId, this.isAdmin(who), act, this.#clock.now());
    if (refusal) throw refusal;
    return policy;
  }

  /** Throws unless `who` holds at least `needed` in the room (checked after they may read it). */
  async checkRank(who: Identity, room: RoomId, needed: Rank): Promise<RoomPolicy> {
    const policy = await this.checkRead(who, room);
    if (isDirectRoom(room) && !this.isAdmin(who)) {
      throw new ChatError("permission_denied", "Direct messages have no moderators.");
    }
    if (!atLeast(policy.rankOf(who.userId, this.isAdmin(who)), needed)) {
      throw new ChatError(
        "permission_denied",
        `Only ${needed === "moderator" ? "a moderator" : `the ${needed}`} of ${room} can do this.`,
      );
    }
    return policy;
  }

  /** `who`'s rank in the room. */
  async rankOf(who: Identity, room: RoomId): Promise<Rank> {
    return (await this.policy(room)).rankOf(who.userId, this.isAdmin(who));
  }
}

/** A bot's token names the rooms it may use; its owner changes them by making a new bot. */
function botRefusal(room: RoomId, verb: "read" | "post in"): ChatError {
  return new ChatError(
    "permission_denied",
    `This bot's token may not ${verb} ${room}; its owner chose which rooms it may use, and whether it may read them.`,
  );
}
