import assert from "node:assert/strict";
import { test } from "node:test";
import { openPgStore } from "../src/store/pg-store.ts";
import { PG_URL, scratchSchemas } from "./engine-urls.ts";
import { storeContract } from "./store-contract.ts";
import { governanceContract } from "./store-governance-contract.ts";

// Each test gets a schema of its own, dropped at the end.
const schema = scratchSchemas("test");

storeContract("PgStore", (now) => openPgStore({ url: PG_URL, schema: schema(), now }));

governanceContract("PgStore", (now) => openPgStore({ url: PG_URL, schema: schema(), now }));

// Two nodes on one database: a client that retries a send on another node
// while the first node's commit is still in flight.
test("the same send through two nodes at once is stored once, and both answer with it", async () => {
  const name = schema();
  const [first, second] = await Promise.all([
    openPgStore({ url: PG_URL, schema: name }),
    openPgStore({ url: PG_URL, schema: name }),
  ]);
  try {
    let stored = 0;
    for (let round = 0; round < 20; round++) {
      // Odd rounds send a batch of two: one transaction, retried as a whole.
      const batch = Array.from({ length: 1 + (round % 2) }, (_, i) => ({
        room: "lobby",
        userId: "u1",
        username: "una",
        text: `retried ${round}.${i}`,
        kind: "chat" as const,
        clientMsgId: `key-${round}-${i}`,
      }));
      const [a, b] = await Promise.all([first.append(batch), second.append(batch)]);
      assert.deepEqual(
        a?.map((r) => r.message.id),
        b?.map((r) => r.message.id),
        `round ${round}: the same ids`,
      );
      const duplicates = [a?.[0]?.duplicate, b?.[0]?.duplicate].sort();
      assert.deepEqual(duplicates, [false, true], `round ${round}: stored once`);
      stored += batch.length;
    }
    const page = await first.after("lobby", 0, 100);
    assert.deepEqual(
      page.messages.map((m) => m.id),
      Array.from({ length: stored }, (_, i) => i + 1),
      "no gap, no repeat",
    );
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});

test("two nodes appending to the same rooms in opposite orders never deadlock", async () => {
  const name = schema();
  // One lane each, so that a group holds both rooms.
  const [first, second] = await Promise.all([
    openPgStore({ url: PG_URL, schema: name, appendLanes: 1 }),
    openPgStore({ url: PG_URL, schema: name, appendLanes: 1 }),
  ]);
  const message = (room: string, text: string) => ({
    room,
    userId: "u1",
    username: "una",
    text,
    kind: "chat" as const,
    clientMsgId: "",
  });
  try {
    for (let round = 0; round < 30; round++) {
      const sends = [];
      for (let i = 0; i < 4; i++) {
        sends.push(first.append([message(i % 2 ? "b" : "a", `first ${round}.${i}`)]));
        sends.push(second.append([message(i % 2 ? "a" : "b", `second ${round}.${i}`)]));
      }
      await Promise.all(sends);
    }
    for (const room of ["a", "b"]) {
      const page = await first.after(room, 0, 1000);
      assert.deepEqual(
        page.messages.map((m) => m.id),
        Array.from({ length: 120 }, (_, i) => i + 1),
        `room ${room}: every send, no gap`,
      );
    }
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});
