import { foldForSearch, punctuatedPieces } from "../store/search-store.ts";
import type { SearchTerm } from "../store/store.ts";
import { ChatError } from "./chat-error.ts";

/** What a search query says, before names and rooms are resolved. */
export interface ParsedSearch {
  readonly include: readonly SearchTerm[];
  readonly exclude: readonly SearchTerm[];
  /** from:name, as written (without a leading @). */
  readonly senders: readonly string[];
  /** in:#room or in:room, as written (without the #). */
  readonly rooms: readonly string[];
  readonly afterMs?: number;
  readonly beforeMs?: number;
  readonly hasLink: boolean;
}

const MAX_QUERY_CHARS = 500;
const MAX_TERMS = 16;
/** Shorter substrings have no trigram; they are searched as words. */
const MIN_SUBSTRING_CHARS = 3;
/** A last word this short matches whole: a one-letter prefix would match most of the index. */
const MIN_PREFIX_CHARS = 2;
const DAY_MS = 86_400_000;
const NOT_WORD = /[^\p{L}\p{N}]+/u;
const TRAILING = /[,;:!?.)\]}>'"]+$/u;
const LEADING = /^[([{<'"]+/u;
const OPERATORS = new Set(["from", "in", "before", "after", "has"]);

/** Folds text as the index does (search-store.ts); per code point, so `foldWithOffsets` can map back. */
export const fold = foldForSearch;

/**
 * The folded text, and for each of its UTF-16 units the code point index in
 * `text` it came from (plus one entry for the end).
 */
export function foldWithOffsets(text: string): { folded: string; source: number[] } {
  let folded = "";
  const source: number[] = [];
  let index = 0;
  for (const char of text) {
    const piece = fold(char);
    folded += piece;
    for (let i = 0; i < piece.length; i++) source.push(index);
    index += 1;
  }
  source.push(index);
  return { folded, source };
}

/** The words of folded text, as the word index splits them. */
export function wordsOf(folded: string): string[] {
  return folded.split(NOT_WORD).filter((w) => w !== "");
}

interface Token {
  readonly text: string;
  readonly quoted: boolean;
  readonly negated: boolean;
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    while (i < query.length && /\s/u.test(query.charAt(i))) i++;
    if (i >= query.length) break;
    let negated = false;
    if (query.charAt(i) === "-" && i + 1 < query.length && !/\s/u.test(query.charAt(i + 1))) {
      negated = true;
      i++;
    }
    if (query.charAt(i) === '"') {
      const end = query.indexOf('"', i + 1);
      if (end < 0) {
        throw new ChatError(
          "invalid_argument",
          'The search has a " that is not closed: end the phrase with another ".',
        );
      }
      tokens.push({ text: query.slice(i + 1, end), quoted: true, negated });
      i = end + 1;
      continue;
    }
    let end = i;
    while (end < query.length && !/\s/u.test(query.charAt(end))) end++;
    tokens.push({ text: query.slice(i, end), quoted: false, negated });
    i = end;
  }
  return tokens;
}

/** A date (UTC) or a full ISO time, as ms; `endOfDay` for after:, which means after that day. */
function parseTime(operator: string, value: string, endOfDay: boolean): number {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (day) {
    const [, y, m, d] = day;
    const start = Date.UTC(Number(y), Number(m) - 1, Number(d));
    const back = new Date(start);
    if (back.getUTCFullYear() === Number(y) && back.getUTCMonth() === Number(m) - 1) {
      return endOfDay ? start + DAY_MS : start;
    }
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new ChatError(
    "invalid_argument",
    `${operator}: needs a date such as ${operator}:2026-12-05 (UTC), or a time such as ${operator}:2026-12-05T14:30Z; "${value}" is neither.`,
  );
}

/** Whether the trigram index can find a substring: a piece with punctuation of 3 characters or more. */
function hasTrigrams(text: string): boolean {
  return punctuatedPieces(text).some((piece) => [...piece].length >= MIN_SUBSTRING_CHARS);
}

/** A term from the words of a token: a substring when it holds punctuation worth matching. */
function termOf(text: string, quoted: boolean): SearchTerm | undefined {
  // Punctuation typed around a word ("(deploy)", "done,") is not part of it;
  // a leading dot or slash is (".env", "/docs").
  const trimmed = quoted ? text : text.replace(TRAILING, "").replace(LEADING, "");
  const folded = fold(trimmed).trim();
  const words = wordsOf(folded);
  const punctuated = words.join(quoted ? " " : "") !== folded.replace(/\s+/gu, quoted ? " " : "");
  if (punctuated && folded.length >= MIN_SUBSTRING_CHARS) {
    return { kind: "substring", text: folded };
  }
  if (words.length === 0) return undefined;
  return { kind: "words", words, prefix: false };
}

/**
 * Parses the search syntax: words (all must match; the last one typed
 * matches as a prefix), "phrases", -word or -"phrase", from:name,
 * in:#room, before:/after: dates and has:link. Throws invalid_argument with
 * a sentence for what cannot be parsed.
 */
export function parseSearch(query: string): ParsedSearch {
  if (query.length > MAX_QUERY_CHARS) {
    throw new ChatError(
      "invalid_argument",
      `The search is ${query.length} characters long; at most ${MAX_QUERY_CHARS} are allowed.`,
    );
  }
  const include: SearchTerm[] = [];
  const exclude: SearchTerm[] = [];
  const senders: string[] = [];
  const rooms: string[] = [];
  let afterMs: number | undefined;
  let beforeMs: number | undefined;
  let hasLink = false;
  let lastBareWord = -1;
  for (const token of tokenize(query)) {
    const colon = token.quoted ? -1 : token.text.indexOf(":");
    const operator = colon > 0 ? token.text.slice(0, colon).toLowerCase() : "";
    if (OPERATORS.has(operator)) {
      if (token.negated) {
        throw new ChatError(
          "invalid_argument",
          `-${operator}: is not supported; leave out the minus to filter by ${operator}:.`,
        );
      }
      const value = token.text.slice(colon + 1);
      switch (operator) {
        case "from": {
          const name = value.replace(/^@/, "");
          if (name === "")
            throw new ChatError("invalid_argument", "from: needs a name, as in from:ann.");
          senders.push(name);
          break;
        }
        case "in": {
          const room = value.replace(/^#/, "");
          if (room === "")
            throw new ChatError("invalid_argument", "in: needs a room, as in in:#dev.");
          rooms.push(room);
          break;
        }
        case "before":
          beforeMs = Math.min(
            beforeMs ?? Number.POSITIVE_INFINITY,
            parseTime("before", value, false),
          );
          break;
        case "after":
          afterMs = Math.max(afterMs ?? 0, parseTime("after", value, true));
          break;
        case "has":
          if (value.toLowerCase() !== "link") {
            throw new ChatError("invalid_argument", `has: knows only has:link, not has:${value}.`);
          }
          hasLink = true;
          break;
      }
      continue;
    }
    const term = termOf(token.text, token.quoted);
    if (!term) continue;
    if (token.negated) exclude.push(term);
    else {
      if (!token.quoted && term.kind === "words") lastBareWord = include.length;
      else lastBareWord = -1;
      include.push(term);
      // A quoted phrase whose punctuation is in pieces too short for a
      // trigram ("a, b") is found by its words, adjacent, then checked.
      const words = term.kind === "substring" && !hasTrigrams(term.text) && wordsOf(term.text);
      if (words && words.length > 0) include.push({ kind: "words", words, prefix: false });
    }
  }
  if (include.length + exclude.length > MAX_TERMS) {
    throw new ChatError(
      "invalid_argument",
      `The search has ${include.length + exclude.length} terms; at most ${MAX_TERMS} are allowed.`,
    );
  }
  const last = include[lastBareWord];
  if (last?.kind === "words" && (last.words.at(-1)?.length ?? 0) >= MIN_PREFIX_CHARS) {
    include[lastBareWord] = { ...last, prefix: true };
  }
  return {
    include,
    exclude,
    senders,
    rooms,
    ...(afterMs !== undefined ? { afterMs } : {}),
    ...(beforeMs !== undefined ? { beforeMs } : {}),
    hasLink,
  };
}
