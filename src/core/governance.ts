import type { Bus, RulesEffect } from "../bus/bus.ts";
import type { Store } from "../store/store.ts";
import type { Accounts } from "./accounts.ts";
import { AddressBans } from "./address-bans.ts";
import { Admin } from "./admin.ts";
import { AuditLog } from "./audit-log.ts";
import type { Changes } from "./changes.ts";
import { ChatError } from "./chat-error.ts";
import type { CoreLogger } from "./chat-options.ts";
import type { Clock } from "./clock.ts";
import { Envelope, type Outbound } from "./envelope.ts";
import type { RoomFanOut } from "./fan-out.ts";
import type { Identities } from "./identities.ts";
import type { LiveStreams } from "./live-streams.ts";
import { Moderation } from "./moderation.ts";
import { People } from "./people.ts";
import { Reports } from "./reports.ts";
import { RoomAdmin } from "./room-admin.ts";
import { RoomRules } from "./room-rules.ts";
import type { Identity, RoomId } from "./types.ts";

export interface GovernanceOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly identities: Identities;
  readonly changes: () => Changes;
  readonly accounts: () => Accounts;
  readonly fanOut: RoomFanOut;
  readonly live: () => LiveStreams;
  readonly maxRoomChars: number;
  /** Who is online in a room now, on every node. */
  readonly present: (room: RoomId) => readonly Identity[];
  readonly adminNames?: readonly string[];
  /** A room was deleted: forget what memory holds of it (its tail). */
  readonly roomDeleted: (room: RoomId) => void;
  readonly logger: CoreLogger | undefined;
}

/**
 * Rooms a team governs: the rules (roles, kinds, bans, mutes), the parts
 * that change them (RoomAdmin, Moderation, Reports, AddressBans), the audit
 * log, and carrying each change out on every node's live streams.
 */
export class Governance {
  readonly rules: RoomRules;
  readonly audit: AuditLog;
  readonly people: People;
  readonly rooms: RoomAdmin;
  readonly moderation: Moderation;
  readonly reports: Reports;
  readonly addressBans: AddressBans;
  /** Accounts, whole rooms, export, import and backup, for server admins. */
  readonly admin: Admin;
  readonly #options: GovernanceOptions;

  constructor(options: GovernanceOptions) {
    this.#options = options;
    const { store, clock, identities } = options;
    this.rules = new RoomRules({ store, clock, adminNames: options.adminNames ?? [] });
    this.audit = new AuditLog(store, clock);
    this.people = new People(store, identities);
    this.addressBans = new AddressBans(store, clock);
    const { rules, audit, people } = this;
    const announce = (room: RoomId, effect?: RulesEffect) => this.announce(room, effect);
    this.rooms = new RoomAdmin({
      store,
      clock,
      rules,
      audit,
      people,
      maxRoomChars: options.maxRoomChars,
      present: options.present,
      announce: (room) => announce(room, { kind: "settings" }),
    });
    this.moderation = new Moderation({
      store,
      clock,
      rules,
      audit,
      people,
      get changes() {
        return options.changes();
      },
      announce,
    });
    this.admin = new Admin({
      store,
      clock,
      rules,
      audit,
      people,
      accounts: options.accounts,
      changes: options.changes,
      maxRoomChars: options.maxRoomChars,
      announce,
    });
    this.reports = new Reports({
      store,
      clock,
      rules,
      audit,
      people,
      announce: (room, reportId) => announce(room, { kind: "report", reportId }),
    });
  }

  /** Loads what every call is checked against: address bans and granted admins. */
  async load(): Promise<void> {
    await Promise.all([this.addressBans.load(), this.rules.loadAdmins()]);
  }

  /** The rules of `room` ("": server-wide) changed here: this node acts on it, then every other. */
  announce(room: RoomId, effect?: RulesEffect): void {
    const { bus, logger } = this.#options;
    this.apply(room, effect);
    bus
      .publish({
        origin: bus.nodeId,
        room,
        payload: { type: "rules", room, ...(effect ? { effect } : {}) },
      })
      .catch((error: unknown) => {
        logger?.warn(
          { err: error, room },
          "bus publish failed; other nodes keep the old rules until their streams rejoin",
        );
      });
  }

  /** A change of the rules, made here or heard on the bus: forget, re-check, carry out. */
  apply(room: RoomId, effect?: RulesEffect): void {
    this.#apply(room, effect).catch((error: unknown) => {
      this.#options.logger?.warn(
        { err: error, room },
        "carrying out a change of a room's rules failed",
      );
    });
  }

  /** The bus was away: anything may have changed. */
  forgetAll(): void {
    this.rules.forgetAll();
    void this.load().catch(() => undefined);
  }

  async #apply(room: RoomId, effect: RulesEffect | undefined): Promise<void> {
    if (room === "") {
      await this.load();
      if (effect?.kind === "account") {
        this.#options
          .live()
          .endUser(effect.userId, new ChatError("permission_denied", effect.reason));
      }
      return;
    }
    if (effect?.kind === "deleted") {
      this.#options.roomDeleted(room);
      const gone = new ChatError(
        "not_found",
        `The room ${room} was deleted by the server's admins.`,
      );
      this.rules.forget(room);
      this.#options.live().removeFromRoom(room, () => gone);
      return;
    }
    this.rules.forget(room);
    const { fanOut, clock } = this.#options;
    const live = this.#options.live();
    const policy = await this.rules.policy(room);
    if (effect?.kind === "settings") {
      const settings = await this.rooms.view(policy);
      fanOut.deliver(room, new Envelope({ type: "room_updated", room, settings }));
    } else if (effect?.kind === "report") {
      await this.#tellModerators(room, effect.reportId);
    } else if (effect && effect.kind !== "account") {
      // Every stream of theirs hears it first (the seed's one-room wire has
      // no way to: a kick or ban ends it with the sentence instead).
      const notice: Outbound = { type: "moderated", room, ...effect };
      live.each((stream) => {
        if (stream.identity.userId === effect.user.userId && !stream.oneRoom) stream.notify(notice);
      });
      if (effect.kind === "kick") {
        const error = new ChatError(
          "permission_denied",
          `${effect.by.username || "A moderator"} removed you from ${room}.${effect.reason ? ` Reason: ${effect.reason}` : ""}`,
        );
        live.removeFromRoom(room, (identity) =>
          identity.userId === effect.user.userId ? error : undefined,
        );
      }
    }
    live.removeFromRoom(room, (identity) =>
      policy.readRefusal(identity.userId, this.rules.isAdmin(identity), clock.now()),
    );
  }

  /** A new report reaches the room's owner and moderators, and admins when nobody owns the room. */
  async #tellModerators(room: RoomId, reportId: number): Promise<void> {
    const report = await this.reports.one(room, reportId);
    if (!report) return;
    const policy = await this.rules.policy(room);
    const payload: Outbound = { type: "report", room, report };
    this.#options.live().each((stream) => {
      const rank = policy.rankOf(stream.identity.userId, this.rules.isAdmin(stream.identity));
      const staff =
        rank === "owner" || rank === "moderator" || (rank === "admin" && policy.owner === "");
      if (staff && !stream.oneRoom) stream.notify(payload);
    });
  }
}
