import type { SearchTerm } from "../store/store.ts";
import { foldWithOffsets } from "./search-query.ts";

/** [start, end) of a text in Unicode code points. */
export interface TextRange {
  readonly start: number;
  readonly end: number;
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Where `terms` match `text`, as the index matched them (folded: case and
 * diacritics ignored), in code points of the original text, sorted, with
 * overlapping or touching ranges merged.
 */
export function highlight(text: string, terms: readonly SearchTerm[]): TextRange[] {
  const { folded, source } = foldWithOffsets(text);
  const words = [...folded.matchAll(WORD)].map((m) => ({
    word: m[0],
    start: m.index,
    end: m.index + m[0].length,
  }));
  const found: TextRange[] = [];
  // A range ends after the character its last folded unit came from.
  const add = (start: number, end: number) =>
    found.push({ start: source[start] ?? 0, end: (source[end - 1] ?? -1) + 1 });
  for (const term of terms) {
    if (term.kind === "substring") {
      for (let at = folded.indexOf(term.text); at >= 0; at = folded.indexOf(term.text, at + 1)) {
        add(at, at + term.text.length);
      }
      continue;
    }
    const n = term.words.length;
    for (let i = 0; i + n <= words.length; i++) {
      const matches = term.words.every((want, k) => {
        const got = words[i + k]?.word ?? "";
        return k === n - 1 && term.prefix ? got.startsWith(want) : got === want;
      });
      const first = words[i];
      const last = words[i + n - 1];
      if (matches && first && last) add(first.start, last.end);
    }
  }
  return merge(found);
}

function merge(ranges: TextRange[]): TextRange[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const merged: TextRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.start <= last.end) {
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, range.end) };
    } else merged.push(range);
  }
  return merged;
}
