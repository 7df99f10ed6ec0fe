import { createHash, randomBytes } from "node:crypto";
import type { RoomRole, Sanction, Store } from "../store/store.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import type { AuditLog } from "./audit-log.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { RoomView } from "./governance-types.ts";
import type { People } from "./people.ts";
import { type Rank, type RoomPolicy, type RoomRules, untilText } from "./room-rules.ts";
import { checkRoom } from "./rooms.ts";
import { DEFAULT_ROOM, type Identity, type RoomId } from "./types.ts";

export interface RoomAdminOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly rules: RoomRules;
  readonly audit: AuditLog;
  readonly people: People;
  readonly maxRoomChars: number;
  /** Tells every node that the room's kind or roles changed. */
  readonly announce: (room: RoomId) => void;
  /** Who is online in the room now, on every node. */
  readonly present: (room: RoomId) => readonly Identity[];
}

const DEFAULT_INVITE_MS = 7 * 24 * 3_600_000;
const MAX_INVITE_MS = 365 * 24 * 3_600_000;

function hashCode(code: string): string {
  return createHash("sha256").update(code, "utf8").digest("hex");
}

/** A room's settings as `viewer` may see them, with their rank. */
export interface RoomAnswer {
  readonly view: RoomView;
  readonly rank: Rank;
  /** The viewer's mute in force, if any. */
  readonly mute: Sanction | undefined;
}

/**
 * A room's owner, kind, moderators and invitations: who creates a room owns
 * it; owners set its kind and its moderators and hand it on; moderators let
 * people into an invite-only room.
 */
export class RoomAdmin {
  readonly #options: RoomAdminOptions;

  constructor(options: RoomAdminOptions) {
    this.#options = options;
  }

  /** Creates the room with `owner` as its owner; ALREADY_EXISTS when it exists. */
  async create(
    owner: Identity,
    room: RoomId,
    kind: { readonly inviteOnly: boolean; readonly readOnly: boolean },
  ): Promise<RoomAnswer> {
    const { store, clock, rules, maxRoomChars } = this.#options;
    checkRoom(room, maxRoomChars);
    if (isDirectRoom(room) || room === DEFAULT_ROOM) {
      throw new ChatError("already_exists", `The room ${room} already exists.`);
    }
    const created = await asChatError(
      store.createRoom({ room, owner: owner.userId, ...kind, createdMs: clock.now() }),
    );
    // The same answer whether it is public, private or in use, so nothing is learnt from it.
    if (!created)
      throw new ChatError(
        "already_exists",
        `The room ${room} already exists; join it, or pick another name.`,
      );
    rules.forget(room);
    this.#options.announce(room);
    return this.get(owner, room);
  }

  /**
   * The first join of a room nobody has used makes the joiner its owner: a
   * room's creator owns it. Rooms that already have history stay ownerless.
   */
  async claimOnJoin(joiner: Identity, policy: RoomPolicy): Promise<void> {
    const { room } = policy;
    if (policy.record || policy.claimTried || isDirectRoom(room) || room === DEFAULT_ROOM) return;
    // A bot answers to its owner; it does not come to own the rooms it is put in.
    if (joiner.botScope) return;
    policy.claimTried = true;
    const { store, clock, rules } = this.#options;
    const created = await asChatError(
      store.createRoom({
        room,
        owner: joiner.userId,
        inviteOnly: false,
        readOnly: false,
        createdMs: clock.now(),
      }),
    );
    if (created) {
      rules.forget(room);
      this.#options.announce(room);
    }
  }

  async get(viewer: Identity, room: RoomId): Promise<RoomAnswer> {
    const { rules } = this.#options;
    const policy = await rules.checkRead(viewer, room);
    return {
      view: await this.view(policy),
      rank: policy.rankOf(viewer.userId, rules.isAdmin(viewer)),
      mute: policy.sanction(viewer.userId, "mute", this.#options.clock.now()),
    };
  }

  async update(
    by: Identity,
    room: RoomId,
    changes: { readonly inviteOnly?: boolean; readonly readOnly?: boolean },
  ): Promise<RoomAnswer> {
    const { store, clock, rules, audit } = this.#options;
    const before = await rules.checkRank(by, room, "owner");
    if (isDirectRoom(room))
      throw new ChatError("invalid_argument", "A direct-message room has no settings.");
    if (room === DEFAULT_ROOM && changes.inviteOnly) {
      throw new ChatError(
        "invalid_argument",
        `${DEFAULT_ROOM} is where everyone starts; it cannot be invite-only.`,
      );
    }
    const unchanged =
      (changes.inviteOnly === undefined || changes.inviteOnly === before.inviteOnly) &&
      (changes.readOnly === undefined || changes.readOnly === before.readOnly);
    if (unchanged) return this.get(by, room);
    if (changes.inviteOnly && !before.inviteOnly) {
      // Those in the room when it closes stay in it: they become its members.
      for (const user of this.#options.present(room)) {
        if (before.rankOf(user.userId, rules.isAdmin(user)) === "none") {
          await asChatError(store.setRole(room, user.userId, "member", clock.now()));
        }
      }
    }
    const record = await asChatError(store.updateRoom(room, changes, clock.now()));
    const detail = `invite-only ${record.inviteOnly ? "on" : "off"}, read-only ${record.readOnly ? "on" : "off"}`;
    await audit.record(by, "update_room", room, { target: room, detail });
    rules.forget(room);
    this.#options.announce(room);
    return this.get(by, room);
  }

  /** Sets `userRef`'s role: moderator, member (takes moderation away), or owner (hands the room on). */
  async setRole(by: Identity, room: RoomId, userRef: string, role: RoomRole): Promise<RoomAnswer> {
    const { store, clock, rules, audit, people } = this.#options;
    await rules.checkRank(by, room, "owner");
    const target = await people.resolve(userRef);
    const policy = await rules.policy(room);
    const stored: RoomRole | undefined = role === "member" && !policy.inviteOnly ? undefined : role;
    await asChatError(store.setRole(room, target.userId, stored, clock.now()));
    await audit.record(by, "set_role", room, { target: target.userId, detail: `role ${role}` });
    rules.forget(room);
    this.#options.announce(room);
    return this.get(by, room);
  }

  /** Lets `userRef` into the room (a member role; in a public room it changes nothing but the record). */
  async invite(by: Identity, room: RoomId, userRef: string): Promise<Identity> {
    const { store, clock, rules, audit, people } = this.#options;
    const policy = await rules.checkRank(by, room, "moderator");
    const target = await people.resolve(userRef);
    if (policy.roles.get(target.userId) === undefined && policy.owner !== target.userId) {
      await asChatError(store.setRole(room, target.userId, "member", clock.now()));
    }
    await audit.record(by, "invite", room, { target: target.userId });
    rules.forget(room);
    this.#options.announce(room);
    return target;
  }

  async createInvite(
    by: Identity,
    room: RoomId,
    expiresInMs: number,
    uses: number,
  ): Promise<{ code: string; expiresMs: number; uses: number }> {
    const { store, clock, rules, audit } = this.#options;
    await rules.checkRank(by, room, "moderator");
    if (!Number.isSafeInteger(expiresInMs) || expiresInMs < 0 || expiresInMs > MAX_INVITE_MS) {
      throw new ChatError(
        "invalid_argument",
        "An invite lasts between 1 ms and 365 days (0 means 7 days).",
      );
    }
    const code = randomBytes(16).toString("base64url");
    const expiresMs = clock.now() + (expiresInMs || DEFAULT_INVITE_MS);
    await asChatError(
      store.createInvite({
        codeHash: hashCode(code),
        room,
        createdBy: by.userId,
        createdMs: clock.now(),
        expiresMs,
        usesLeft: uses,
        unlimited: uses === 0,
      }),
    );
    await audit.record(by, "create_invite", room, {
      target: room,
      detail: `${uses === 0 ? "any number of uses" : uses === 1 ? "1 use" : `${uses} uses`}, ${untilText(expiresMs)}`,
    });
    return { code, expiresMs, uses };
  }

  /** Uses a code: the caller becomes a member of its room. */
  async redeem(who: Identity, code: string): Promise<RoomId> {
    const { store, clock, rules } = this.#options;
    const room = await asChatError(store.redeemInvite(hashCode(code.trim()), clock.now()));
    if (room === undefined) {
      throw new ChatError(
        "not_found",
        "That invite code is unknown, expired or used up; ask for a new one.",
      );
    }
    const policy = await rules.policy(room);
    const ban = policy.sanction(who.userId, "ban", clock.now());
    if (ban) await rules.checkRead(who, room);
    if (policy.rankOf(who.userId, false) === "none") {
      await asChatError(store.setRole(room, who.userId, "member", clock.now()));
      rules.forget(room);
      this.#options.announce(room);
    }
    return room;
  }

  /** The room's settings as its members see them. */
  async view(policy: RoomPolicy): Promise<RoomView> {
    const { people, store } = this.#options;
    const staff: { user: Identity; role: RoomRole }[] = [];
    for (const [userId, role] of policy.roles) {
      if (role !== "member") staff.push({ user: await people.identity(userId), role });
    }
    staff.sort((a, b) =>
      a.role === b.role
        ? a.user.username.localeCompare(b.user.username)
        : a.role === "owner"
          ? -1
          : 1,
    );
    return {
      room: policy.room,
      owner: policy.owner === "" ? undefined : await people.identity(policy.owner),
      inviteOnly: policy.inviteOnly,
      readOnly: policy.readOnly,
      staff,
      topic: await asChatError(store.topic(policy.room)),
    };
  }
}
