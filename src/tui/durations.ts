import { parseAge } from "../cli/parse.ts";

/** What /ban, /mute and /invite-code take, in words for a usage line. */
export const DURATION_WORDS = "a duration such as 30s, 10m, 2h, 7d, or forever";

/**
 * "30s", "10m", "2h", "7d" as ms, "forever" as 0 (until lifted); undefined
 * for anything else, so a word that is not a duration starts the reason.
 * parseAge's "0" and "unlimited" are not taken: here they would more likely
 * be the first word of a reason.
 */
export function parseDuration(word: string): number | undefined {
  if (word === "forever") return 0;
  if (!/^\d+[smhd]$/.test(word)) return undefined;
  const ms = parseAge(word);
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * A word a person meant as a duration but got wrong ("10", "0m", "10min"):
 * worth a usage line rather than a ban until lifted with it as the reason.
 * Ordinals ("2nd warning") are words of a reason.
 */
export function looksLikeDuration(word: string): boolean {
  return (
    /^\d+[a-z]*$/i.test(word) &&
    !/^\d+(st|nd|rd|th)$/i.test(word) &&
    parseDuration(word) === undefined
  );
}

/** "until 2026-12-06 10:00 UTC", or "until it is lifted" for 0: as the server writes it. */
export function untilText(untilMs: number): string {
  if (untilMs === 0) return "until it is lifted";
  return `until ${new Date(untilMs).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
