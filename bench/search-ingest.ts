// What keeping the search index costs appends: acknowledged appends per
// second into a new database as the store makes it, against the same build
// with the index's upkeep removed (its triggers or indexes dropped after the
// store created them, before any message). Same code, same texts, same
// appends in flight; runs alternate between the two, a new database each.
import type { NewMessage, Store } from "../src/store/store.ts";
import type { Corpus } from "./search-corpus.ts";
import { cpuMeter, type PhaseCpu } from "./search-cpu.ts";
import type { Engine } from "./search-engines.ts";

export interface IngestParams {
  readonly seconds: number;
  /** Appends in flight at once, one message each, as sessions send them. */
  readonly window: number;
  readonly runs: number;
  readonly durability: "full" | "normal";
}

export interface IngestRun {
  readonly withIndex: boolean;
  readonly run: number;
  readonly acknowledged: number;
  readonly perSecond: number;
  /** What was removed for the run without the index. */
  readonly dropped: readonly string[];
  readonly cpu: PhaseCpu;
}

/** Texts come from the corpus, so the index has real words and lengths to take. */
const POOL = 50_000;

async function appendFor(
  store: Store,
  pool: readonly NewMessage[],
  seconds: number,
  window: number,
): Promise<{ acknowledged: number; perSecond: number }> {
  let acknowledged = 0;
  let next = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  // Each lane appends one message after another; `window` lanes keep that many in flight.
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (performance.now() < until) {
        const message = pool[next++ % pool.length] as NewMessage;
        await store.append([message]);
        acknowledged += 1;
      }
    }),
  );
  return { acknowledged, perSecond: acknowledged / ((performance.now() - started) / 1000) };
}

export async function measureIndexCost(
  engine: Engine,
  corpus: Corpus,
  params: IngestParams,
  report: (run: IngestRun) => void,
): Promise<IngestRun[]> {
  const pool: NewMessage[] = Array.from({ length: POOL }, (_, i) => {
    const m = corpus.message(i);
    return {
      room: m.room,
      userId: m.sender.userId,
      username: m.sender.username,
      text: m.text,
      kind: "chat",
      clientMsgId: "",
    };
  });
  const runs: IngestRun[] = [];
  for (let run = 1; run <= params.runs; run++) {
    // Alternate which goes first, so that a drift in the machine's load falls on both.
    const order = run % 2 === 1 ? [true, false] : [false, true];
    for (const withIndex of order) {
      const database = await engine.scratch();
      try {
        // Both open, close and open again before measuring: the store makes
        // its schema, and only then is the index's upkeep taken out of one.
        const open = () => database.open(Date.now, params.durability);
        let store = await open();
        let dropped: string[] = [];
        if (withIndex) {
          await store.close();
          store = await open();
        } else {
          ({ store, dropped } = await database.dropSearchIndex(store, open));
        }
        const meter = cpuMeter(engine.serverCpuSeconds);
        let measured: IngestRun;
        try {
          const result = await appendFor(store, pool, params.seconds, params.window);
          measured = { withIndex, run, ...result, dropped, cpu: meter.read() };
        } finally {
          await store.close();
        }
        report(measured);
        runs.push(measured);
      } finally {
        await database.remove();
      }
    }
  }
  return runs;
}
