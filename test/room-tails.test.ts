import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { RoomTails, type TailTicket } from "../src/core/room-tails.ts";
import type { StoredMessage } from "../src/core/types.ts";

const ROOMS = ["a", "b", "c"] as const;

/** Message `id` of `room`, as the store would have stored it. */
const stored = (room: string, id: number, kind: "chat" | "system" = "chat"): StoredMessage => ({
  room,
  id,
  timeMs: id,
  userId: "u",
  username: "user",
  text: `m${id}`,
  kind,
  clientMsgId: "",
});
// About 20 short messages: rooms are dropped for room now and then.
const BYTES = 20 * 110;

type Op =
  | { op: "append"; room: number; system: boolean }
  | { op: "seedStart"; room: number; limit: number }
  | { op: "seedEnd" }
  | { op: "prune"; keep: number }
  | { op: "history"; room: number; limit: number; before: number; system: boolean }
  | { op: "after"; room: number; back: number; limit: number; system: boolean };

const room = fc.integer({ min: 0, max: ROOMS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant("append"), room, system: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("seedStart"),
      room,
      limit: fc.integer({ min: 1, max: 30 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("seedEnd") }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("prune"), keep: fc.nat(20) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("history"),
      room,
      limit: fc.integer({ min: 1, max: 25 }),
      before: fc.nat(40),
      system: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("after"),
      room,
      back: fc.nat(40),
      limit: fc.integer({ min: 1, max: 25 }),
      system: fc.boolean(),
    }),
  },
) as fc.Arbitrary<Op>;

test("whatever the tails answer is what the store answers; they stay within their bounds", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const tails = new RoomTails({ perRoom: 16, maxBytes: BYTES });
      // The store: every room's messages, oldest first, and its newest id ever.
      const store = new Map<string, StoredMessage[]>(ROOMS.map((r) => [r, []]));
      const lastId = new Map<string, number>(ROOMS.map((r) => [r, 0]));
      const pending: Array<{ ticket: TailTicket; newest: StoredMessage[]; limit: number }> = [];
      const storeHistory = (r: string, limit: number, before: number, system: boolean) =>
        (store.get(r) ?? [])
          .filter((m) => (before === 0 || m.id < before) && (system || m.kind !== "system"))
          .slice(-limit)
          .reverse();
      for (const step of ops) {
        if (step.op === "append") {
          const r = ROOMS[step.room] as string;
          const id = (lastId.get(r) ?? 0) + 1;
          lastId.set(r, id);
          const message = stored(r, id, step.system ? "system" : "chat");
          store.get(r)?.push(message);
          tails.record(message);
        } else if (step.op === "seedStart") {
          // The store is read now; the tail is seeded later, after other steps.
          const r = ROOMS[step.room] as string;
          const ticket = tails.ticket(r);
          pending.push({ ticket, newest: storeHistory(r, step.limit, 0, true), limit: step.limit });
        } else if (step.op === "seedEnd") {
          const seed = pending.shift();
          if (seed) tails.seed(seed.ticket, seed.newest, seed.limit);
        } else if (step.op === "prune") {
          for (const r of ROOMS) store.set(r, (store.get(r) ?? []).slice(-step.keep || undefined));
          tails.clear();
        } else if (step.op === "history") {
          const r = ROOMS[step.room] as string;
          const options = {
            limit: step.limit,
            includeSystem: step.system,
            ...(step.before ? { beforeId: step.before } : {}),
          };
          const answer = tails.history(r, options);
          if (answer)
            assert.deepEqual(answer, storeHistory(r, step.limit, step.before, step.system));
        } else {
          const r = ROOMS[step.room] as string;
          const afterId = Math.max(0, (lastId.get(r) ?? 0) - step.back);
          const answer = tails.after(r, afterId, step.limit, step.system);
          if (answer) {
            const all = store.get(r) ?? [];
            const expected = all
              .filter((m) => m.id > afterId && (step.system || m.kind !== "system"))
              .slice(0, step.limit);
            assert.deepEqual(answer.messages, expected);
            // Nothing the reader has not seen was pruned, so there is no gap to report.
            const oldest = all[0]?.id ?? (lastId.get(r) ?? 0) + 1;
            assert.ok(oldest <= afterId + 1, "a pruned gap was answered from memory");
          }
        }
        assert.ok(tails.bytes <= BYTES, `tails hold ${tails.bytes} bytes`);
      }
    }),
    { numRuns: 3_000 },
  );
});

test("a busy room's newest page and a resume near its head come from memory", () => {
  const tails = new RoomTails({ perRoom: 100 });
  for (let id = 1; id <= 150; id++) tails.record(stored("lobby", id));
  const newest = tails.history("lobby", { limit: 50, includeSystem: false });
  assert.deepEqual(
    newest?.map((m) => m.id),
    Array.from({ length: 50 }, (_, i) => 150 - i),
  );
  assert.deepEqual(
    tails.after("lobby", 140, 5)?.messages.map((m) => m.id),
    [141, 142, 143, 144, 145],
  );
  // Older than the 100 kept: only the store knows.
  assert.equal(tails.after("lobby", 20, 5), undefined);
  assert.equal(
    tails.history("lobby", { limit: 50, beforeId: 60, includeSystem: false }),
    undefined,
  );
});

test("a store read that began before a room's tail was dropped does not seed it", () => {
  const tails = new RoomTails();
  const message = (id: number) => stored("lobby", id);
  // The store holds 1-3 and no tail exists when the read starts.
  const ticket = tails.ticket("lobby");
  const read = [message(3), message(2), message(1)];
  // While it runs, 4 is stored and heard, then everything is dropped.
  tails.record(message(4));
  tails.clear();
  tails.seed(ticket, read, 10);
  assert.equal(tails.history("lobby", { limit: 1, includeSystem: false }), undefined);
});

test("a tail applies changes as the store does: edits read the text now, a delete erases, reactions send reads to the store", () => {
  const tails = new RoomTails({ perRoom: 100, maxBytes: 1 << 20 });
  const change = (id: number, kind: StoredMessage["kind"], refId: number, text = "") => ({
    ...stored("a", id),
    kind,
    refId,
    text,
  });
  tails.record(stored("a", 1));
  tails.record(stored("a", 2));
  tails.record(change(3, "edit", 1, "first edit"));
  tails.record(change(4, "edit", 1, "second edit"));
  const after = tails.after("a", 0, 10)?.messages.map((m) => [m.id, m.kind, m.text]);
  assert.deepEqual(after, [
    [1, "chat", "second edit"],
    [2, "chat", "m2"],
    [3, "edit", "second edit"],
    [4, "edit", "second edit"],
  ]);
  // A tail that never saw the room's start answers only pages it holds whole.
  const page = tails.history("a", { limit: 2, includeSystem: false });
  assert.deepEqual(
    page?.map((m) => [m.id, m.text, m.editedMs]),
    [
      [2, "m2", undefined],
      [1, "second edit", 4],
    ],
    "change entries are not in a page; the message is as edited",
  );
  tails.record(change(5, "delete", 1));
  assert.deepEqual(
    tails.after("a", 2, 10)?.messages.map((m) => m.text),
    ["", "", ""],
    "after a delete no entry holds the old text",
  );
  assert.equal(tails.history("a", { limit: 2, includeSystem: false })?.[1]?.deleted, true);
  tails.record({ ...change(6, "react", 2, "👍"), count: 1 });
  assert.equal(
    tails.history("a", { limit: 2, includeSystem: false }),
    undefined,
    "who reacted is the store's to say",
  );
  assert.equal(tails.after("a", 1, 1)?.messages[0]?.reactions, undefined);
});
