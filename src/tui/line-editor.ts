import type { Key } from "ink";

/** The input line after one keypress (or one pasted chunk). */
export interface LineEdit {
  readonly text: string;
  /** Lines finished with Enter, in order. */
  readonly submitted: readonly string[];
  readonly quit: boolean;
}

const graphemes = new Intl.Segmenter();

/** Drops the last character as a person sees it (an emoji may be several code points). */
function dropLast(text: string): string {
  let start = 0;
  for (const { index } of graphemes.segment(text)) start = index;
  return text.slice(0, start);
}

/**
 * Applies what ink's useInput reported to the input line. Only appending and
 * deleting at the end: the line is short and this keeps the cursor simple.
 */
export function editLine(text: string, input: string, key: Key): LineEdit {
  const unchanged = { text, submitted: [], quit: false };
  if (key.ctrl) {
    if (input === "c" || input === "d") return { ...unchanged, quit: true };
    if (input === "u") return { ...unchanged, text: "" };
    // Other Ctrl keys must not type their letter.
    return unchanged;
  }
  if (key.return) return { text: "", submitted: [text], quit: false };
  if (key.backspace || key.delete) return { ...unchanged, text: dropLast(text) };
  if (key.meta) return unchanged;

  // Pasted or typed faster than the terminal is read, several keys arrive as
  // one string, Enter and Backspace included.
  let draft = text;
  const submitted: string[] = [];
  for (const ch of input) {
    if (ch === "\r" || ch === "\n") {
      submitted.push(draft);
      draft = "";
    } else if (ch === "\x7f" || ch === "\b") {
      draft = dropLast(draft);
    } else if (ch === "\x03" || ch === "\x04") {
      return { text: draft, submitted, quit: true };
    } else if (!/\p{Cc}/u.test(ch)) {
      draft += ch;
    }
  }
  return { text: draft, submitted, quit: false };
}
