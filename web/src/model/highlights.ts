import type { CodePointRange } from "./search.ts";

/** A run of a hit's text, marked when the query matched it. */
export interface Piece {
  readonly text: string;
  readonly marked: boolean;
}

/** How much of the text before the first match a long hit keeps. */
const LEAD_CHARS = 40;

/**
 * A hit's text cut to about `maxChars` code points around its first match,
 * split into marked and plain runs. The server counts ranges in code points
 * (an emoji outside the Basic Multilingual Plane is one, though it is two
 * UTF-16 units), so the text is split into code points, never indexed as a
 * string. Line breaks become spaces: a result is a line or two.
 */
export function highlightedPieces(
  text: string,
  ranges: readonly CodePointRange[],
  maxChars: number,
): Piece[] {
  // One space per break character, so the code point count is unchanged.
  const points = Array.from(text.replace(/[\n\r\t]/g, " "));
  const length = points.length;
  const sorted = ranges
    .map(({ start, end }) => ({ start: Math.max(0, start), end: Math.min(length, end) }))
    .filter(({ start, end }) => start < end)
    .sort((a, b) => a.start - b.start);
  let from = 0;
  let to = length;
  if (length > maxChars) {
    const first = sorted[0]?.start ?? 0;
    from = Math.max(0, Math.min(first - LEAD_CHARS, length - maxChars));
    to = Math.min(length, from + maxChars);
  }
  const slice = (start: number, end: number) => points.slice(start, end).join("");
  const pieces: Piece[] = [];
  if (from > 0) pieces.push({ text: "…", marked: false });
  let cursor = from;
  for (const range of sorted) {
    const start = Math.max(range.start, cursor);
    const end = Math.min(range.end, to);
    if (end <= start) continue;
    if (start > cursor) pieces.push({ text: slice(cursor, start), marked: false });
    pieces.push({ text: slice(start, end), marked: true });
    cursor = end;
  }
  if (cursor < to) pieces.push({ text: slice(cursor, to), marked: false });
  if (to < length) pieces.push({ text: "…", marked: false });
  return pieces;
}
