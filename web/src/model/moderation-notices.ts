import {
  type Moderated,
  ModerationKind,
  RoomRole,
  type RoomSettings,
} from "../../../src/gen/chat_pb.js";

/** "until 15:04", "until Tue 8 Dec, 15:04", or "until it is lifted" (0). */
export function untilText(untilMs: number): string {
  if (untilMs === 0) return "until it is lifted";
  const until = new Date(untilMs);
  const sameDay = until.toDateString() === new Date().toDateString();
  const time = until.toLocaleString([], {
    ...(sameDay ? {} : { weekday: "short", day: "numeric", month: "short" }),
    hour: "2-digit",
    minute: "2-digit",
  });
  return `until ${time}`;
}

/** " Reason: …" after a sentence, or nothing when none was given. */
export function because(reason: string): string {
  return reason === "" ? "" : ` Reason: ${reason}`;
}

/** What the user is told when they are kicked, banned, muted or let back. */
export function moderatedText(event: Moderated): string | undefined {
  const { room, reason } = event;
  const who = event.by?.username || "A moderator";
  const until = untilText(Number(event.untilMs));
  switch (event.kind) {
    case ModerationKind.KICK:
      return `${who} removed you from ${room}.${because(reason)}`;
    case ModerationKind.BAN:
      return `${who} banned you from ${room} ${until}.${because(reason)}`;
    case ModerationKind.MUTE:
      return `${who} muted you in ${room} ${until}: you can read, but not post or react.${because(reason)}`;
    case ModerationKind.UNMUTE:
      return `${who} lifted your mute: you can post in ${room} again.`;
    case ModerationKind.UNBAN:
      return `${who} lifted your ban from ${room}: you may join it again.`;
    default:
      return undefined;
  }
}

const ROLE_NAMES: Partial<Record<RoomRole, string>> = {
  [RoomRole.OWNER]: "the owner",
  [RoomRole.MODERATOR]: "a moderator",
};

/** What changed for the user in a room's settings: privacy they post under, a role given or taken. */
export function settingsChanges(
  now: RoomSettings,
  before: RoomSettings,
  role: RoomRole,
  was: RoomRole,
): string[] {
  const room = now.room;
  const lines: string[] = [];
  if (now.inviteOnly !== before.inviteOnly) {
    lines.push(now.inviteOnly ? `${room} is invite-only now.` : `${room} is public now.`);
  }
  if (now.readOnly !== before.readOnly) {
    lines.push(
      now.readOnly
        ? `${room} is read-only now: only its moderators post.`
        : `${room} is open to posts again.`,
    );
  }
  if (role !== was) {
    const name = ROLE_NAMES[role];
    lines.push(
      name ? `You are ${name} of ${room} now.` : `You are no longer a moderator of ${room}.`,
    );
  }
  return lines;
}
