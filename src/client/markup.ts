// The Markdown subset both clients render (bold, italic, inline code, code
// blocks, links, block quotes), parsed once into a small typed tree. Shared by
// the terminal and the web client, so it imports no transport and nothing of
// Node. Everything outside the subset (headings, lists, tables, raw HTML) stays
// literal text, because a chat line that happens to start with "#" or "-" is
// not meant as structure.
import MarkdownIt, { type Token } from "markdown-it";

export type MarkupInline =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "strong" | "em"; readonly children: readonly MarkupInline[] }
  | { readonly type: "code"; readonly text: string }
  | { readonly type: "link"; readonly href: string; readonly children: readonly MarkupInline[] }
  | { readonly type: "break" };

export type MarkupBlock =
  | { readonly type: "paragraph"; readonly children: readonly MarkupInline[] }
  | { readonly type: "code_block"; readonly text: string }
  | { readonly type: "quote"; readonly children: readonly MarkupBlock[] };

const SAFE_SCHEME = /^(https?|mailto):/i;

/** `href` when it is a link a client may follow (http, https, mailto); otherwise undefined. */
export function safeHref(href: string): string | undefined {
  const trimmed = href.trim();
  return SAFE_SCHEME.test(trimmed) ? trimmed : undefined;
}

function createParser(): MarkdownIt {
  const md = new MarkdownIt("zero", { html: false, linkify: true, breaks: true });
  md.enable([
    "blockquote",
    "code",
    "fence",
    "emphasis",
    "backticks",
    "link",
    "autolink",
    "linkify",
    "newline",
    "escape",
    // Parsed only so that "![alt](src)" is not read as "!" and a link; it is
    // turned back into its literal text below.
    "image",
  ]);
  // An unsafe link is never parsed as one, so its source stays as typed.
  md.validateLink = (url) => safeHref(url) !== undefined;
  // Bare URLs only with their scheme: without one, "readme.md" or "notes.sh"
  // would become links to hosts in Moldova and Saint Helena.
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
  return md;
}

let parser: MarkdownIt | undefined;

/** `text` as blocks of the Markdown subset; never throws, whatever the input. */
export function parseMarkup(text: string): MarkupBlock[] {
  parser ??= createParser();
  const tokens = parser.parse(text, {});
  return readBlocks(tokens, { at: 0 }, undefined);
}

interface Position {
  at: number;
}

function readBlocks(tokens: Token[], pos: Position, until: string | undefined): MarkupBlock[] {
  const blocks: MarkupBlock[] = [];
  while (pos.at < tokens.length) {
    const token = tokens[pos.at++] as Token;
    if (token.type === until) break;
    switch (token.type) {
      case "blockquote_open":
        blocks.push({ type: "quote", children: readBlocks(tokens, pos, "blockquote_close") });
        break;
      case "code_block":
      case "fence":
        blocks.push({ type: "code_block", text: token.content.replace(/\n$/, "") });
        break;
      case "inline":
        blocks.push({ type: "paragraph", children: readInlines(token.children ?? [], { at: 0 }) });
        break;
      default:
        // paragraph_open/close only frame the inline token.
        break;
    }
  }
  return blocks;
}

function readInlines(tokens: Token[], pos: Position, until?: string): MarkupInline[] {
  const out: MarkupInline[] = [];
  const pushText = (text: string) => {
    if (text === "") return;
    const last = out[out.length - 1];
    if (last?.type === "text") out[out.length - 1] = { type: "text", text: last.text + text };
    else out.push({ type: "text", text });
  };
  while (pos.at < tokens.length) {
    const token = tokens[pos.at++] as Token;
    if (token.type === until) break;
    switch (token.type) {
      case "text":
        pushText(token.content);
        break;
      case "code_inline":
        out.push({ type: "code", text: token.content });
        break;
      case "softbreak":
      case "hardbreak":
        out.push({ type: "break" });
        break;
      case "strong_open":
        out.push({ type: "strong", children: readInlines(tokens, pos, "strong_close") });
        break;
      case "em_open":
        out.push({ type: "em", children: readInlines(tokens, pos, "em_close") });
        break;
      case "link_open": {
        const href = safeHref(token.attrGet("href") ?? "");
        const children = readInlines(tokens, pos, "link_close");
        if (href === undefined) for (const child of children) pushInline(out, child, pushText);
        else out.push({ type: "link", href, children });
        break;
      }
      case "image":
        pushText(`![${token.content}](${token.attrGet("src") ?? ""})`);
        break;
      default:
        pushText(token.content);
        break;
    }
  }
  return out;
}

function pushInline(out: MarkupInline[], inline: MarkupInline, pushText: (t: string) => void) {
  if (inline.type === "text") pushText(inline.text);
  else out.push(inline);
}

/** The plain text of inlines, markup removed. */
export function inlineText(inlines: readonly MarkupInline[]): string {
  let text = "";
  for (const inline of inlines) {
    if (inline.type === "text" || inline.type === "code") text += inline.text;
    else if (inline.type === "break") text += "\n";
    else text += inlineText(inline.children);
  }
  return text;
}

function blocksText(blocks: readonly MarkupBlock[]): string {
  return blocks
    .map((block) => {
      if (block.type === "paragraph") return inlineText(block.children);
      if (block.type === "code_block") return block.text;
      return blocksText(block.children);
    })
    .join("\n");
}

/** `text` without markup on one line, at most `maxChars` characters (ending in "…" when cut). */
export function plainSnippet(text: string, maxChars: number): string {
  const flat = blocksText(parseMarkup(text)).replace(/\s+/g, " ").trim();
  const chars = Array.from(flat);
  if (chars.length <= maxChars) return flat;
  return `${chars
    .slice(0, Math.max(0, maxChars - 1))
    .join("")
    .trimEnd()}…`;
}
