import {
  type AuditRecord,
  type ChatClient,
  ChatClientError,
  type ChatLine,
  type Member,
  type ReportEntry,
  type RoomSettings,
  type SanctionEntry,
} from "../client/chat-client.ts";
import { untilText } from "./durations.ts";
import { formatTime } from "./format.ts";
import { type KnownRooms, reportedMessage } from "./moderation-notices.ts";
import type { ModerationCommand } from "./moderation-parse.ts";

/** What the moderation commands need of the controller. */
export interface ModerationContext {
  readonly client: ChatClient;
  /** What the client knows of each room's kind and staff. */
  readonly known: KnownRooms;
  /** The room shown: the one the commands govern. */
  current(): string;
  selfId(): string;
  /** True when a room is shown; else says so and is false. */
  inRoom(): boolean;
  /** The name of a user this client has seen, by id; undefined when none. */
  nameOf(userId: string): string | undefined;
  info(text: string): void;
  error(text: string): void;
}

const REPORTS_SHOWN = 20;
const AUDIT_SHOWN = 20;

/** What an audit entry's action reads as, before its target. */
const DID: Readonly<Record<string, string>> = {
  kick: "kicked",
  ban: "banned",
  unban: "unbanned",
  mute: "muted",
  unmute: "unmuted",
  set_role: "set the role of",
  update_room: "changed",
  invite: "invited",
  create_invite: "made an invite code for",
  resolve_report: "resolved",
  delete: "deleted",
};

const because = (reason: string) => (reason === "" ? "" : `: ${reason}`);

/**
 * The commands of a room's moderators and owner (/kick, /ban, /mute, /op,
 * /private, /invite, /reports, /audit, ...) and everyone's /report, each
 * about the room shown. Success is said in a line; a refusal is the server's
 * sentence.
 */
export class ModerationCommands {
  readonly #ctx: ModerationContext;
  /** Names of users the answers named: the audit log names them by id. */
  readonly #names = new Map<string, string>();

  constructor(ctx: ModerationContext) {
    this.#ctx = ctx;
  }

  async run(command: ModerationCommand): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx.inRoom()) return;
    const room = ctx.current();
    try {
      await this.#run(command, room, `#${room}`);
    } catch (error) {
      ctx.error(ChatClientError.from(error).message);
    }
  }

  async #run(command: ModerationCommand, room: string, label: string): Promise<void> {
    const { client, info } = this.#ctx;
    const calls = client.governance;
    switch (command.kind) {
      case "invite": {
        const who = this.#name(await calls.invite(room, command.user));
        return info(`${who} is invited to ${label}: they can /join ${label} now.`);
      }
      case "kick": {
        const who = this.#name(await calls.kick(room, command.user, command.reason));
        return info(`${who} was kicked from ${label}${because(command.reason)}.`);
      }
      case "ban": {
        const { durationMs, reason } = command;
        const done = await calls.ban(room, command.user, { durationMs, reason });
        const erased = done.deleted > 0 ? ` ${done.deleted} of their messages were erased.` : "";
        const who = this.#name(done.user);
        return info(`${who} is banned from ${label} ${untilText(done.untilMs)}.${erased}`);
      }
      case "mute": {
        const { durationMs, reason } = command;
        const done = await calls.mute(room, command.user, { durationMs, reason });
        return info(`${this.#name(done.user)} is muted in ${label} ${untilText(done.untilMs)}.`);
      }
      case "unban":
        return info(
          `${this.#name(await calls.unban(room, command.user))} may come back to ${label}.`,
        );
      case "unmute":
        return info(
          `${this.#name(await calls.unmute(room, command.user))} can post in ${label} again.`,
        );
      case "op":
      case "deop": {
        const op = command.kind === "op";
        const { user } = command;
        const named = (h: RoomSettings["staff"][number]) =>
          h.role === "moderator" && (h.user.username === user || h.user.userId === user);
        return this.#roomChange(
          room,
          () => calls.setRole(room, user, op ? "moderator" : "member"),
          {
            done: `${user} is ${op ? "now" : "no longer"} a moderator of ${label}.`,
            already: (was) => was.staff.some(named) === op,
            alreadyText: `${user} is ${op ? "" : "not "}a moderator of ${label} already.`,
          },
        );
      }
      case "private":
      case "readonly": {
        const flag = command.kind === "private" ? "inviteOnly" : "readOnly";
        const [on, off] =
          command.kind === "private"
            ? ["invite-only", "public"]
            : ["read-only", "open to all posts"];
        const state = command.on ? on : off;
        return this.#roomChange(room, () => calls.updateRoom(room, { [flag]: command.on }), {
          done: `${label} is now ${state}.`,
          already: (was) => was[flag] === command.on,
          alreadyText: `${label} is ${state} already.`,
        });
      }
      case "report": {
        const id = await calls.report(room, command.id, command.reason);
        return info(
          `Message #${command.id} is reported to the moderators of ${label} (report #${id}).`,
        );
      }
      case "reports":
        return this.#reports(room, label, command.all);
      case "resolve":
        await calls.resolveReport(room, command.id, command.note);
        return info(`Report #${command.id} in ${label} is resolved.`);
      case "audit":
        return this.#audit(room, label);
      case "bans":
        return this.#bans(room, label);
      case "invite-code": {
        const invite = await calls.createInvite(room, {
          expiresInMs: command.durationMs,
          uses: command.uses,
        });
        const uses =
          invite.uses === 0 ? "by anyone" : invite.uses === 1 ? "once" : `${invite.uses} times`;
        info(`Invite code for ${label}: ${invite.code}`);
        info(`It can be used ${uses} ${untilText(invite.expiresMs)}. To join, type:`);
        return info(`/join ${invite.code}`);
      }
    }
  }

  /**
   * A change of the room's kind or staff, said as what changed unless the
   * room_updated event said it first. When nothing was known of the room
   * before, there is nothing to compare with: `done` says what was asked.
   */
  async #roomChange(
    room: string,
    call: () => Promise<RoomSettings>,
    say: { done: string; already: (was: RoomSettings) => boolean; alreadyText: string },
  ): Promise<void> {
    const ctx = this.#ctx;
    const was = ctx.known.get(room);
    const settings = await call();
    for (const held of settings.staff) this.#name(held.user);
    const said = ctx.known.update(settings, ctx.selfId());
    for (const text of said) ctx.info(text);
    if (said.length > 0) return;
    if (was === undefined) ctx.info(say.done);
    else if (say.already(was)) ctx.info(say.alreadyText);
  }

  async #reports(room: string, label: string, all: boolean): Promise<void> {
    const { info } = this.#ctx;
    const { reports } = await this.#ctx.client.governance.listReports(room, {
      includeResolved: all,
      pageSize: REPORTS_SHOWN,
    });
    const which = all ? "report" : "open report";
    if (reports.length === 0) return info(`No ${which}s in ${label}.`);
    const count = reports.length === 1 ? `1 ${which}` : `${reports.length} ${which}s`;
    info(`${count} in ${label}, newest first (/resolve ID [note] closes one):`);
    for (const report of reports) {
      this.#name(report.reporter);
      for (const line of reportLines(report)) info(line);
    }
  }

  async #audit(room: string, label: string): Promise<void> {
    const { info } = this.#ctx;
    const { entries } = await this.#ctx.client.governance.listAudit(room, {
      pageSize: AUDIT_SHOWN,
    });
    if (entries.length === 0) return info(`Nothing has been done in ${label} yet.`);
    info(`What was done in ${label}, newest first:`);
    for (const entry of entries) info(this.#auditLine(entry));
  }

  async #bans(room: string, label: string): Promise<void> {
    const { info } = this.#ctx;
    const bans = await this.#ctx.client.governance.listBans(room);
    if (bans.length === 0) return info(`Nobody is banned from or muted in ${label}.`);
    info(`Banned or muted in ${label}:`);
    for (const ban of bans) info(this.#banLine(ban));
  }

  #auditLine(entry: AuditRecord): string {
    const did = DID[entry.action] ?? entry.action;
    const target = this.#names.get(entry.target) ?? this.#ctx.nameOf(entry.target) ?? entry.target;
    const detail = entry.detail === "" ? "" : ` (${entry.detail})`;
    return `[${formatTime(entry.atMs)}] ${this.#name(entry.actor)} ${did} ${target}${because(entry.reason)}${detail}`;
  }

  #banLine(ban: SanctionEntry): string {
    const who = ban.user ? this.#name(ban.user) : ban.cidr;
    const what = ban.kind === "mute" ? "muted" : "banned";
    return `${who} ${what} ${untilText(ban.untilMs)} by ${this.#name(ban.by)}${because(ban.reason)}`;
  }

  /** A user's name, remembered for the audit log's ids. */
  #name(member: Member): string {
    if (member.username !== "") this.#names.set(member.userId, member.username);
    return member.username || member.userId;
  }
}

/** A report as /reports lists it: its head, then the messages before it and the one reported. */
function reportLines(report: ReportEntry): string[] {
  const resolved = report.resolved
    ? ` (resolved by ${report.resolvedBy?.username ?? "?"}${because(report.resolution)})`
    : "";
  const head = `#${report.id} [${formatTime(report.atMs)}] ${report.reporter.username} reported ${reportedMessage(report)}: ${report.reason}${resolved}`;
  const shown = (line: ChatLine, mark: string) =>
    `   ${mark} [${formatTime(line.timeMs)}] ${line.username}: ${line.deleted ? "(deleted)" : line.text}`;
  return [
    head,
    ...report.context.map((line) => shown(line, " ")),
    ...(report.message ? [shown(report.message, ">")] : []),
  ];
}
