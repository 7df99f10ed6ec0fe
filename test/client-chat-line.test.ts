import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { applyChange, type ChatLine, toChatLine } from "../src/client/chat-line.ts";
import { MessageKind, MessageSchema } from "../src/gen/chat_pb.js";

const message: ChatLine = {
  room: "general",
  id: 41,
  timeMs: 1_000,
  userId: "u-bob",
  username: "bob",
  text: "helo",
  system: false,
  clientMsgId: "",
};

const entry = (id: number, fields: Parameters<typeof create<typeof MessageSchema>>[1]) =>
  toChatLine(
    create(MessageSchema, {
      room: "general",
      id: BigInt(id),
      serverTimeMs: BigInt(id * 1000),
      targetId: 41n,
      ...fields,
    }),
  );

test("change entries read as changes of their target", () => {
  const edit = entry(42, {
    kind: MessageKind.EDIT,
    userId: "u-bob",
    text: "hello",
    editedAtMs: 42_000n,
  });
  assert.deepEqual(edit.change, { kind: "edit", targetId: 41 });
  const react = entry(43, {
    kind: MessageKind.REACTION,
    userId: "u-carol",
    reaction: { emoji: "👍", added: true, count: 1 },
  });
  assert.deepEqual(react.change, {
    kind: "reaction",
    targetId: 41,
    emoji: "👍",
    added: true,
    count: 1,
  });
  const chat = toChatLine(
    create(MessageSchema, { room: "general", id: 1n, kind: MessageKind.CHAT, replyTo: 7n }),
  );
  assert.equal(chat.change, undefined);
  assert.equal(chat.replyTo, 7);
});

test("an edit sets the text and when; applied twice it changes nothing more", () => {
  const edit = entry(42, {
    kind: MessageKind.EDIT,
    userId: "u-bob",
    text: "hello",
    editedAtMs: 42_000n,
  });
  const once = applyChange(message, edit, "u-bob");
  assert.equal(once.text, "hello");
  assert.equal(once.editedAtMs, 42_000);
  assert.deepEqual(applyChange(once, edit, "u-bob"), once);
  // Another message's entry leaves this one alone.
  assert.equal(applyChange({ ...message, id: 40 }, edit, "u-bob").text, "helo");
});

test("a delete makes a tombstone, which later edits and reactions leave alone", () => {
  const withReaction = { ...message, reactions: [{ emoji: "👍", count: 1, mine: true }] };
  const gone = applyChange(
    withReaction,
    entry(42, { kind: MessageKind.DELETE, userId: "u-bob" }),
    "x",
  );
  assert.deepEqual([gone.text, gone.deleted, gone.reactions], ["", true, []]);
  const late = entry(43, { kind: MessageKind.EDIT, userId: "u-bob", text: "back" });
  assert.equal(applyChange(gone, late, "x").text, "");
});

test("a reaction sets its emoji's count, and mine when the entry is ours", () => {
  const mine = entry(42, {
    kind: MessageKind.REACTION,
    userId: "u-me",
    reaction: { emoji: "👍", added: true, count: 1 },
  });
  const theirs = entry(43, {
    kind: MessageKind.REACTION,
    userId: "u-carol",
    reaction: { emoji: "👍", added: true, count: 2 },
  });
  const tada = entry(44, {
    kind: MessageKind.REACTION,
    userId: "u-carol",
    reaction: { emoji: ":tada:", added: true, count: 1 },
  });
  let line = message;
  for (const e of [mine, theirs, theirs, tada]) line = applyChange(line, e, "u-me");
  assert.deepEqual(line.reactions, [
    { emoji: "👍", count: 2, mine: true },
    { emoji: ":tada:", count: 1, mine: false },
  ]);
  const removed = entry(45, {
    kind: MessageKind.REACTION,
    userId: "u-me",
    reaction: { emoji: "👍", added: false, count: 1 },
  });
  line = applyChange(line, removed, "u-me");
  assert.deepEqual(line.reactions?.[0], { emoji: "👍", count: 1, mine: false });
  const last = entry(46, {
    kind: MessageKind.REACTION,
    userId: "u-carol",
    reaction: { emoji: ":tada:", added: false, count: 0 },
  });
  assert.deepEqual(applyChange(line, last, "u-me").reactions, [
    { emoji: "👍", count: 1, mine: false },
  ]);
});
