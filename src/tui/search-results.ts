// How the terminal client words a search hit: one line, its number, time,
// room and sender, and the text with what matched between marks. Info lines
// are what both views print as they are (line mode plain, full screen
// dimmed), so the marks are plain characters that survive a pipe.
import type { SearchHit, TextRange } from "../client/chat-client.ts";
import { formatTime } from "./format.ts";

/** What stands either side of a matched range. */
export const MATCH_MARK = "*";

/** Code points of a hit's text shown at most: a hit is one line among others. */
const SNIPPET_CHARS = 160;
/** Code points kept before the first match when the text is cut, so it reads in context. */
const LEAD_CHARS = 40;

/** "3. [12:00:01] #team carol: the *deploy* failed" (`room`: the label to show it under). */
export function hitLine(number: number, hit: SearchHit, room: string, nowMs?: number): string {
  const { message } = hit;
  const time = formatTime(message.timeMs, nowMs);
  return `${number}. [${time}] ${room} ${message.username}: ${markedSnippet(message.text, hit.highlights)}`;
}

/**
 * `text` on one line with each range between marks; a long text is cut to
 * a window that starts a little before the first match, with "…" where it
 * was cut. Ranges count code points, as the server gives them.
 */
export function markedSnippet(text: string, ranges: readonly TextRange[]): string {
  // One code point for one, so the ranges still point where they did.
  const chars = [...text].map((ch) => (/\s/.test(ch) ? " " : ch));
  const first = ranges[0]?.start ?? 0;
  const from =
    chars.length <= SNIPPET_CHARS
      ? 0
      : Math.max(0, Math.min(first - LEAD_CHARS, chars.length - SNIPPET_CHARS));
  const to = Math.min(chars.length, from + SNIPPET_CHARS);
  let out = from > 0 ? "…" : "";
  let at = from;
  for (const range of ranges) {
    const start = Math.max(range.start, at);
    const end = Math.min(range.end, to);
    if (start >= end) continue;
    out += `${chars.slice(at, start).join("")}${MATCH_MARK}${chars.slice(start, end).join("")}${MATCH_MARK}`;
    at = end;
  }
  out += chars.slice(at, to).join("");
  return to < chars.length ? `${out}…` : out;
}
