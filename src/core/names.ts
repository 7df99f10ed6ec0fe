import { remove as removeConfusables } from "confusables";
import { ChatError } from "./chat-error.ts";
import { SYSTEM_USERNAME } from "./types.ts";

/**
 * Names only the server may wear. Compared by {@link nameKey}, so "Sуstem"
 * with a Cyrillic "у" or "ＳＹＳＴＥＭ" is refused as well.
 */
const RESERVED_NAMES = [SYSTEM_USERNAME, "Server", "Admin", "Administrator", "Moderator"];

/**
 * Characters a name may not hold: controls, format characters (zero-width
 * joiners and spaces, bidi embeddings, overrides and isolates, soft hyphen),
 * line and paragraph separators, unassigned and private-use code points, and
 * the fillers that render as nothing. Each could make two different names
 * look alike, or make a name rearrange the text around it.
 */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]/u;
/**
 * Unicode's own list of what renders as nothing (variation selectors, the
 * combining grapheme joiner, Mongolian free variation selectors, Khmer's
 * inherent vowels U+17B4/U+17B5...). Taken from the Unicode data rather
 * than listed by hand, so a character the list above misses is refused too:
 * "Sys\u17B4tem" looks exactly like "System" yet compared as another name.
 */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
const OTHER_SPACE = /[^\S ]/u;
const MARK = /\p{M}/u;
/** Grapheme segmentation has no locale tailoring; any locale gives the same clusters. */
const GRAPHEMES = new Intl.Segmenter("en", { granularity: "grapheme" });

function invalid(message: string): ChatError {
  return new ChatError("invalid_argument", message);
}

/** "U+17B4": names a character a person may not be able to see or type. */
function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A cluster of marks as a reader can recognise it: a mark drawn on "◌", as
 * character charts do (on its own it would sit on the quote or the space
 * before it), and its code point. At most three, so nothing long is echoed.
 */
function shownAlone(cluster: string): string {
  return [...cluster]
    .filter((c) => c !== " ")
    .slice(0, 3)
    .map((c) => `${MARK.test(c) ? `◌${c}` : c} (${codePoint(c)})`)
    .join(", ");
}

/**
 * The first user-perceived character of `name` (NFKC) that {@link nameKey}
 * erases entirely, if any. Whole grapheme clusters are folded, not code
 * points: an accent or vowel sign on a letter is dropped on purpose (names
 * compare without accents) and stays visible, while a cluster with no letter
 * under it ("¨", "‾", a mark at the start or after a space) would be
 * absent from the key, so it could tell no two names apart. Asking the fold
 * itself, rather than keeping a list of what it drops, stays right when the
 * confusables data changes.
 */
function vanishing(name: string): string | undefined {
  for (const { segment } of GRAPHEMES.segment(name)) {
    if (segment !== " " && nameKey(segment) === "") return segment;
  }
  return undefined;
}

/** At most `max` characters of client input, for a message that must not echo it unbounded. */
export function excerpt(input: string, max = 40): string {
  const chars = [...input];
  return chars.length <= max ? input : `${chars.slice(0, max - 1).join("")}…`;
}

/**
 * The form two names are compared in: NFKC, look-alike letters from other
 * scripts mapped to the Latin ones they imitate, case and spacing ignored.
 * Never shown to anyone; only for "is this the same name?".
 */
export function nameKey(name: string): string {
  return removeConfusables(name.normalize("NFKC"))
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\s+/gu, "");
}

const RESERVED_KEYS = new Set(RESERVED_NAMES.map(nameKey));

/**
 * A username as the server keeps it (NFKC, trimmed, inner spaces single), or
 * a ChatError saying why it cannot be used.
 */
export function checkUsername(raw: string, maxChars: number): string {
  if (FORBIDDEN.test(raw)) {
    throw invalid(
      "A username cannot contain control, invisible or direction-changing characters, or line breaks.",
    );
  }
  const name = raw.normalize("NFKC").trim().replace(/ {2,}/g, " ");
  // After NFKC too: a compatibility form (a halfwidth filler) may map to an invisible one.
  const invisible = INVISIBLE.exec(raw) ?? INVISIBLE.exec(name);
  if (invisible) {
    throw invalid(
      `A username cannot contain invisible characters (here ${codePoint(invisible[0])}), such as zero-width marks or variation selectors (an emoji picker adds one after some emoji, such as ❤); type the name without them.`,
    );
  }
  if (OTHER_SPACE.test(name)) throw invalid("A username may hold plain spaces only, no tabs.");
  const chars = [...name].length;
  if (chars === 0) throw invalid(`A username is required (1-${maxChars} characters).`);
  if (chars > maxChars) {
    throw invalid(`The username is ${chars} characters long; the limit is ${maxChars}.`);
  }
  const lost = vanishing(name);
  if (lost !== undefined) {
    throw invalid(
      `A username cannot contain ${shownAlone(lost)} standing alone, with no letter to sit on: names are compared without such marks, so it would tell no names apart. Put accents on a letter, or leave them out.`,
    );
  }
  if (RESERVED_KEYS.has(nameKey(name))) {
    throw invalid(`The username "${name}" is, or looks like, a name reserved for the server.`);
  }
  return name;
}
