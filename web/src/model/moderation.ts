import {
  type Moderated,
  ModerationKind,
  type ReportInfo,
  RoomRole,
  type RoomSettings,
} from "../../../src/gen/chat_pb.js";
import { isDirectRoom } from "../../../src/wire/room-names.ts";
import { failure } from "../api.ts";
import type { ChatModel } from "./chat-model.ts";
import { moderatedText, settingsChanges, untilText } from "./moderation-notices.ts";

export { ModerationKind, RoomRole, untilText };

/** A ban, kick or mute of the user, as the server told it. */
export interface Sanction {
  readonly kind: "kick" | "ban" | "mute";
  readonly by: string;
  readonly reason: string;
  /** When it ends, ms since the epoch on the server's clock (0: until lifted; a kick has none). */
  readonly untilMs: number;
}

/** Why the composer is closed in a room; the view says it above the composer. */
export type Block =
  | { readonly kind: "removed"; readonly sanction: Sanction }
  | { readonly kind: "left" }
  | { readonly kind: "muted"; readonly sanction: Sanction }
  | { readonly kind: "read-only" };

/** What the page knows of who governs one room and how the user stands in it. */
export class RoomGovernance {
  /** The last GetRoom or room_updated (undefined until one has arrived). */
  settings: RoomSettings | undefined;
  role: RoomRole = RoomRole.UNSPECIFIED;
  /** A mute of the user's in force (undefined: none known). */
  mute: Sanction | undefined;
  /** The kick or ban that took the page out of the room, until it is joined again. */
  removal: Sanction | undefined;
  /** Reports not yet resolved, by id (staff only). */
  readonly openReports = new Set<number>();
  /** `settings` is as of the current join (a rejoin asks again: things change while away). */
  fresh = false;
  loading: Promise<void> | undefined;
}

/**
 * The user's standing in each room (role, mute, a kick or ban) and the
 * governance events of the subscription: what the composer and the room
 * settings are drawn from. Refusals are the server's; this only remembers.
 */
export class Moderation {
  /** A server admin (WhoAmI): may govern any room. */
  admin = false;
  readonly #model: ChatModel;
  readonly #rooms = new Map<string, RoomGovernance>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** The server's clock minus the page's: a mute ends by the server's clock. */
  #offsetMs = 0;
  #askedWhoAmI = false;
  #invite: string | undefined;

  constructor(model: ChatModel) {
    this.#model = model;
  }

  of(room: string): RoomGovernance {
    let governance = this.#rooms.get(room);
    if (governance === undefined) {
      governance = new RoomGovernance();
      this.#rooms.set(room, governance);
    }
    return governance;
  }

  /** A moderator, the owner or an admin: may kick, ban, mute, invite and read reports. */
  canModerate(room: string): boolean {
    if (isDirectRoom(room)) return false;
    return this.admin || this.of(room).role >= RoomRole.MODERATOR;
  }

  /** The owner (or an admin): may change privacy and roles. */
  isOwner(room: string): boolean {
    if (isDirectRoom(room)) return false;
    return this.admin || this.of(room).role === RoomRole.OWNER;
  }

  /**
   * Whether a message here may be reported: anywhere but direct messages (a
   * room nobody owns reports to the server's admins).
   */
  reportable(room: string): boolean {
    return !isDirectRoom(room) && this.of(room).settings !== undefined;
  }

  block(name: string): Block | undefined {
    const room = this.#model.rooms.get(name);
    if (room === undefined || room.direct) return undefined;
    const governance = this.of(name);
    if (!room.open) {
      return governance.removal
        ? { kind: "removed", sanction: governance.removal }
        : { kind: "left" };
    }
    if (governance.mute) return { kind: "muted", sanction: governance.mute };
    if (governance.settings?.readOnly && !this.canModerate(name)) return { kind: "read-only" };
    return undefined;
  }

  /** Opens the page with an invite code: used once the subscription is welcomed. */
  redeemLater(code: string): void {
    this.#invite = code;
    if (this.#model.subscription.welcomed) this.#redeem();
  }

  welcomed(serverTimeMs: number): void {
    this.#offsetMs = serverTimeMs - Date.now();
    if (!this.#askedWhoAmI) {
      this.#askedWhoAmI = true;
      this.#model.client.whoAmI({}).then(
        (me) => {
          this.admin = me.admin;
          this.#model.changed("me");
          this.#model.changed("rooms");
        },
        // Asked again on the next welcome.
        () => (this.#askedWhoAmI = false),
      );
    }
    if (this.#invite !== undefined) this.#redeem();
  }

  /** A room was joined: a kick or ban of before is over; what it is now is asked again. */
  joined(name: string): void {
    const governance = this.of(name);
    governance.removal = undefined;
    governance.fresh = false;
    if (name === this.#model.current) this.refresh(name);
  }

  /** The room's settings and the user's role in it (GetRoom), once at a time. */
  refresh(name: string): void {
    if (isDirectRoom(name) || !this.#model.rooms.get(name)?.joined) return;
    const governance = this.of(name);
    if (governance.loading || governance.fresh) return;
    governance.loading = this.#model.client.getRoom({ room: name }).then(
      (settings) => {
        governance.loading = undefined;
        this.apply(settings, true);
      },
      () => {
        // Governance is shown from what is known; the next visit asks again.
        governance.loading = undefined;
      },
    );
  }

  /** Settings from a reply to us (`mine`: its your_role is ours) or from room_updated. */
  apply(settings: RoomSettings, mine: boolean): void {
    const { room } = settings;
    const governance = this.of(room);
    const before = governance.settings;
    const wasStaff = governance.fresh && this.canModerate(room);
    const role = this.#role(settings, mine, governance.role);
    if (before !== undefined && !mine) {
      for (const line of settingsChanges(settings, before, role, governance.role)) {
        this.#model.notice(room, line);
      }
    }
    governance.settings = settings;
    governance.fresh = true;
    governance.role = role;
    if (mine) {
      this.admin ||= settings.youAreAdmin;
      // A mute the page did not see arrive (set while away, or before a reload), or one lifted meanwhile.
      const untilMs = Number(settings.mutedUntilMs);
      if (settings.youAreMuted && governance.mute?.untilMs !== untilMs) {
        governance.mute = { kind: "mute", by: "A moderator", reason: "", untilMs };
        this.#expire(room, untilMs);
      } else if (!settings.youAreMuted) governance.mute = undefined;
    }
    // Staff see how many reports wait: counted when they become staff (or rejoin as staff).
    if (!wasStaff && this.canModerate(room)) this.countReports(room).catch(() => undefined);
    this.#model.changed("rooms");
  }

  /** The open reports' ids (the first page, up to 100), for the badge. */
  async countReports(room: string): Promise<ReportInfo[]> {
    const response = await this.#model.client.listReports({ room, pageSize: 100 });
    const open = this.of(room).openReports;
    open.clear();
    for (const report of response.reports) open.add(Number(report.id));
    this.#model.changed("rooms");
    return response.reports;
  }

  moderated(event: Moderated): void {
    const model = this.#model;
    const { room, kind, reason } = event;
    const untilMs = Number(event.untilMs);
    const text = moderatedText(event);
    if (event.user?.userId !== model.me.userId || text === undefined) return;
    const governance = this.of(room);
    const by = event.by?.username || "A moderator";
    if (kind === ModerationKind.KICK || kind === ModerationKind.BAN) {
      const ban = kind === ModerationKind.BAN;
      governance.removal = { kind: ban ? "ban" : "kick", by, reason, untilMs: ban ? untilMs : 0 };
      this.#close(room);
    } else if (kind === ModerationKind.UNBAN) {
      governance.removal = undefined;
    } else if (kind === ModerationKind.MUTE) {
      governance.mute = { kind: "mute", by, reason, untilMs };
      this.#expire(room, untilMs);
    } else {
      governance.mute = undefined;
    }
    // Said in the room concerned (where the composer says it too), and where the user is.
    if (model.rooms.has(room)) model.notice(room, text);
    if (model.current !== room) model.notice(model.current, text);
    model.changed("rooms");
  }

  /**
   * Out of the room at once, not only when its Left comes: a connection
   * lost in between would otherwise take the page back in on the next one.
   */
  #close(name: string): void {
    const room = this.#model.rooms.get(name);
    if (room === undefined || room.direct) return;
    room.open = false;
    room.joined = false;
    room.members.clear();
    room.onlineCount = 0;
  }

  /** The Left that follows a kick or ban: its notice was given by `moderated`. */
  explained(room: string): boolean {
    return this.#rooms.get(room)?.removal !== undefined;
  }

  reported(report: ReportInfo): void {
    const { room } = report;
    this.of(room).openReports.add(Number(report.id));
    const author = report.message?.username || "someone";
    const reporter = report.reporter?.username || "Someone";
    this.#model.notice(
      room,
      `${reporter} reported a message by ${author}: “${report.reason}”. Room settings lists the reports.`,
    );
    this.#model.changed("rooms");
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #role(settings: RoomSettings, mine: boolean, before: RoomRole): RoomRole {
    if (mine) return settings.yourRole;
    // room_updated names no role of ours: the staff list says whether we are staff.
    const held = settings.staff.find((h) => h.user?.userId === this.#model.me.userId);
    if (held) return held.role;
    if (before < RoomRole.MODERATOR) return before;
    return settings.inviteOnly ? RoomRole.MEMBER : RoomRole.UNSPECIFIED;
  }

  /** A mute ends by itself: the composer opens again then. */
  #expire(room: string, untilMs: number): void {
    clearTimeout(this.#timers.get(room));
    this.#timers.delete(room);
    if (untilMs === 0) return;
    const delay = Math.max(0, untilMs - (Date.now() + this.#offsetMs));
    // setTimeout holds at most about 24.8 days; a longer mute is checked again then.
    const timer = setTimeout(() => this.#ended(room, untilMs), Math.min(delay, 2 ** 31 - 1));
    this.#timers.set(room, timer);
  }

  #ended(room: string, untilMs: number): void {
    const governance = this.of(room);
    if (governance.mute?.untilMs !== untilMs) return;
    if (untilMs > Date.now() + this.#offsetMs) {
      this.#expire(room, untilMs);
      return;
    }
    governance.mute = undefined;
    this.#model.notice(room, `Your mute in ${room} has ended: you can post again.`);
    this.#model.changed("rooms");
  }

  #redeem(): void {
    const code = this.#invite;
    if (code === undefined) return;
    this.#invite = undefined;
    const model = this.#model;
    model.client.redeemInvite({ code }).then(
      ({ room }) => {
        this.of(room).removal = undefined;
        try {
          model.join(room);
          model.notice(room, `You joined ${room} with an invite.`);
        } catch (error) {
          model.notice(model.current, (error as Error).message);
        }
      },
      (error: unknown) => {
        model.notice(model.current, `The invite could not be used: ${failure(error).text}`);
      },
    );
  }
}
