// Messages people can change, as the server keeps them: History in current
// state, the seed's wire, join lines in the log, read markers across a
// restart, the edit window and the reaction rules.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { ChatClient } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { manualClock } from "./core-helpers.ts";
import {
  liveUser,
  nextMatching,
  refusal,
  startTestServer,
  tempDir,
  testClient,
} from "./helpers.ts";
import { type SeedChatMessage, seedUser } from "./seed-client.ts";

async function joined(server: { address: string }, username: string): Promise<ChatClient> {
  const client = testClient(server, { username });
  await client.join();
  return client;
}

describe("changes on one server", () => {
  let server: RunningChatServer;
  const clients: ChatClient[] = [];
  before(async () => {
    server = await startTestServer({ limits: { maxReactions: 2 } });
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
  });

  test("a History page shows each message as it is now, reactions as each reader sees them", async () => {
    const room = "state";
    const [ann, ben] = [await joined(server, "ann"), await joined(server, "ben")];
    clients.push(ann, ben);
    const first = await ann.send("first draft", { room });
    const second = await ann.send("to be removed", { room });
    const third = await ben.send("an answer", { room, replyTo: first.id });
    await ann.edit(room, first.id, "first, edited");
    await ann.react(room, third.id, "👍");
    await ben.react(room, third.id, "👍");
    await ben.react(room, third.id, ":tada:");
    await ann.delete(room, second.id);

    const { messages } = await ben.history({ room, limit: 10 });
    assert.deepEqual(
      messages.map((m) => [
        m.id,
        m.text,
        Boolean(m.editedAtMs),
        Boolean(m.deleted),
        m.replyTo ?? 0,
      ]),
      [
        [first.id, "first, edited", true, false, 0],
        [second.id, "", false, true, 0],
        [third.id, "an answer", false, false, first.id],
      ],
      "edited text, a tombstone, a reply; no change entries in the page",
    );
    // A client that holds an older page catches up forwards from its cursor:
    // the changes come as entries of the log, in order, after the messages.
    const forwards = await ben.history({ room, afterId: third.id, limit: 20 });
    assert.deepEqual(
      forwards.messages.map((m) => [m.change?.kind, m.change?.targetId, m.text]),
      [
        ["edit", first.id, "first, edited"],
        ["reaction", third.id, ""],
        ["reaction", third.id, ""],
        ["reaction", third.id, ""],
        ["delete", second.id, ""],
      ],
    );
    const reactionsOf = async (client: ChatClient) =>
      (await client.history({ room, limit: 10 })).messages.find((m) => m.id === third.id)
        ?.reactions;
    assert.deepEqual(await reactionsOf(ben), [
      { emoji: "👍", count: 2, mine: true },
      { emoji: ":tada:", count: 1, mine: true },
    ]);
    assert.deepEqual(await reactionsOf(ann), [
      { emoji: "👍", count: 2, mine: true },
      { emoji: ":tada:", count: 1, mine: false },
    ]);
  });

  test("only the author edits or deletes; gone, missing and bad input are refused with a reason", async () => {
    const room = "rules";
    const [cat, dan] = [await joined(server, "cat"), await joined(server, "dan")];
    clients.push(cat, dan);
    const mine = await cat.send("cat's words", { room });
    const gone = await cat.send("soon gone", { room });
    assert.ok((await cat.delete(room, gone.id)).id > 0);
    assert.equal((await cat.delete(room, gone.id)).id, 0, "a second delete changes nothing");

    const cases: Array<[() => Promise<unknown>, number, RegExp]> = [
      [() => dan.edit(room, mine.id, "dan's now"), status.PERMISSION_DENIED, /only edit your own/],
      [() => dan.delete(room, mine.id), status.PERMISSION_DENIED, /only delete your own/],
      [() => cat.edit(room, 999, "nothing there"), status.NOT_FOUND, /no message 999/],
      [() => cat.edit(room, gone.id, "back"), status.FAILED_PRECONDITION, /deleted/],
      [() => dan.react(room, gone.id, "👍"), status.FAILED_PRECONDITION, /deleted/],
      [
        () => cat.send("answering a ghost", { room, replyTo: gone.id }),
        status.FAILED_PRECONDITION,
        /deleted/,
      ],
      [
        () => cat.send("answering nothing", { room, replyTo: 4242 }),
        status.NOT_FOUND,
        /no message 4242/,
      ],
      [() => cat.edit(room, mine.id, "   "), status.INVALID_ARGUMENT, /needs some text/],
      [() => dan.react(room, mine.id, "thumbs up"), status.INVALID_ARGUMENT, /one emoji/],
      [() => dan.react(room, mine.id, "👍👍"), status.INVALID_ARGUMENT, /one emoji/],
      [() => dan.react(room, mine.id, `:${"x".repeat(33)}:`), status.INVALID_ARGUMENT, /one emoji/],
    ];
    for (const [call, code, reason] of cases) {
      const refused = await refusal(call());
      assert.equal(refused.code, code, refused.message);
      assert.match(refused.message, reason);
    }
    // Nothing refused left a trace: the words are cat's own, as sent.
    const page = await cat.history({ room, limit: 10 });
    assert.deepEqual(
      page.messages.map((m) => [m.text, m.editedAtMs ?? 0, m.reactions ?? []]),
      [
        ["cat's words", 0, []],
        ["", 0, []],
      ],
    );
  });

  test("reactions: once per user per emoji, and at most the server's number of different ones", async () => {
    const room = "reacts";
    const [eve, fay] = [await joined(server, "eve"), await joined(server, "fay")];
    clients.push(eve, fay);
    const { id } = await eve.send("react to me", { room });
    assert.ok((await fay.react(room, id, "👍")).id > 0);
    assert.equal((await fay.react(room, id, "👍")).id, 0, "already there: nothing stored");
    assert.equal((await fay.react(room, id, "🎉", true)).id, 0, "not there: nothing stored");
    assert.ok((await fay.react(room, id, "👍🏽")).id > 0, "a skin tone is one emoji");
    const third = await refusal(eve.react(room, id, "🎉"));
    assert.equal(third.code, status.RESOURCE_EXHAUSTED);
    assert.match(third.message, /already has 2 different reactions/);
    assert.ok((await eve.react(room, id, "👍")).id > 0, "adding to an existing one is fine");
    const [message] = (await eve.history({ room, limit: 1 })).messages;
    assert.deepEqual(message?.reactions, [
      { emoji: "👍", count: 2, mine: true },
      { emoji: "👍🏽", count: 1, mine: false },
    ]);
  });

  test("the seed's wire: an edit is a line from the editor, a delete a line that says so; its history is current", async () => {
    const gus = await joined(server, "gus");
    clients.push(gus);
    const seed = await seedUser(server, "hal");
    try {
      const sent = await gus.send("seed sees this", { room: "lobby" });
      const isFrom = (name: string, text: string) => (m: SeedChatMessage) =>
        m.username === name && m.message === text;
      await nextMatching(seed.iterator, isFrom("gus", "seed sees this"), "the message");
      await gus.react("lobby", sent.id, "👍");
      await gus.edit("lobby", sent.id, "seed sees this, edited");
      await nextMatching(
        seed.iterator,
        isFrom("gus", "(edited) seed sees this, edited"),
        "the edit as a line",
        // A reaction has no line on the seed's wire: the next line is the edit.
      );
      const doomed = await gus.send("a slip", { room: "lobby" });
      await nextMatching(seed.iterator, isFrom("gus", "a slip"), "the slip");
      await gus.delete("lobby", doomed.id);
      await nextMatching(
        seed.iterator,
        (m) => m.user_id === "system" && m.message === "gus removed a message",
        "the delete as a line",
      );
      const history = await gus.seedHistory(20, false);
      const texts = history.map((m) => m.text);
      assert.ok(texts.includes("seed sees this, edited"), texts.join(" | "));
      assert.ok(!texts.includes("seed sees this"), "the old text is gone");
      assert.ok(!texts.includes("a slip") && !texts.includes(""), "the deleted one is left out");
    } finally {
      seed.call.end();
      seed.client.close();
    }
  });
});

test("the edit window: an edit after it is refused, saying how long it is", async () => {
  const clock = manualClock(Date.parse("2026-12-01T10:00:00Z"));
  const server = await startTestServer({ clock, limits: { editWindowMs: 15 * 60_000 } });
  const ivy = await joined(server, "ivy");
  try {
    const { id } = await ivy.send("typo hree", { room: "window" });
    clock.advance(15 * 60_000);
    assert.ok((await ivy.edit("window", id, "typo here")).id > 0, "at the edge: allowed");
    clock.advance(1);
    const late = await refusal(ivy.edit("window", id, "typo here!"));
    assert.equal(late.code, status.FAILED_PRECONDITION);
    assert.match(late.message, /only within 15 min of sending/);
    assert.ok((await ivy.delete("window", id)).id > 0, "a delete has no window");
  } finally {
    ivy.close();
    await server.stop();
  }
});

test("joins, leaves and topics are lines of the log: History and the seed's history show who left", async () => {
  const server = await startTestServer({ joinLines: true, presenceTickMs: 20 });
  const watcher = await liveUser(server, "watcher", { room: "lobby" });
  try {
    await nextMatching(
      watcher.events,
      (e) => e.type === "message" && e.message.text === "watcher has joined the chat",
      "the watcher's own join as a line",
    );
    const jay = await seedUser(server, "jay");
    await nextMatching(
      watcher.events,
      (e) =>
        e.type === "message" && e.message.system && e.message.text === "jay has joined the chat",
      "jay's join as a line of the log",
    );
    jay.call.end();
    jay.client.close();
    await nextMatching(
      watcher.events,
      (e) => e.type === "message" && e.message.text === "jay has left the chat",
      "jay's leave as a line",
    );
    await watcher.client.setTopic("lobby", "release day");
    await nextMatching(
      watcher.events,
      (e) => e.type === "message" && e.message.text === "watcher set the topic: release day",
      "the topic as a line",
    );
    const seedHistory = (await watcher.client.seedHistory(5, true)).map((m) => m.text);
    assert.deepEqual(seedHistory.slice(-2), [
      "jay has left the chat",
      "watcher set the topic: release day",
    ]);
    const ours = await watcher.client.history({ room: "lobby", limit: 10, includeSystem: true });
    assert.ok(ours.messages.every((m) => m.system));
    const without = await watcher.client.history({
      room: "lobby",
      limit: 10,
      includeSystem: false,
    });
    assert.deepEqual(without.messages, [], "include_system false leaves them out");
  } finally {
    watcher.client.close();
    await server.stop();
  }
});

test("read markers and unread counts survive a restart; mentions are counted; a marker never goes back", async () => {
  const dir = tempDir();
  const db = join(dir.path, "chat.db");
  const kim = "kim's own secret, long enough";
  try {
    let server = await startTestServer({ db });
    let reader = testClient(server, { username: "kim", userId: kim });
    const writer = await joined(server, "lou");
    await reader.join();
    const ids = [];
    for (const text of ["one", "hey @kim", "three", "kim: look", "five"]) {
      ids.push((await writer.send(text, { room: "news" })).id);
    }
    assert.equal(await reader.markRead("news", ids[0] ?? 0), ids[0]);
    assert.equal(await reader.markRead("news", 0), ids[0], "a marker only moves forward");
    const past = await refusal(reader.markRead("news", (ids[4] ?? 0) + 10));
    assert.equal(past.code, status.INVALID_ARGUMENT);
    reader.close();
    writer.close();
    await server.stop();

    server = await startTestServer({ db });
    reader = testClient(server, { username: "kim", userId: kim });
    await reader.join();
    try {
      const { rooms } = await reader.listRooms();
      const news = rooms.find((r) => r.room === "news");
      assert.equal(news?.lastReadId, ids[0]);
      assert.equal(news?.unread, 4);
      assert.equal(news?.mentions, 2, "@kim and kim: both name her");
    } finally {
      reader.close();
      await server.stop();
    }
  } finally {
    dir.remove();
  }
});
