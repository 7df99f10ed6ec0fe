import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  type MarkupBlock,
  type MarkupInline,
  parseMarkup,
  plainSnippet,
  safeHref,
} from "../src/client/markup.ts";

const text = (t: string): MarkupInline => ({ type: "text", text: t });
const paragraph = (...children: MarkupInline[]): MarkupBlock => ({ type: "paragraph", children });

test("bold, italic and inline code", () => {
  assert.deepEqual(parseMarkup("**bold** and *it* and `x + 1`"), [
    paragraph(
      { type: "strong", children: [text("bold")] },
      text(" and "),
      { type: "em", children: [text("it")] },
      text(" and "),
      { type: "code", text: "x + 1" },
    ),
  ]);
  assert.deepEqual(parseMarkup("__b__ _i_"), [
    paragraph({ type: "strong", children: [text("b")] }, text(" "), {
      type: "em",
      children: [text("i")],
    }),
  ]);
});

test("fenced and indented code blocks keep their text as typed", () => {
  assert.deepEqual(parseMarkup("```ts\nconst a = **1**;\n```"), [
    { type: "code_block", text: "const a = **1**;" },
  ]);
  assert.deepEqual(parseMarkup("    indented *code*"), [
    { type: "code_block", text: "indented *code*" },
  ]);
});

test("block quotes hold blocks, and a line break stays a break", () => {
  assert.deepEqual(parseMarkup("> quoted **words**\n> more\n\nafter"), [
    {
      type: "quote",
      children: [
        paragraph(
          text("quoted "),
          { type: "strong", children: [text("words")] },
          { type: "break" },
          text("more"),
        ),
      ],
    },
    paragraph(text("after")),
  ]);
});

test("explicit links, autolinks and bare URLs with a scheme are links", () => {
  assert.deepEqual(
    parseMarkup("[docs](https://example.com/d) <mailto:a@example.com> see http://example.org/x."),
    [
      paragraph(
        { type: "link", href: "https://example.com/d", children: [text("docs")] },
        text(" "),
        { type: "link", href: "mailto:a@example.com", children: [text("mailto:a@example.com")] },
        text(" see "),
        { type: "link", href: "http://example.org/x", children: [text("http://example.org/x")] },
        text("."),
      ),
    ],
  );
  // A file name is not a host.
  assert.deepEqual(parseMarkup("open readme.md"), [paragraph(text("open readme.md"))]);
});

test("headings, lists, tables, images and raw HTML stay literal text", () => {
  assert.deepEqual(parseMarkup("# not a heading"), [paragraph(text("# not a heading"))]);
  assert.deepEqual(parseMarkup("- one\n1. two"), [
    paragraph(text("- one"), { type: "break" }, text("1. two")),
  ]);
  assert.deepEqual(parseMarkup("| a | b |\n|---|---|"), [
    paragraph(text("| a | b |"), { type: "break" }, text("|---|---|")),
  ]);
  assert.deepEqual(parseMarkup("![cat](https://example.com/cat.png)"), [
    paragraph(text("![cat](https://example.com/cat.png)")),
  ]);
  assert.deepEqual(parseMarkup("<b>hi</b> &amp; <script>x</script>"), [
    paragraph(text("<b>hi</b> &amp; <script>x</script>")),
  ]);
});

test("links with any other scheme are plain text, not links", () => {
  for (const href of [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "&#106;avascript:alert(1)",
    "data:text/html,hi",
    "vbscript:x",
    "file:///etc/passwd",
    "/relative",
  ]) {
    const blocks = parseMarkup(`[click](${href})`);
    assert.equal(links(blocks).length, 0, href);
  }
  assert.equal(safeHref("javascript:alert(1)"), undefined);
  assert.equal(safeHref(" https://example.com "), "https://example.com");
  assert.equal(safeHref("MAILTO:a@b.example"), "MAILTO:a@b.example");
});

test("plainSnippet: one line without markup, cut with an ellipsis", () => {
  assert.equal(plainSnippet("**hello** `world`", 50), "hello world");
  assert.equal(
    plainSnippet("> quoted\n\nthen [a link](https://x.example)", 50),
    "quoted then a link",
  );
  assert.equal(plainSnippet("abcdefghij", 5), "abcd…");
  assert.equal(plainSnippet("abcde", 5), "abcde");
});

function links(blocks: readonly MarkupBlock[]): string[] {
  const found: string[] = [];
  const inlines = (list: readonly MarkupInline[]) => {
    for (const inline of list) {
      if (inline.type === "link") found.push(inline.href);
      if (inline.type === "strong" || inline.type === "em" || inline.type === "link")
        inlines(inline.children);
    }
  };
  for (const block of blocks) {
    if (block.type === "paragraph") inlines(block.children);
    if (block.type === "quote") found.push(...links(block.children));
  }
  return found;
}

const markdownish = fc
  .array(
    fc.oneof(
      fc.string(),
      fc.constantFrom(
        "*",
        "**",
        "_",
        "`",
        "```\n",
        "> ",
        "\n",
        "[",
        "](",
        ")",
        "<",
        ">",
        "#",
        "\\",
      ),
      fc.constantFrom("javascript:", "data:", "https://x.example", "mailto:a@b.example", "&#106;"),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(""));

test("property: any text parses, and every link it yields is safe", () => {
  fc.assert(
    fc.property(markdownish, (input) => {
      for (const href of links(parseMarkup(input))) assert.notEqual(safeHref(href), undefined);
    }),
    { numRuns: 500 },
  );
});

test("property: a snippet is one line within its length", () => {
  fc.assert(
    fc.property(markdownish, fc.integer({ min: 1, max: 40 }), (input, max) => {
      const snippet = plainSnippet(input, max);
      assert.ok(Array.from(snippet).length <= max);
      assert.ok(!/[\n\r]/.test(snippet));
    }),
    { numRuns: 500 },
  );
});
