import type { RulesEffect } from "../bus/bus.ts";
import type { Sanction, Store } from "../store/store.ts";
import type { AuditLog } from "./audit-log.ts";
import type { Changes } from "./changes.ts";
import { ChatError, asChatError as stored, toChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { ModerationKind, SanctionView } from "./governance-types.ts";
import { excerpt } from "./names.ts";
import type { People } from "./people.ts";
import { atLeast, type RoomRules, untilText } from "./room-rules.ts";
import type { Identity, RoomId } from "./types.ts";

export interface ModerationOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly rules: RoomRules;
  readonly audit: AuditLog;
  readonly people: People;
  readonly changes: Changes;
  /** Tells every node (this one first) that the room's rules changed, and what to do. */
  readonly announce: (room: RoomId, effect?: RulesEffect) => void;
}

/** The most messages one ban erases. */
const MAX_ERASED = 10_000;
const MAX_REASON_CHARS = 500;

function checkReason(reason: string): string {
  const trimmed = reason.trim();
  if ([...trimmed].length > MAX_REASON_CHARS) {
    throw new ChatError("invalid_argument", `A reason is at most ${MAX_REASON_CHARS} characters.`);
  }
  return trimmed;
}

function checkDuration(durationMs: number): number {
  if (!Number.isSafeInteger(durationMs) || durationMs < 0) {
    throw new ChatError(
      "invalid_argument",
      "A duration is a whole number of milliseconds, 0 for until lifted.",
    );
  }
  return durationMs;
}

/**
 * Kick, ban and mute in a room, by its moderators: stored, written to the
 * audit log, then carried out on every node's live streams. Nobody acts on
 * someone of their own rank or above, or on themselves.
 */
export class Moderation {
  readonly #options: ModerationOptions;

  constructor(options: ModerationOptions) {
    this.#options = options;
  }

  async kick(by: Identity, room: RoomId, userRef: string, reason: string): Promise<Identity> {
    const { target, policy } = await this.#target(by, room, userRef, "kick");
    const why = checkReason(reason);
    if (policy.inviteOnly && policy.roles.get(target.userId) === "member") {
      // In an invite-only room the kick takes the invitation with it.
      await stored(this.#options.store.setRole(room, target.userId, undefined, this.#now()));
    }
    await this.#options.audit.record(by, "kick", room, { target: target.userId, reason: why });
    this.#announce(room, "kick", target, by, why, 0);
    return target;
  }

  async ban(
    by: Identity,
    room: RoomId,
    userRef: string,
    durationMs: number,
    reason: string,
    deleteHours: number,
  ): Promise<{ user: Identity; untilMs: number; erased: number }> {
    const { target } = await this.#target(by, room, userRef, "ban");
    const untilMs = this.#until(durationMs);
    const why = checkReason(reason);
    await this.#setSanction(room, target, "ban", untilMs, why, by);
    await this.#options.audit.record(by, "ban", room, {
      target: target.userId,
      reason: why,
      detail:
        untilText(untilMs) +
        (deleteHours > 0 ? `, messages of the last ${deleteHours} h erased` : ""),
    });
    this.#announce(room, "ban", target, by, why, untilMs);
    const erased = deleteHours > 0 ? await this.#erase(by, room, target, deleteHours) : 0;
    return { user: target, untilMs, erased };
  }

  async mute(
    by: Identity,
    room: RoomId,
    userRef: string,
    durationMs: number,
    reason: string,
  ): Promise<{ user: Identity; untilMs: number }> {
    const { target } = await this.#target(by, room, userRef, "mute");
    const untilMs = this.#until(durationMs);
    const why = checkReason(reason);
    await this.#setSanction(room, target, "mute", untilMs, why, by);
    await this.#options.audit.record(by, "mute", room, {
      target: target.userId,
      reason: why,
      detail: untilText(untilMs),
    });
    this.#announce(room, "mute", target, by, why, untilMs);
    return { user: target, untilMs };
  }

  /** Lifts a ban (`unban`) or a mute (`unmute`); NOT_FOUND when there is none. */
  async lift(
    by: Identity,
    room: RoomId,
    userRef: string,
    kind: "unban" | "unmute",
  ): Promise<Identity> {
    await this.#options.rules.checkRank(by, room, "moderator");
    const target = await this.#options.people.resolve(userRef);
    const sanction = kind === "unban" ? "ban" : "mute";
    const lifted = await stored(this.#options.store.liftSanction(room, target.userId, sanction));
    if (!lifted) {
      throw new ChatError(
        "not_found",
        `${target.username || target.userId} is not ${sanction === "ban" ? "banned from" : "muted in"} ${room}.`,
      );
    }
    await this.#options.audit.record(by, kind, room, { target: target.userId });
    this.#announce(room, kind, target, by, "", 0);
    return target;
  }

  /** The room's bans and mutes in force. */
  async list(by: Identity, room: RoomId): Promise<SanctionView[]> {
    await this.#options.rules.checkRank(by, room, "moderator");
    const sanctions = await stored(this.#options.store.sanctions(room, this.#now()));
    const { people } = this.#options;
    return Promise.all(
      sanctions.map(async (sanction) => ({
        kind: sanction.kind,
        room: sanction.room,
        user: await people.identity(sanction.userId),
        cidr: "",
        by: await people.identity(sanction.byId),
        reason: sanction.reason,
        untilMs: sanction.untilMs,
        atMs: sanction.createdMs,
      })),
    );
  }

  /** Who `userRef` is, checked to be below `by` in the room. */
  async #target(by: Identity, room: RoomId, userRef: string, verb: string) {
    const { rules, people } = this.#options;
    const policy = await rules.checkRank(by, room, "moderator");
    const target = await people.resolve(userRef);
    if (target.userId === by.userId) {
      throw new ChatError("invalid_argument", `You cannot ${verb} yourself.`);
    }
    const theirs = policy.rankOf(target.userId, rules.isAdmin(target));
    const mine = policy.rankOf(by.userId, rules.isAdmin(by));
    if (atLeast(theirs, mine)) {
      throw new ChatError(
        "permission_denied",
        `${target.username || target.userId} is ${theirs === "admin" ? "a server admin" : `a ${theirs} of ${room}`}; you cannot ${verb} them.`,
      );
    }
    return { target, policy };
  }

  async #setSanction(
    room: RoomId,
    target: Identity,
    kind: Sanction["kind"],
    untilMs: number,
    reason: string,
    by: Identity,
  ): Promise<void> {
    await stored(
      this.#options.store.setSanction({
        room,
        userId: target.userId,
        kind,
        untilMs,
        reason,
        byId: by.userId,
        createdMs: this.#now(),
      }),
    );
  }

  /** Erases the target's messages of the last `hours` in the room, each a delete entry of the log. */
  async #erase(by: Identity, room: RoomId, target: Identity, hours: number): Promise<number> {
    const { store, changes } = this.#options;
    const since = this.#now() - hours * 3_600_000;
    const ids = await stored(store.messageIdsBy(room, target.userId, since, MAX_ERASED));
    let erased = 0;
    for (const id of ids) {
      try {
        const result = await changes.delete(by, { room, id }, { withBan: true });
        if (!result.unchanged) erased += 1;
      } catch (error) {
        if (toChatError(error).code !== "not_found") throw error;
      }
    }
    return erased;
  }

  #announce(
    room: RoomId,
    kind: ModerationKind,
    user: Identity,
    by: Identity,
    reason: string,
    untilMs: number,
  ): void {
    this.#options.announce(room, {
      kind,
      user: { userId: user.userId, username: user.username },
      by: { userId: by.userId, username: by.username },
      reason: excerpt(reason, MAX_REASON_CHARS),
      untilMs,
    });
  }

  #until(durationMs: number): number {
    const ms = checkDuration(durationMs);
    return ms === 0 ? 0 : this.#now() + ms;
  }

  #now(): number {
    return this.#options.clock.now();
  }
}
