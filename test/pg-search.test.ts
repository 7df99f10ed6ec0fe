// PostgreSQL's search beyond the contract: the time windows a search walks
// (exact cover, the same hits as one sorted scan), the index build of a
// database from before search, interrupted and carried on, and the text
// search configuration.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import pg from "pg";
import { fold, wordsOf } from "../src/core/search-query.ts";
import type { SearchIndexProgress } from "../src/store/pg-search-indexes.ts";
import {
  bucketCover,
  SEARCH_LEVELS,
  type SearchWindow,
  searchWindows,
} from "../src/store/pg-search-terms.ts";
import { openPgStore } from "../src/store/pg-store.ts";
import { punctuatedPieces } from "../src/store/search-store.ts";
import type { SearchQuery, StoredMessage } from "../src/store/store.ts";
import { StoreUnavailableError } from "../src/store/store.ts";
import { PG_URL, scratchSchemas } from "./engine-urls.ts";
import { UNDO_VERSION_5, UNDO_VERSION_6, UNDO_VERSION_7 } from "./pg-versions.ts";
import { manualClock } from "./store-contract.ts";

const schema = scratchSchemas("search");
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const FINEST = 2 ** SEARCH_LEVELS[0].shift;

/** The times [from, to) a bucket lexeme ("~c25801") stands for. */
function bucketRange(lexeme: string): [number, number] {
  const level = SEARCH_LEVELS.find((l) => l.name === lexeme.charAt(1));
  assert.ok(level, lexeme);
  const size = 2 ** level.shift;
  const index = Number(lexeme.slice(2));
  return [index * size, (index + 1) * size];
}

/** The buckets' ranges, checked to follow each other with no gap and no overlap. */
function coveredRange(cover: readonly string[]): [number, number] {
  const ranges = cover.map(bucketRange);
  for (let i = 1; i < ranges.length; i++) {
    assert.equal(ranges[i]?.[0], ranges[i - 1]?.[1], `bucket ${i} starts where ${i - 1} ends`);
  }
  return [ranges[0]?.[0] ?? 0, ranges.at(-1)?.[1] ?? 0];
}

test("a window's buckets hold exactly its times, widened to whole finest buckets, in a few dozen lexemes", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < 2_000; i++) {
    const lo = Math.floor(T0 + (random() - 0.5) * 400 * DAY);
    const hi = lo + 1 + Math.floor(random() ** 3 * 3_000 * DAY);
    const cover = bucketCover(lo, hi);
    assert.deepEqual(coveredRange(cover), [
      Math.floor(lo / FINEST) * FINEST,
      Math.ceil(hi / FINEST) * FINEST,
    ]);
    assert.ok(cover.length <= 2 * 15 * SEARCH_LEVELS.length, `${cover.length} lexemes`);
  }
  assert.deepEqual(bucketCover(T0, T0), []);
});

test("the windows of a search cover all time once, in the search's order, each in its buckets", () => {
  const plans = [
    { oldestFirst: false },
    { oldestFirst: true },
    { oldestFirst: false, afterMs: T0 - 30 * DAY, beforeMs: T0 - 2 * DAY },
    { oldestFirst: true, afterMs: T0 - 30 * DAY, beforeMs: T0 - 2 * DAY },
    { oldestFirst: false, after: { timeMs: T0 - 5 * DAY, room: "r", id: 9 } },
    { oldestFirst: true, after: { timeMs: T0 - 50 * DAY, room: "r", id: 9 } },
  ];
  // A quiet server's windows start from its newest message, a narrow reader's are longer.
  const counts = [1e-6, 1e-3, 1].flatMap((rowsPerMs) => [
    { rowsPerMs },
    { rowsPerMs, newestMs: T0 - 60 * DAY, readableShare: 0.05 },
  ]);
  for (const count of counts) {
    for (const plan of plans) {
      const windows = searchWindows({ ...plan, ...count, nowMs: T0, oldestMs: T0 - 400 * DAY });
      const label = JSON.stringify({ ...plan, ...count });
      const down = !plan.oldestFirst;
      // Newest first, each window ends where the one before began; oldest first, the other way.
      const near = (w: SearchWindow) => (down ? w.hi : w.lo);
      const far = (w: SearchWindow) => (down ? w.lo : w.hi);
      assert.equal(far(windows.at(-1) ?? {}), undefined, `${label}: the last is open-ended`);
      for (let i = 1; i < windows.length; i++) {
        assert.equal(near(windows[i] ?? {}), far(windows[i - 1] ?? {}), `${label}: window ${i}`);
      }
      const bound = down
        ? Math.min(plan.beforeMs ?? Infinity, plan.after ? plan.after.timeMs + 1 : Infinity)
        : Math.max(plan.afterMs ?? -Infinity, plan.after?.timeMs ?? -Infinity);
      assert.equal(near(windows[0] ?? {}), Number.isFinite(bound) ? bound : undefined, label);
      for (const window of windows) {
        // No buckets at all: a window past before: or after:, which holds nothing.
        if (!window.buckets || window.buckets.length === 0) continue;
        const [from, to] = coveredRange(window.buckets);
        // An open end is closed by after: or before:, or by time 0 and the future.
        assert.ok(from <= (window.lo ?? plan.afterMs ?? 0), `${label}: buckets from ${from}`);
        assert.ok(
          to >= (window.hi ?? plan.beforeMs ?? T0 + 365 * DAY),
          `${label}: buckets to ${to}`,
        );
      }
    }
  }
});

/** Newest first as the store orders hits: time, then room and id, in byte order. */
const newestFirst = (a: StoredMessage, b: StoredMessage) =>
  b.timeMs - a.timeMs || (a.room < b.room ? 1 : a.room > b.room ? -1 : 0) || b.id - a.id;

test("paging through windows of time gives every hit once, in order, as one sorted scan would", async () => {
  const name = schema();
  const clock = manualClock(T0);
  const store = await openPgStore({ url: PG_URL, schema: name, now: clock.now });
  const stored: StoredMessage[] = [];
  try {
    // 10,000 messages over 100 days, a hundred at a time, so a first window
    // holds a thousand or so and a search crosses several; a hundred share
    // each millisecond, so ties are ordered by room and id.
    for (let day = 0; day < 100; day++) {
      clock.advance(DAY);
      const batch = Array.from({ length: 100 }, (_, k) => {
        const i = day * 100 + k;
        const text = `tick n${i}${i % 7 === 0 ? " seven" : ""}${i % 997 === 0 ? " rare.txt" : ""}`;
        return {
          room: `r${i % 4}`,
          userId: "a-writer",
          username: "w",
          text,
          kind: "chat" as const,
          clientMsgId: "",
        };
      });
      stored.push(...(await store.append(batch)).map((r) => r.message));
    }
    const reader = { reader: "a-reader", admin: false, exclude: [] };
    const pages = async (query: Omit<SearchQuery, "nowMs" | "limit" | "after">) => {
      const seen: string[] = [];
      let after: SearchQuery["after"];
      for (;;) {
        const hits = await store.search({
          ...query,
          nowMs: clock.now(),
          limit: 97,
          ...(after ? { after } : {}),
        });
        seen.push(...hits.map((m) => m.text));
        const last = hits.at(-1);
        if (!last) return seen;
        after = { timeMs: last.timeMs, room: last.room, id: last.id };
      }
    };
    const expect = (keep: (m: StoredMessage) => boolean, oldestFirst = false) => {
      const list = stored.filter(keep).sort(newestFirst);
      return (oldestFirst ? list.reverse() : list).map((m) => m.text);
    };
    const word = (w: string) => [{ kind: "words" as const, words: [w], prefix: false }];
    for (const oldestFirst of [false, true]) {
      assert.deepEqual(
        await pages({ ...reader, include: word("tick"), oldestFirst }),
        expect(() => true, oldestFirst),
      );
      assert.deepEqual(
        await pages({ ...reader, include: word("seven"), oldestFirst }),
        expect((m) => m.text.includes("seven"), oldestFirst),
      );
      assert.deepEqual(
        await pages({ ...reader, include: [{ kind: "substring", text: "rare.txt" }], oldestFirst }),
        expect((m) => m.text.includes("rare.txt"), oldestFirst),
      );
      const [afterMs, beforeMs] = [T0 + 20 * DAY, T0 + 61 * DAY];
      assert.deepEqual(
        await pages({ ...reader, include: word("seven"), oldestFirst, afterMs, beforeMs }),
        expect(
          (m) => m.text.includes("seven") && m.timeMs >= afterMs && m.timeMs < beforeMs,
          oldestFirst,
        ),
      );
    }

    // Another node whose clock runs an hour ahead: its message is the newest hit.
    const ahead = await openPgStore({
      url: PG_URL,
      schema: name,
      now: () => clock.now() + 3_600_000,
    });
    try {
      await ahead.append([
        {
          room: "r9",
          userId: "a-w",
          username: "w",
          text: "tick ahead",
          kind: "chat",
          clientMsgId: "",
        },
      ]);
    } finally {
      await ahead.close();
    }
    const [newest] = await store.search({
      ...reader,
      include: word("tick"),
      nowMs: clock.now(),
      limit: 1,
    });
    assert.equal(newest?.text, "tick ahead");
  } finally {
    await store.close();
  }
});

const INDEX_OIDS = `SELECT c.relname, c.oid::bigint AS oid, i.indisvalid FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname LIKE 'messages_search%' ORDER BY c.relname`;

test("a version 4 schema gets its search indexes built with progress; stopped in the second, the next start keeps the first and finishes", async () => {
  const name = schema();
  await (await openPgStore({ url: PG_URL, schema: name, now: () => T0 })).close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(UNDO_VERSION_7(name));
    await client.query(UNDO_VERSION_6(name));
    await client.query(UNDO_VERSION_5(name));
    // Enough rows for a concurrent build that takes a while.
    await client.query(
      `INSERT INTO ${name}.messages (room, id, time_ms, user_id, username, text, kind)
       SELECT 'r' || (g % 10), g, ${T0} + g * 1000, 'a-u', 'u',
              'word' || (g % 100) || ' and some filler about the weather, item unique' || g, 'chat'
       FROM generate_series(1, 60000) AS g;
       INSERT INTO ${name}.rooms (room, last_id)
       SELECT room, max(id) FROM ${name}.messages GROUP BY room`,
    );
    const interrupted: SearchIndexProgress[] = [];
    let stopped = false;
    const first = openPgStore({
      url: PG_URL,
      schema: name,
      now: () => T0,
      searchIndexProgressEveryMs: 20,
      onSearchIndexProgress: (progress) => {
        interrupted.push(progress);
        if (!stopped && progress.step === 2 && progress.phase.startsWith("building index")) {
          stopped = true;
          void client.query("SELECT pg_terminate_backend($1)", [progress.pid]);
        }
      },
    });
    await assert.rejects(first, StoreUnavailableError);
    assert.ok(stopped, "the second index was seen being built, and stopped");
    const phases = interrupted.map((p) => `${p.step}/${p.steps} ${p.phase}`);
    assert.ok(phases.includes("1/2 done"), phases.join(", "));
    assert.ok(interrupted.some((p) => p.step === 2 && p.total > 0 && p.done <= p.total));
    const left = (await client.query(INDEX_OIDS, [name])).rows;
    assert.deepEqual(
      left.map((r) => [r.relname, r.indisvalid]),
      [
        ["messages_search_pieces", false],
        ["messages_search_words_simple", true],
      ],
    );

    const resumed: SearchIndexProgress[] = [];
    const store = await openPgStore({
      url: PG_URL,
      schema: name,
      now: () => T0 + 100_000_000,
      onSearchIndexProgress: (progress) => resumed.push(progress),
    });
    try {
      const steps = resumed.map((p) => `${p.step} ${p.phase}`);
      assert.ok(
        resumed.every((p) => p.step === 2) &&
          steps[0] === "2 building" &&
          steps.at(-1) === "2 done",
        `only the interrupted index is built again: ${steps.join(", ")}`,
      );
      const now = (await client.query(INDEX_OIDS, [name])).rows;
      assert.deepEqual(
        now.map((r) => [r.relname, r.indisvalid]),
        [
          ["messages_search_pieces", true],
          ["messages_search_words_simple", true],
        ],
      );
      assert.equal(now[1]?.oid, left[1]?.oid, "the word index built before is kept");
      const query = { reader: "a-r", admin: false, nowMs: T0, exclude: [], limit: 1000 };
      const hits = await store.search({
        ...query,
        include: [{ kind: "words", words: ["word7"], prefix: false }],
      });
      assert.equal(hits.length, 600);
      assert.equal(hits[0]?.id, 59_907);
      const found = await store.search({
        ...query,
        include: [{ kind: "substring", text: "unique4242" }],
      });
      assert.deepEqual(
        found.map((m) => m.id).sort((a, b) => a - b),
        [4242, ...Array.from({ length: 10 }, (_, i) => 42420 + i)],
      );
    } finally {
      await store.close();
    }
  } finally {
    await client.end();
  }
});

test("searchLanguage: another configuration gets a word index of its own, the old one goes; an unknown one is refused", async () => {
  const name = schema();
  const chat = (text: string) => ({
    room: "lobby",
    userId: "a-w",
    username: "w",
    text,
    kind: "chat" as const,
    clientMsgId: "",
  });
  const plain = await openPgStore({ url: PG_URL, schema: name, now: () => T0 });
  await plain.append([chat("the deployments finished"), chat("we deploy on friday")]);
  const query = {
    reader: "a-r",
    admin: false,
    nowMs: T0,
    include: [{ kind: "words" as const, words: ["deploy"], prefix: false }],
    exclude: [],
    limit: 10,
  };
  assert.deepEqual(
    (await plain.search(query)).map((m) => m.text),
    ["we deploy on friday"],
  );
  await plain.close();

  const english = await openPgStore({
    url: PG_URL,
    schema: name,
    now: () => T0,
    searchLanguage: "english",
  });
  try {
    assert.deepEqual((await english.search(query)).map((m) => m.text).sort(), [
      "the deployments finished",
      "we deploy on friday",
    ]);
  } finally {
    await english.close();
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const indexes = (await client.query(INDEX_OIDS, [name])).rows.map((r) => r.relname);
    assert.deepEqual(indexes, ["messages_search_pieces", "messages_search_words_english"]);
  } finally {
    await client.end();
  }
  await assert.rejects(
    openPgStore({ url: PG_URL, schema: name, searchLanguage: "klingon" }),
    /"klingon" is not a text search configuration.*simple, /,
  );
});

test("PostgreSQL folds, splits into words and finds the pieces with punctuation exactly as the core and SQLite do", async () => {
  const name = schema();
  await (await openPgStore({ url: PG_URL, schema: name, now: () => T0 })).close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  // ASCII alone takes the fast path; the rest NFKD and the marks' removal.
  const chars = [
    ..."aZ09 .,-_/:()\t\n",
    "é",
    "Å",
    "ß",
    "İ",
    "ﬁ",
    "½",
    "Ｆ",
    "й",
    "😀",
    "\u0301",
    "\u00a0",
    "٣",
  ];
  const text = fc.array(fc.constantFrom(...chars), { maxLength: 24 }).map((list) => list.join(""));
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 20 }), async (texts) => {
        const { rows } = await client.query(
          `SELECT t, ${name}.search_fold(t) AS folded, ${name}.search_words(t) AS words,
                  ${name}.search_pieces(t) AS pieces
           FROM unnest($1::text[]) AS t`,
          [texts],
        );
        for (const row of rows) {
          const folded = fold(row.t);
          assert.equal(row.folded, folded, JSON.stringify(row.t));
          assert.deepEqual(
            String(row.words)
              .split(" ")
              .filter((w) => w !== ""),
            wordsOf(folded),
            JSON.stringify(row.t),
          );
          assert.equal(row.pieces, punctuatedPieces(folded).join(" "), JSON.stringify(row.t));
        }
      }),
      { numRuns: 60 },
    );
  } finally {
    await client.end();
  }
});
