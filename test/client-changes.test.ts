// The SDK's side of messages people can change: the change RPCs, replies,
// read markers and typing, and change entries through a cut connection.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import {
  applyChange,
  type ChatClient,
  ChatClientError,
  type ChatLine,
  type SessionEvent,
} from "../src/client/chat-client.ts";
import { LiveChat, type LiveEvent } from "../src/client/live-chat.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { FAST_RETRY } from "./delivery-helpers.ts";
import { liveUser, nextMatching, startTestServer, testClient, within } from "./helpers.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

let server: RunningChatServer;
before(async () => {
  server = await startTestServer({ presenceTickMs: 20 });
});
after(() => server.stop());

/** A joined client; `userId` makes it another connection of the same guest. */
async function joinedClient(username: string, userId?: string): Promise<ChatClient> {
  const client = testClient(server, { username, ...(userId ? { userId } : {}) });
  await client.join();
  return client;
}

/** Reads a LiveChat's events into a list; `until` waits for one that matches. */
function reader(live: LiveChat) {
  const seen: LiveEvent[] = [];
  const waiters = new Set<() => void>();
  void (async () => {
    for await (const event of live) {
      seen.push(event);
      for (const wake of waiters) wake();
    }
  })();
  return {
    seen,
    until(ok: (seen: readonly LiveEvent[]) => boolean, what: string, ms = 5_000) {
      return within(
        new Promise<void>((resolve) => {
          const check = () => {
            if (!ok(seen)) return;
            waiters.delete(check);
            resolve();
          };
          waiters.add(check);
          check();
        }),
        ms,
        what,
      );
    },
  };
}

const messagesIn = (seen: readonly LiveEvent[]): ChatLine[] =>
  seen.flatMap((e) => (e.type === "message" ? [e.message] : []));

test("edits, reactions and deletes made while a reader is cut off arrive once each, in order", async () => {
  const room = "changes-cut";
  const alice = await joinedClient("alice");
  const bob = await joinedClient("bob");
  const proxy = await startTcpProxy(server.address);
  const readerClient = testClient(proxy, { username: "rita" });
  await readerClient.join();
  const live = new LiveChat(readerClient, { rooms: [{ room }], backoff: FAST_RETRY });
  const got = reader(live);
  try {
    await got.until((s) => s.some((e) => e.type === "state" && e.state.kind === "live"), "live");
    const first = await alice.send("helo", { room });
    const second = await alice.send("to be deleted", { room });
    const reply = await bob.send("a reply", { room, replyTo: first.id });
    await got.until((s) => messagesIn(s).some((m) => m.id === reply.id), "the reply");
    assert.equal(messagesIn(got.seen).find((m) => m.id === reply.id)?.replyTo, first.id);

    assert.ok(proxy.cut() > 0, "the reader had a connection to cut");
    const changes = [
      await alice.edit(room, first.id, "hello"),
      await bob.react(room, first.id, "👍"),
      await bob.react(room, first.id, ":tada:"),
      await alice.react(room, first.id, "👍"),
      await bob.react(room, first.id, "👍", true),
      await alice.delete(room, second.id),
    ].map((ack) => ack.id);
    assert.ok(
      changes.every((id, i) => id > (changes[i - 1] ?? reply.id)),
      "new ids, in order",
    );
    const after = await alice.send("after the changes", { room });
    await got.until((s) => messagesIn(s).some((m) => m.id === after.id), "the reader to resume");

    // Joins and leaves are entries too (the cut makes the reader leave and come back).
    const ids = messagesIn(got.seen)
      .filter((m) => !m.system)
      .map((m) => m.id);
    assert.deepEqual(ids, [first.id, second.id, reply.id, ...changes, after.id]);
    assert.ok(live.stats.reconnects >= 1);
    assert.equal(live.stats.duplicatesDropped, 0);

    // Applied in order, the entries give what a History page says now.
    const readerId = (await readerClient.whoAmI()).userId;
    const shown = new Map<number, ChatLine>();
    for (const line of messagesIn(got.seen)) {
      const target = line.change && shown.get(line.change.targetId);
      if (target) shown.set(target.id, applyChange(target, line, readerId));
      else if (!line.change) shown.set(line.id, line);
    }
    const page = await readerClient.history({ room, limit: 10 });
    const current = new Map(page.messages.map((m) => [m.id, m]));
    const edited = shown.get(first.id);
    assert.equal(edited?.text, "hello");
    assert.equal(edited?.editedAtMs, current.get(first.id)?.editedAtMs);
    // The same counts; the order may differ (the first 👍 was taken back while another stayed).
    const byEmoji = (list: ChatLine["reactions"]) =>
      [...(list ?? [])].sort((x, y) => x.emoji.localeCompare(y.emoji));
    assert.deepEqual(byEmoji(edited?.reactions), byEmoji(current.get(first.id)?.reactions));
    assert.deepEqual(byEmoji(edited?.reactions), [
      { emoji: ":tada:", count: 1, mine: false },
      { emoji: "👍", count: 1, mine: false },
    ]);
    assert.equal(shown.get(second.id)?.deleted, true);
    assert.equal(shown.get(second.id)?.text, "");
    // A page keeps no tombstone's text.
    assert.equal(current.get(second.id)?.text, "");
  } finally {
    await live.close();
    await proxy.close();
    for (const c of [alice, bob, readerClient]) c.close();
  }
});

test("a change the server refuses says why; a reaction already there changes nothing", async () => {
  const room = "changes-refused";
  const alice = await joinedClient("alice2");
  const bob = await joinedClient("bob2");
  try {
    const mine = await alice.send("mine", { room });
    await assert.rejects(bob.edit(room, mine.id, "not yours"), (error: ChatClientError) => {
      assert.equal(error.code, status.PERMISSION_DENIED);
      assert.ok(error.message.length > 10, error.message);
      return true;
    });
    await assert.rejects(alice.edit(room, mine.id + 100, "gone"), ChatClientError);
    assert.ok((await bob.react(room, mine.id, "👍")).id > 0);
    assert.equal((await bob.react(room, mine.id, "👍")).id, 0);
    await assert.rejects(bob.react(room, mine.id, "not an emoji"), (error: ChatClientError) => {
      assert.equal(error.code, status.INVALID_ARGUMENT);
      return true;
    });
  } finally {
    alice.close();
    bob.close();
  }
});

test("read markers reach every session of the user and come back in Joined and ListRooms", async () => {
  const room = "changes-read";
  const carol = await liveUser(server, "carol", { room });
  const dave = await joinedClient("dave");
  try {
    const sameCarol = testClient(server, { username: "carol", userId: carol.client.userId });
    await sameCarol.join();
    const a = await dave.send("one", { room });
    const b = await dave.send("two @carol", { room });
    const listed = (await sameCarol.listRooms()).rooms.find((r) => r.room === room);
    assert.equal(listed?.lastReadId, 0);
    assert.equal(await sameCarol.markRead(room, a.id), a.id);
    const event = await nextMatching(
      carol.events,
      (e: SessionEvent) => e.type === "read" && e.room === room,
      "the read marker on carol's other session",
    );
    assert.deepEqual(event, { type: "read", room, lastReadId: a.id });
    // Only forward.
    assert.equal(await sameCarol.markRead(room, a.id - 1), a.id);
    const rooms = (await sameCarol.listRooms()).rooms.find((r) => r.room === room);
    assert.deepEqual([rooms?.lastReadId, rooms?.unread, rooms?.mentions], [a.id, 1, 1]);
    const session = sameCarol.openSession();
    assert.equal((await session.join(room)).lastReadId, a.id);
    assert.ok(b.id > a.id);
    session.close();
    sameCarol.close();
  } finally {
    carol.session.close();
    carol.client.close();
    dave.close();
  }
});

test("typing reaches the others in the room, and stopping clears it", async () => {
  const room = "changes-typing";
  const erin = await liveUser(server, "erin", { room });
  const frank = await joinedClient("frank");
  try {
    const frankSession = frank.openSession();
    await frankSession.join(room);
    await frank.setTyping(room);
    const typing = await nextMatching(
      erin.events,
      (e: SessionEvent) => e.type === "typing" && e.typing.length > 0,
      "frank typing at erin",
    );
    assert.deepEqual(typing.type === "typing" && typing.typing.map((m) => m.username), ["frank"]);
    await frank.setTyping(room, true);
    await nextMatching(
      erin.events,
      (e: SessionEvent) => e.type === "typing" && e.room === room && e.typing.length === 0,
      "frank stopped typing at erin",
    );
    frankSession.close();
  } finally {
    erin.session.close();
    erin.client.close();
    frank.close();
  }
});

test("the server's limits include the edit window, typing expiry and reaction limit", async () => {
  const client = testClient(server);
  try {
    const limits = await client.serverInfo();
    assert.equal(limits.editWindowMs, 0);
    assert.ok(limits.typingExpiryMs > 0);
    assert.ok(limits.maxReactions > 0);
  } finally {
    client.close();
  }
});
