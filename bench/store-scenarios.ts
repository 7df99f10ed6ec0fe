// The store's two figures: how fast the newest page comes back from a big
// room (history: the same page through our History and the seed's
// GetChatHistory), and how many acknowledged (committed) messages per second
// the default store takes from many senders at once (ingest).
import { build } from "hdr-histogram-js";
import { createChatClient } from "../src/client/chat-client.ts";
import { openSqliteStore } from "../src/store/sqlite-store.ts";
import type { NewMessage } from "../src/store/store.ts";
import { DEFAULT_ROOM } from "../src/wire/room-names.ts";

const BATCH = 2_000;

/** Writes `count` messages into `room` of the SQLite file at `path`, in big batches. */
export async function fillRoom(path: string, room: string, count: number): Promise<void> {
  const store = await openSqliteStore({ path, durability: "normal" });
  try {
    const text = `${"history ".repeat(12)}`;
    for (let done = 0; done < count; done += BATCH) {
      const batch: NewMessage[] = [];
      for (let i = done; i < Math.min(count, done + BATCH); i++) {
        batch.push({
          room,
          userId: `g-filler${i % 50}`,
          username: `filler${i % 50}`,
          text: `${text}${i}`,
          kind: "chat",
          clientMsgId: "",
        });
      }
      await store.append(batch);
    }
  } finally {
    await store.close();
  }
}

export interface HistoryResult {
  readonly calls: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** The same page read two ways: our History RPC, and the seed's GetChatHistory. */
export interface HistoryResults {
  readonly history: HistoryResult;
  readonly seed: HistoryResult;
}

/** The seed's GetChatHistory reads only this room, so the bench fills it for both reads. */
export const HISTORY_ROOM = DEFAULT_ROOM;

function timer() {
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  return {
    async time(read: () => Promise<number>, limit: number) {
      const started = performance.now();
      const got = await read();
      histogram.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
      if (got !== limit) throw new Error(`got ${got} of ${limit}`);
    },
    result(calls: number): HistoryResult {
      const ms = (p: number) => histogram.getValueAtPercentile(p) / 1000;
      return {
        calls,
        latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: histogram.maxValue / 1000 },
      };
    },
  };
}

/**
 * Times `calls` History calls and `calls` GetChatHistory calls (as the
 * seed's client asks: system lines included) for the newest `limit`
 * messages of HISTORY_ROOM, one call at a time, the two taking turns so
 * that both see the same server state.
 */
export async function runHistory(
  address: string,
  limit: number,
  calls = 200,
): Promise<HistoryResults> {
  const client = createChatClient({ address, username: "reader" });
  const ours = timer();
  const seed = timer();
  const readOurs = async () =>
    (await client.history({ room: HISTORY_ROOM, limit })).messages.length;
  const readSeed = async () => (await client.seedHistory(limit, true)).length;
  try {
    await client.join();
    // The first calls warm the caches and the JIT; they are not counted.
    for (let i = 0; i < 20; i++) {
      await readOurs();
      await readSeed();
    }
    for (let i = 0; i < calls; i++) {
      // Each goes first in turn, so neither always follows the other's garbage.
      if (i % 2 === 0) {
        await ours.time(readOurs, limit);
        await seed.time(readSeed, limit);
      } else {
        await seed.time(readSeed, limit);
        await ours.time(readOurs, limit);
      }
    }
  } finally {
    client.close();
  }
  return { history: ours.result(calls), seed: seed.result(calls) };
}

export interface IngestResult {
  readonly acknowledged: number;
  readonly perSecond: number;
}

export interface IngestOptions {
  /** Numbers the senders (several load processes share one server). */
  readonly first?: number;
  /** Messages per SendMessages call; 0 sends each alone through a Session. */
  readonly batch?: number;
  /** Awaited once every sender is connected, before sending starts. */
  readonly ready?: () => Promise<void>;
}

/**
 * `senders` senders, each keeping `window` sends (or batches) in flight for
 * `seconds`; counts the messages acknowledged (an ack, or a batch's answer,
 * means committed).
 */
export async function runIngest(
  address: string,
  senders: number,
  seconds: number,
  window: number,
  { first = 0, batch = 0, ready = async () => {} }: IngestOptions = {},
): Promise<IngestResult> {
  const clients = Array.from({ length: senders }, (_, i) =>
    createChatClient({
      address,
      username: `ingest${first + i}`,
      channelOptions: { "grpc.use_local_subchannel_pool": 1 },
    }),
  );
  let acknowledged = 0;
  const sessions = await Promise.all(
    clients.map(async (client, i) => {
      await client.join();
      if (batch > 0) return undefined;
      const session = client.openSession();
      // Each session sits in a room of its own and sends to the default room,
      // where no one is: what is measured is the send path and the store, not
      // the fan-out (measured apart). One busy room is also a cluster's
      // hardest case: its appends take turns on the room's row.
      await session.join(`ingest${first + i}`);
      void (async () => {
        for await (const _ of session) {
          // acks are counted where the send resolves
        }
      })();
      return session;
    }),
  );
  await ready();
  const started = performance.now();
  const until = started + seconds * 1000;
  const texts = Array.from({ length: batch }, (_, n) => `ingest batch ${n}`);
  await Promise.all(
    sessions.map(async (session, i) => {
      const inFlight = new Set<Promise<unknown>>();
      const client = clients[i] as (typeof clients)[number];
      for (let n = 0; performance.now() < until; n++) {
        const p = session
          ? session.send(`ingest ${n}`).then(() => {
              acknowledged += 1;
            })
          : client.sendBatch(texts).then(({ count }) => {
              acknowledged += count;
            });
        const tracked = p.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
        if (inFlight.size >= window) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const session of sessions) session?.close();
  for (const client of clients) client.close();
  return { acknowledged, perSecond: acknowledged / elapsed };
}
