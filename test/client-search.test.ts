// The SDK's side of search: pages followed by their token, highlights that
// count code points, the server's sentence for a query it cannot parse, and
// the History page around a message that a hit opens.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { ChatClient } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { refusal, startTestServer, testClient } from "./helpers.ts";

let server: RunningChatServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

async function joinedClient(username: string): Promise<ChatClient> {
  const client = testClient(server, { username });
  await client.join();
  return client;
}

/** The code points of `text` from `start` to `end`, as highlights count them. */
const codePoints = (text: string, { start, end }: { start: number; end: number }) =>
  [...text].slice(start, end).join("");

test("search: pages newest first until the token runs out, each hit with its room, sender and highlights", async () => {
  const ada = await joinedClient("ada");
  try {
    const sent: number[] = [];
    for (let i = 1; i <= 5; i++) {
      // The emoji is two UTF-16 units but one code point: highlights count the latter.
      const ack = await ada.send(`🍊 kumquat number ${i}`, { room: "orchard" });
      sent.push(ack.id);
    }
    await ada.send("no fruit named here", { room: "orchard" });
    const ids: number[] = [];
    const pages: number[] = [];
    let pageToken: string | undefined;
    do {
      const page = await ada.search({
        query: "kumquat",
        limit: 2,
        ...(pageToken ? { pageToken } : {}),
      });
      pages.push(page.hits.length);
      for (const hit of page.hits) {
        assert.equal(hit.message.room, "orchard");
        assert.equal(hit.message.username, "ada");
        assert.ok(hit.message.timeMs > 0);
        assert.equal(hit.highlights.length, 1, hit.message.text);
        assert.equal(
          codePoints(hit.message.text, hit.highlights[0] ?? { start: 0, end: 0 }),
          "kumquat",
        );
        ids.push(hit.message.id);
      }
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    assert.deepEqual(pages, [2, 2, 1]);
    assert.deepEqual(ids, sent.toReversed());

    const oldest = await ada.search({ query: "kumquat", oldestFirst: true, limit: 1 });
    assert.deepEqual(
      oldest.hits.map((h) => h.message.id),
      [sent[0]],
    );
    assert.notEqual(oldest.nextPageToken, "");
  } finally {
    ada.close();
  }
});

test("search: the room and sender fields narrow it as in: and from: do", async () => {
  const bea = await joinedClient("bea");
  const cal = await joinedClient("cal");
  try {
    // A sender is found by name among accounts and users online.
    await bea.register("bea", "correct horse battery");
    await bea.send("quince in the cellar", { room: "cellar" });
    await cal.send("quince in the attic", { room: "attic" });
    const inAttic = await bea.search({ query: "quince", room: "attic" });
    assert.deepEqual(
      inAttic.hits.map((h) => h.message.text),
      ["quince in the attic"],
    );
    const byBea = await cal.search({ query: "quince", sender: "bea" });
    assert.deepEqual(
      byBea.hits.map((h) => h.message.text),
      ["quince in the cellar"],
    );
    assert.equal(byBea.nextPageToken, "");
  } finally {
    bea.close();
    cal.close();
  }
});

test("search: a query the server cannot parse is refused with its sentence", async () => {
  const dan = await joinedClient("dan");
  try {
    const unclosed = await refusal(dan.search({ query: '"never closed' }));
    assert.equal(unclosed.code, status.INVALID_ARGUMENT);
    assert.match(unclosed.message, /" that is not closed/);
    const badDate = await refusal(dan.search({ query: "fig before:yesterday" }));
    assert.equal(badDate.code, status.INVALID_ARGUMENT);
    assert.match(badDate.message, /before: needs a date/);
  } finally {
    dan.close();
  }
});

test("history around a message: the page has it in its middle and says what lies on each side", async () => {
  const eve = await joinedClient("eve");
  try {
    const ids: number[] = [];
    for (let i = 1; i <= 20; i++) ids.push((await eve.send(`line ${i}`, { room: "around" })).id);
    const target = ids[9] ?? 0;
    const page = await eve.history({ room: "around", aroundId: target, limit: 6 });
    const got = page.messages.map((m) => m.id);
    assert.ok(got.includes(target), `${target} is not in ${got.join(",")}`);
    assert.deepEqual(got, ids.slice(ids.indexOf(got[0] ?? 0), ids.indexOf(got[0] ?? 0) + 6));
    assert.ok(got.indexOf(target) >= 2 && got.indexOf(target) <= 3, got.join(","));
    assert.equal(page.hasMore, true);

    const atEnd = await eve.history({ room: "around", aroundId: ids[19] ?? 0, limit: 6 });
    assert.equal(atEnd.messages.at(-1)?.id, ids[19]);
    assert.equal(atEnd.hasNewer, false);

    const missing = await refusal(eve.history({ room: "around", aroundId: 999_999, limit: 6 }));
    assert.equal(missing.code, status.NOT_FOUND);
  } finally {
    eve.close();
  }
});

test("history around a message says when newer messages follow the page", async () => {
  const fay = await joinedClient("fay");
  try {
    const ids: number[] = [];
    for (let i = 1; i <= 12; i++) ids.push((await fay.send(`row ${i}`, { room: "newer" })).id);
    const middle = await fay.history({ room: "newer", aroundId: ids[5] ?? 0, limit: 4 });
    assert.equal(middle.hasNewer, true);
    const newest = await fay.history({ room: "newer", limit: 3 });
    assert.equal(newest.hasNewer, false);
  } finally {
    fay.close();
  }
});
