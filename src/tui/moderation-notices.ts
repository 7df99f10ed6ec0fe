import type { Member, ModerationNotice, ReportEntry, RoomSettings } from "../client/chat-client.ts";
import { plainSnippet } from "../client/markup.ts";
import { untilText } from "./durations.ts";

const SNIPPET_CHARS = 60;

const nameOf = (member: Member) => member.username || member.userId;
const because = (reason: string) => (reason === "" ? "." : `: ${reason}`);

/** What a kick, ban, mute or their lifting says to the user it was done to. */
export function moderatedText(notice: ModerationNotice, selfId: string): string {
  const room = `#${notice.room}`;
  const until = untilText(notice.untilMs);
  // The server tells only the user concerned; should that change, others read it of them.
  if (notice.user.userId !== selfId) {
    const who = nameOf(notice.user);
    const what = {
      kick: `was kicked from ${room}`,
      ban: `is banned from ${room} ${until}`,
      mute: `is muted in ${room} ${until}`,
      unban: `may come back to ${room}`,
      unmute: `can post in ${room} again`,
    }[notice.kind];
    return `${who} ${what} (by ${nameOf(notice.by)})${because(notice.reason)}`;
  }
  switch (notice.kind) {
    case "kick":
      return `You were kicked from ${room} by ${nameOf(notice.by)}${because(notice.reason)}`;
    case "ban":
      return `You are banned from ${room} ${until}${because(notice.reason)}`;
    case "mute":
      return `You are muted in ${room} ${until}${because(notice.reason)}`;
    case "unmute":
      return `You can post in ${room} again.`;
    case "unban":
      return `Your ban from ${room} was lifted.`;
  }
}

/** A reported message on one line: "carol's message 'buy now'". */
export function reportedMessage(report: ReportEntry): string {
  const { message } = report;
  if (!message) return "a message no longer in history";
  const whose = `${nameOf(message)}'s message #${message.id}`;
  if (message.deleted) return `${whose} (since deleted)`;
  return `${whose} '${plainSnippet(message.text, SNIPPET_CHARS)}'`;
}

/** What a moderator is told of a new report. */
export function reportText(report: ReportEntry): string {
  return `Report #${report.id} in #${report.room}: ${nameOf(report.reporter)} reported ${reportedMessage(report)}: ${report.reason} (/reports)`;
}

/**
 * What the client knows of each room's kind and staff, so a room_updated
 * event (or the answer to our own change) says only what changed: each
 * change is told once, whichever of the two arrives first.
 */
export class KnownRooms {
  readonly #rooms = new Map<string, RoomSettings>();
  /** Bumped by every update: an answer to an older GetRoom must not undo a newer one. */
  readonly #generation = new Map<string, number>();

  get(room: string): RoomSettings | undefined {
    return this.#rooms.get(room);
  }

  /** Starts a look-up of `room`; pass the result to learn() with it. */
  ask(room: string): number {
    return this.#generation.get(room) ?? 0;
  }

  /** The room's settings as a look-up found them, unless an update came since. */
  learn(settings: RoomSettings, asked: number): void {
    if ((this.#generation.get(settings.room) ?? 0) !== asked) return;
    this.#rooms.set(settings.room, settings);
  }

  /** New settings: what changed since the known ones, as sentences for `selfId`. */
  update(settings: RoomSettings, selfId: string): string[] {
    const { room } = settings;
    const before = this.#rooms.get(room);
    this.#rooms.set(room, settings);
    this.#generation.set(room, (this.#generation.get(room) ?? 0) + 1);
    const label = `#${room}`;
    const said: string[] = [];
    // A room not known is taken to be as rooms start: public, open to all.
    if (settings.inviteOnly !== (before?.inviteOnly ?? false)) {
      said.push(
        settings.inviteOnly
          ? `${label} is now invite-only: only invited people can join.`
          : `${label} is now public: anyone can join.`,
      );
    }
    if (settings.readOnly !== (before?.readOnly ?? false)) {
      said.push(
        settings.readOnly
          ? `${label} is now read-only: only its moderators post.`
          : `${label} is no longer read-only: everyone can post.`,
      );
    }
    if (before) said.push(...staffChanges(before, settings, label, selfId));
    else said.push(...yourRole(settings, label, selfId));
    return said;
  }
}

/** With nothing to compare with, our own place on the staff is said, others' not guessed at. */
function yourRole(settings: RoomSettings, label: string, selfId: string): string[] {
  if (settings.owner?.userId === selfId) return [];
  const mine = settings.staff.find((h) => h.user.userId === selfId);
  return mine?.role === "moderator" ? [`You are a moderator of ${label}.`] : [];
}

function staffChanges(
  before: RoomSettings,
  after: RoomSettings,
  label: string,
  selfId: string,
): string[] {
  const said: string[] = [];
  const who = (m: Member) => (m.userId === selfId ? "You" : nameOf(m));
  const moderators = (s: RoomSettings) =>
    new Map(s.staff.filter((h) => h.role === "moderator").map((h) => [h.user.userId, h.user]));
  const was = moderators(before);
  const now = moderators(after);
  const ownerChanged = after.owner && after.owner.userId !== before.owner?.userId;
  if (after.owner && ownerChanged) {
    said.push(
      `${who(after.owner)} ${after.owner.userId === selfId ? "own" : "owns"} ${label} now.`,
    );
  }
  for (const [id, user] of now) {
    if (!was.has(id))
      said.push(`${who(user)} ${id === selfId ? "are" : "is"} now a moderator of ${label}.`);
  }
  for (const [id, user] of was) {
    // The previous owner becomes a moderator on a handover; one who left the staff is said so.
    if (!now.has(id) && id !== after.owner?.userId) {
      said.push(`${who(user)} ${id === selfId ? "are" : "is"} no longer a moderator of ${label}.`);
    }
  }
  return said;
}
