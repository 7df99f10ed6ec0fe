// A message's Markdown as rows of styled spans: what both terminal views draw,
// full screen with ink's Text styles and line mode with ANSI escapes.
import { inlineText, type MarkupBlock, type MarkupInline, parseMarkup } from "../client/markup.ts";
import { inert } from "./format.ts";

export interface SpanStyle {
  readonly bold?: boolean;
  readonly italic?: boolean;
  /** Inline code, code blocks, quote bars and link targets. */
  readonly dim?: boolean;
  readonly underline?: boolean;
}

/** A run of text in one style; its text is already inert (no control characters). */
export interface Span extends SpanStyle {
  readonly text: string;
}

const QUOTE_BAR = "│ ";
const CODE_INDENT = "    ";

/** `text` as rows of spans: a row per line of the message as it reads. */
export function markupRows(text: string): Span[][] {
  return blockRows(parseMarkup(text));
}

function blockRows(blocks: readonly MarkupBlock[]): Span[][] {
  const rows: Span[][] = [];
  for (const block of blocks) {
    if (block.type === "paragraph") rows.push(...inlineRows(block.children, {}));
    else if (block.type === "code_block") {
      for (const line of block.text.split("\n")) {
        rows.push([{ text: CODE_INDENT + inert(line), dim: true }]);
      }
    } else {
      for (const row of blockRows(block.children))
        rows.push([{ text: QUOTE_BAR, dim: true }, ...row]);
    }
  }
  return rows;
}

function inlineRows(inlines: readonly MarkupInline[], style: SpanStyle): Span[][] {
  const rows: Span[][] = [[]];
  const add = (span: Span) => (rows[rows.length - 1] as Span[]).push(span);
  for (const inline of inlines) {
    switch (inline.type) {
      case "text":
        add({ ...style, text: inert(inline.text) });
        break;
      case "code":
        add({ ...style, dim: true, text: inert(inline.text) });
        break;
      case "break":
        rows.push([]);
        break;
      case "strong":
      case "em": {
        const inner = inlineRows(inline.children, {
          ...style,
          ...(inline.type === "strong" ? { bold: true } : { italic: true }),
        });
        appendRows(rows, inner);
        break;
      }
      case "link": {
        appendRows(rows, inlineRows(inline.children, { ...style, underline: true }));
        const label = inlineText(inline.children);
        // Shown when it says more than the text does, so a link cannot pose as another.
        if (label !== inline.href && `mailto:${label}` !== inline.href) {
          add({ ...style, dim: true, text: ` (${inert(inline.href)})` });
        }
        break;
      }
    }
  }
  return rows;
}

function appendRows(rows: Span[][], more: Span[][]): void {
  const [first = [], ...rest] = more;
  (rows[rows.length - 1] as Span[]).push(...first);
  rows.push(...rest);
}

const SGR: Record<keyof SpanStyle, string> = { bold: "1", dim: "2", italic: "3", underline: "4" };

/** Spans with ANSI styles, each closed again so nothing leaks into the next text. */
export function ansiRow(spans: readonly Span[]): string {
  return spans
    .map((span) => {
      const codes = (Object.keys(SGR) as (keyof SpanStyle)[])
        .filter((key) => span[key])
        .map((key) => SGR[key]);
      return codes.length === 0 ? span.text : `\u001b[${codes.join(";")}m${span.text}\u001b[0m`;
    })
    .join("");
}

/** Spans as plain text. */
export function plainRow(spans: readonly Span[]): string {
  return spans.map((span) => span.text).join("");
}
