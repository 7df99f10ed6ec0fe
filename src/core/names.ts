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
const OTHER_SPACE = /[^\S ]/u;

function invalid(message: string): ChatError {
  return new ChatError("invalid_argument", message);
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
  if (OTHER_SPACE.test(name)) throw invalid("A username may hold plain spaces only, no tabs.");
  const chars = [...name].length;
  if (chars === 0) throw invalid(`A username is required (1-${maxChars} characters).`);
  if (chars > maxChars) {
    throw invalid(`The username is ${chars} characters long; the limit is ${maxChars}.`);
  }
  if (RESERVED_KEYS.has(nameKey(name))) {
    throw invalid(`The username "${name}" is, or looks like, a name reserved for the server.`);
  }
  return name;
}
