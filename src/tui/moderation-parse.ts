import { DURATION_WORDS, looksLikeDuration, parseDuration } from "./durations.ts";

/** What a line typed to govern the room shown asks for. */
export type ModerationCommand =
  | {
      readonly kind: "invite" | "unban" | "unmute" | "op" | "deop";
      readonly user: string;
    }
  | { readonly kind: "kick"; readonly user: string; readonly reason: string }
  | {
      readonly kind: "ban" | "mute";
      readonly user: string;
      /** 0: until lifted. */
      readonly durationMs: number;
      readonly reason: string;
    }
  | { readonly kind: "private" | "readonly"; readonly on: boolean }
  | { readonly kind: "report"; readonly id: number; readonly reason: string }
  | { readonly kind: "reports"; readonly all: boolean }
  | { readonly kind: "resolve"; readonly id: number; readonly note: string }
  | { readonly kind: "audit" | "bans" }
  | {
      readonly kind: "invite-code";
      /** 0: the server's default. */
      readonly durationMs: number;
      /** 0: any number until it expires. */
      readonly uses: number;
    };

export type ModerationParse = ModerationCommand | { readonly kind: "usage"; readonly text: string };

/** The kinds above, for what a seed-only server refuses. */
export const MODERATION_KINDS: ReadonlySet<string> = new Set([
  "invite",
  "unban",
  "unmute",
  "op",
  "deop",
  "kick",
  "ban",
  "mute",
  "private",
  "readonly",
  "report",
  "reports",
  "resolve",
  "audit",
  "bans",
  "invite-code",
]);

/**
 * An invite code as this server makes them (16 random bytes, base64url):
 * /join takes one instead of a room. "#" before a name always means a room.
 */
export function looksLikeInviteCode(arg: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(arg);
}

/** The moderation commands for /help. */
export const MODERATION_HELP: readonly string[] = [
  "Running a room (its moderators; /op, /deop, /private, /readonly and /audit: its owner):",
  "/kick name [reason]   take someone out of the room shown (they may come back to a public one)",
  "/ban name [time] [reason]  keep them out, for 30s, 10m, 2h, 7d or forever (the default); /unban",
  "/mute name [time] [reason]  they read but cannot post; /unmute name lets them again",
  "/op name, /deop name  make someone a moderator, or no longer one",
  "/private on|off   only invited people may join; /invite name lets someone in",
  "/readonly on|off  only moderators post",
  "/invite-code [time] [uses]  a code others join with: /join CODE",
  "/report N reason  tell the moderators about message N (numbers show with /ids)",
  "/reports [all]    the open reports (all: resolved too); /resolve ID [note] closes one",
  "/bans         who is banned or muted here; /audit  what the room's moderators did",
];

const USAGE: Readonly<Record<string, string>> = {
  "/invite": "Usage: /invite name",
  "/kick": "Usage: /kick name [reason]",
  "/ban": `Usage: /ban name [time] [reason], the time ${DURATION_WORDS} (the default)`,
  "/unban": "Usage: /unban name",
  "/mute": `Usage: /mute name [time] [reason], the time ${DURATION_WORDS} (the default)`,
  "/unmute": "Usage: /unmute name",
  "/op": "Usage: /op name",
  "/deop": "Usage: /deop name",
  "/private": "Usage: /private on|off",
  "/readonly": "Usage: /readonly on|off",
  "/report": "Usage: /report N reason (N as /ids shows it)",
  "/reports": "Usage: /reports [all]",
  "/resolve": "Usage: /resolve ID [note] (ID as /reports shows it)",
  "/audit": "Usage: /audit",
  "/bans": "Usage: /bans",
  "/invite-code":
    "Usage: /invite-code [time] [uses], the time such as 30m, 2h or 7d (the default), uses a number",
};

/** The moderation command `name` (with its slash) on `line`; undefined when `name` is none. */
export function parseModerationCommand(name: string, line: string): ModerationParse | undefined {
  const usageText = USAGE[name];
  if (usageText === undefined) return undefined;
  const usage = { kind: "usage", text: usageText } as const;
  const args = line.trim().split(/\s+/).slice(1);
  const [first, second] = args;
  const user = first?.replace(/^@/, "");
  switch (name) {
    case "/invite":
    case "/unban":
    case "/unmute":
    case "/op":
    case "/deop": {
      if (!user || args.length !== 1) return usage;
      const kind = name.slice(1) as "invite" | "unban" | "unmute" | "op" | "deop";
      return { kind, user };
    }
    case "/kick":
      return user ? { kind: "kick", user, reason: rest(line, 2) } : usage;
    case "/ban":
    case "/mute": {
      if (!user) return usage;
      const durationMs = second === undefined ? undefined : parseDuration(second);
      if (durationMs === undefined && second !== undefined && looksLikeDuration(second)) {
        return usage;
      }
      return {
        kind: name === "/ban" ? "ban" : "mute",
        user,
        durationMs: durationMs ?? 0,
        reason: rest(line, durationMs === undefined ? 2 : 3),
      };
    }
    case "/private":
    case "/readonly": {
      if (args.length !== 1 || (first !== "on" && first !== "off")) return usage;
      return { kind: name === "/private" ? "private" : "readonly", on: first === "on" };
    }
    case "/report": {
      const id = numberArg(first);
      const reason = rest(line, 2);
      return id !== undefined && reason !== "" ? { kind: "report", id, reason } : usage;
    }
    case "/reports":
      if (args.length === 0) return { kind: "reports", all: false };
      return args.length === 1 && first === "all" ? { kind: "reports", all: true } : usage;
    case "/resolve": {
      const id = numberArg(first);
      return id === undefined ? usage : { kind: "resolve", id, note: rest(line, 2) };
    }
    case "/audit":
    case "/bans":
      return args.length === 0 ? { kind: name === "/audit" ? "audit" : "bans" } : usage;
    default:
      return parseInviteCode(args) ?? usage;
  }
}

/** /invite-code [time] [uses]: either may be left out, in that order. */
function parseInviteCode(args: readonly string[]): ModerationCommand | undefined {
  if (args.length > 2) return undefined;
  let durationMs = 0;
  let uses = 0;
  for (const [at, arg] of args.entries()) {
    const time = parseDuration(arg);
    if (at === 0 && time !== undefined && time > 0) {
      durationMs = time;
      continue;
    }
    if (!/^\d+$/.test(arg) || Number(arg) < 1 || Number(arg) > 1_000_000) return undefined;
    if (at === 0 && args.length === 2) return undefined;
    uses = Number(arg);
  }
  return { kind: "invite-code", durationMs, uses };
}

/** "41" or "#41"; undefined for anything else. */
function numberArg(arg: string | undefined): number | undefined {
  const match = /^#?(\d+)$/.exec(arg ?? "");
  const id = Number(match?.[1]);
  return match && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The line after its first `words` words, as typed (inner spacing kept). */
function rest(line: string, words: number): string {
  let remaining = line.trimStart();
  for (let i = 0; i < words; i++) remaining = remaining.replace(/^\S+\s*/, "");
  return remaining.trimEnd();
}
