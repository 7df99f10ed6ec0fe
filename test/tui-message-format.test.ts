import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatLine } from "../src/client/chat-client.ts";
import { helpLines, parseCommand } from "../src/tui/commands.ts";
import { formatTime } from "../src/tui/format.ts";
import { formatLine } from "../src/tui/line-mode.ts";
import { typingText } from "../src/tui/typing.ts";

const AT = Date.now();
const T = `[${formatTime(AT)}]`;

const line = (fields: Partial<ChatLine>): ChatLine => ({
  room: "lobby",
  id: 41,
  timeMs: AT,
  userId: "u-bob",
  username: "bob",
  text: "",
  system: false,
  clientMsgId: "",
  ...fields,
});

test("the message commands: a target of last or N (default last), then the rest", () => {
  const parse = (text: string) => parseCommand(text, 100);
  assert.deepEqual(parse("/edit last  new  text"), {
    kind: "edit",
    target: "last",
    text: "new  text",
  });
  assert.deepEqual(parse("/edit #41 new"), { kind: "edit", target: 41, text: "new" });
  assert.deepEqual(parse("/edit fixed it"), { kind: "edit", target: "last", text: "fixed it" });
  assert.deepEqual(parse("/delete"), { kind: "delete", target: "last" });
  assert.deepEqual(parse("/delete 7"), { kind: "delete", target: 7 });
  assert.deepEqual(parse("/react 👍"), { kind: "react", target: "last", emoji: "👍" });
  assert.deepEqual(parse("/react 7 :tada:"), { kind: "react", target: 7, emoji: ":tada:" });
  assert.deepEqual(parse("/reply 7 sure"), { kind: "reply", id: 7, text: "sure" });
  assert.deepEqual(parse("/ids"), { kind: "ids" });
  for (const bad of [
    "/edit",
    "/edit 7",
    "/delete 7 now",
    "/react",
    "/react 7 a b",
    "/reply last x",
    "/reply 7",
  ]) {
    assert.equal(parse(bad).kind, "usage", bad);
  }
  const help = helpLines(100).join("\n");
  for (const command of ["/edit", "/delete", "/react", "/reply", "/ids", "Up"]) {
    assert.ok(help.includes(command), `/help names ${command}`);
  }
});

test("line mode: Markdown with ANSI styles on a terminal, as typed when piped", () => {
  const item = {
    kind: "message",
    line: line({ text: "**b** `c` [d](https://e.example)" }),
  } as const;
  assert.equal(formatLine(item), `${T} bob: **b** \`c\` [d](https://e.example)`);
  assert.equal(
    formatLine(item, undefined, { ansi: true }),
    `${T} bob: \u001b[1mb\u001b[0m \u001b[2mc\u001b[0m \u001b[4md\u001b[0m\u001b[2m (https://e.example)\u001b[0m`,
  );
  // Escapes in a message stay inert inside the styles too.
  const evil = { kind: "message", line: line({ text: "**\u001b[2J**" }) } as const;
  assert.equal(formatLine(evil, undefined, { ansi: true }), `${T} bob: \u001b[1m␛[2J\u001b[0m`);
});

test("line mode: edited, deleted, reactions, replies and change entries", () => {
  const show = (fields: Partial<ChatLine>, quote?: { username: string; snippet: string }) =>
    formatLine({
      kind: "message",
      line: line(fields),
      ...(quote ? { quote: { ...quote, deleted: false } } : {}),
    });
  assert.equal(show({ text: "hi", editedAtMs: 5 }), `${T} bob: hi (edited)`);
  assert.equal(show({ text: "", deleted: true }), `${T} bob: (message deleted)`);
  assert.equal(
    show({
      text: "hi",
      reactions: [
        { emoji: "👍", count: 2, mine: true },
        { emoji: ":tada:", count: 1, mine: false },
      ],
    }),
    `${T} bob: hi [👍 2*] [:tada: 1]`,
  );
  assert.equal(show({ text: "yes", replyTo: 40 }), `${T} bob (↪ reply to #40): yes`);
  assert.equal(
    show({ text: "yes", replyTo: 40 }, { username: "amy", snippet: "ok?" }),
    `${T} bob (↪ amy: ok?): yes`,
  );
  const change = (fields: Partial<ChatLine>) =>
    formatLine({ kind: "change", entry: line({ id: 50, ...fields }) });
  assert.equal(
    change({ text: "new", change: { kind: "edit", targetId: 41 } }),
    `${T} bob edited #41: new`,
  );
  assert.equal(change({ change: { kind: "delete", targetId: 41 } }), `${T} bob deleted #41`);
  const reaction = (added: boolean) =>
    change({
      username: "carol",
      change: { kind: "reaction", targetId: 41, emoji: "👍", added, count: 1 },
    });
  assert.equal(reaction(true), `${T} carol reacted 👍 to #41`);
  assert.equal(reaction(false), `${T} carol removed 👍 from #41`);
});

test("who is typing, in a few words", () => {
  assert.equal(typingText([]), "");
  assert.equal(typingText(["bob"]), "bob is typing…");
  assert.equal(typingText(["bob", "carol"]), "bob and carol are typing…");
  assert.equal(typingText(["bob", "carol", "dan"]), "3 people are typing…");
});
