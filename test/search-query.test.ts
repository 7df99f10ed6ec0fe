// The search syntax and the ranges a hit highlights, as a person types them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChatError } from "../src/core/chat-error.ts";
import { highlight } from "../src/core/search-highlight.ts";
import { parseSearch } from "../src/core/search-query.ts";

const refused = (query: string, pattern: RegExp) =>
  assert.throws(
    () => parseSearch(query),
    (error: unknown) =>
      error instanceof ChatError &&
      error.code === "invalid_argument" &&
      pattern.test(error.message),
    query,
  );

test("words must all match, folded; only the last bare word is a prefix", () => {
  assert.deepEqual(parseSearch("Café DEPLOY").include, [
    { kind: "words", words: ["cafe"], prefix: false },
    { kind: "words", words: ["deploy"], prefix: true },
  ]);
  // A one-letter last word matches whole; a quoted last term is never a prefix.
  assert.deepEqual(parseSearch("plan a").include.at(-1), {
    kind: "words",
    words: ["a"],
    prefix: false,
  });
  assert.deepEqual(parseSearch('deploy "release notes"').include, [
    { kind: "words", words: ["deploy"], prefix: false },
    { kind: "words", words: ["release", "notes"], prefix: false },
  ]);
});

test("punctuation inside a term makes it a substring; punctuation around a word does not", () => {
  assert.deepEqual(parseSearch("foo.png").include, [{ kind: "substring", text: "foo.png" }]);
  assert.deepEqual(parseSearch("https://Example.com/Docs/setup").include, [
    { kind: "substring", text: "https://example.com/docs/setup" },
  ]);
  assert.deepEqual(parseSearch("sess.opts .env").include, [
    { kind: "substring", text: "sess.opts" },
    { kind: "substring", text: ".env" },
  ]);
  assert.deepEqual(parseSearch("(deploy), done.").include, [
    { kind: "words", words: ["deploy"], prefix: false },
    { kind: "words", words: ["done"], prefix: true },
  ]);
  assert.deepEqual(parseSearch('"foo.png is"').include, [
    { kind: "substring", text: "foo.png is" },
  ]);
  // Punctuation too short for the trigram index: its words find it, the text confirms it.
  assert.deepEqual(parseSearch('"plan a, b"').include, [
    { kind: "substring", text: "plan a, b" },
    { kind: "words", words: ["plan", "a", "b"], prefix: false },
  ]);
  assert.deepEqual(parseSearch('-"a, b"').exclude, [{ kind: "substring", text: "a, b" }]);
});

test("exclusions and filters", () => {
  const parsed = parseSearch(
    'release -blocked -"not yet" from:@ann from:bob in:#dev in:@carol after:2026-12-01 before:2026-12-05 has:link',
  );
  assert.deepEqual(parsed.include, [{ kind: "words", words: ["release"], prefix: true }]);
  assert.deepEqual(parsed.exclude, [
    { kind: "words", words: ["blocked"], prefix: false },
    { kind: "words", words: ["not", "yet"], prefix: false },
  ]);
  assert.deepEqual(parsed.senders, ["ann", "bob"]);
  assert.deepEqual(parsed.rooms, ["dev", "@carol"]);
  // after: a day means from the end of that day; before: from its start (UTC).
  assert.equal(parsed.afterMs, Date.UTC(2026, 11, 2));
  assert.equal(parsed.beforeMs, Date.UTC(2026, 11, 5));
  assert.equal(parsed.hasLink, true);
  assert.equal(parseSearch("before:2026-12-05T14:30Z").beforeMs, Date.UTC(2026, 11, 5, 14, 30));
  // A word with a colon that is not an operator is searched for.
  assert.deepEqual(parseSearch("todo:later").include, [{ kind: "substring", text: "todo:later" }]);
});

test("what cannot be parsed is refused with a sentence", () => {
  refused('deploy "release notes', /not closed/);
  refused("from:", /from: needs a name/);
  refused("in:#", /in: needs a room/);
  refused("before:yesterday", /before: needs a date such as before:2026-12-05/);
  refused("after:2026-02-30", /after: needs a date/);
  refused("has:file", /has: knows only has:link/);
  refused("-from:ann", /-from: is not supported/);
  refused("x".repeat(501), /at most 500/);
  refused(Array.from({ length: 17 }, (_, i) => `w${i}`).join(" "), /at most 16/);
});

test("highlights are code point ranges of the original text, merged", () => {
  const text = "Le Café: café-crème at CAFE 🍕 cafeteria";
  const ranges = highlight(text, parseSearch("cafe").include);
  const cut = (r: { start: number; end: number }) => [...text].slice(r.start, r.end).join("");
  // "cafe" is the last word, so a prefix: "cafeteria" too. After the emoji,
  // code points differ from UTF-16 units.
  assert.deepEqual(ranges.map(cut), ["Café", "café", "CAFE", "cafeteria"]);
  const phrase = highlight(
    "see foo.png or foo.PNG, and foo png",
    parseSearch('foo.png "foo png"').include,
  );
  assert.deepEqual(
    phrase.map((r) => "see foo.png or foo.PNG, and foo png".slice(r.start, r.end)),
    ["foo.png", "foo.PNG", "foo png"],
  );
  // Overlapping terms make one range.
  assert.deepEqual(highlight("deployment", parseSearch("deploy deployment").include), [
    { start: 0, end: 10 },
  ]);
});
