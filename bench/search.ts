// `npm run bench -- search`: full-text search on a million messages in a
// thousand rooms, on the SQLite store (or PostgreSQL with --nodes 2, as the
// cluster scenarios select it). Query latency by kind, what keeping the index
// costs appends, and the index's size next to the messages table's. The
// corpus is loaded once and cached (bench/search-load.ts).

import { median, type Summary } from "./scenarios.ts";
import { Corpus, DEFAULT_CORPUS, PUBLIC_ROOMS } from "./search-corpus.ts";
import { cpuMeter, describeCpu, loadAverage, type PhaseCpu } from "./search-cpu.ts";
import type { Engine, StorageSizes } from "./search-engines.ts";
import { type IngestRun, measureIndexCost } from "./search-ingest.ts";
import { cachedCorpus, corpusEndMs } from "./search-load.ts";
import { pgEngine } from "./search-pg.ts";
import {
  buildQueries,
  estimateMatches,
  KIND_LABELS,
  PAGE,
  type QueryKind,
  type Timings,
  timeQueries,
} from "./search-queries.ts";
import { sqliteEngine } from "./search-sqlite.ts";

export interface SearchParams {
  readonly messages: number;
  /** Timed queries of each kind per run. */
  readonly queries: number;
  readonly runs: number;
  /** Length of each ingest run. */
  readonly seconds: number;
  /** Appends in flight during the ingest runs. */
  readonly window: number;
  readonly fresh: boolean;
  /** Queries are asked this many days after the newest message (0: an hour after). */
  readonly quietDays: number;
  readonly postgres: boolean;
  readonly durability: "full" | "normal";
}

/** Queries of each kind asked before the timed ones, uncounted: caches and the JIT. */
const WARM = 20;
const MIB = 1024 * 1024;

const print = (line: string, json: object) =>
  process.stdout.write(`${line}\n${JSON.stringify(json)}\n`);
const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);
const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;
const count = (n: number) => Math.round(n).toLocaleString("en");

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function latency(values: readonly number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: median(sorted), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

export async function search(params: SearchParams): Promise<Summary[]> {
  const engine: Engine = params.postgres ? pgEngine : sqliteEngine;
  const name = `search (${engine.label}${params.quietDays > 0 ? `, ${params.quietDays} days quiet` : ""})`;
  const corpus = new Corpus({ ...DEFAULT_CORPUS, messages: params.messages });
  const { rooms, vocabulary, weeks, seed } = corpus.params;
  process.stdout.write(
    `${name}: ${count(params.messages)} messages in ${count(rooms)} rooms (${count(rooms - PUBLIC_ROOMS)} invite-only; ` +
      `the ${PUBLIC_ROOMS} others hold about ${(100 * corpus.publicShare).toFixed(1)}% of the messages), ` +
      `${count(vocabulary)} words, over ${weeks} weeks, seed ${seed}; load average ${loadAverage()}\n`,
  );

  const loadMeter = cpuMeter(engine.serverCpuSeconds);
  const cached = await cachedCorpus(engine, corpus, {
    fresh: params.fresh,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const { database, load } = cached;
  if (load) {
    const cpu = loadMeter.read();
    print(
      `${name} load: ${count(load.messages)} messages in batches of 1,000 in ${load.seconds.toFixed(0)} s, ` +
        `${count(load.perSecond)}/s, into ${database.where}; ${describeCpu(cpu, params.postgres)}`,
      { scenario: "search", phase: "load", store: engine.label, ...load, cpu },
    );
  } else {
    process.stdout.write(
      `${name}: the corpus is cached in ${database.where} (--fresh rebuilds it)\n`,
    );
  }

  const sizes = await database.sizes();
  print(
    `${name} sizes: messages table ${mib(sizes.messages)}, its other indexes ${mib(sizes.messageIndexes)}, ` +
      `search index ${mib(sizes.search)} (${(sizes.search / Math.max(1, sizes.messages)).toFixed(2)}x the table), ` +
      `whole database ${mib(sizes.total)} (${sizes.method})`,
    { scenario: "search", phase: "sizes", store: engine.label, ...sizes },
  );

  const sets = buildQueries(corpus, params.queries + WARM);
  for (const set of sets) {
    const examples = set.cases.slice(WARM, WARM + 3).map((c) => `"${c.typed}"`);
    // A rare pair is too rare for a sample to say anything.
    const matching =
      set.kind === "rare"
        ? "each the two rarest words of a stored message, so that one at least"
        : `about ${count(median(estimateMatches(corpus, set, set.cases.slice(WARM, WARM + 50))))} ` +
          `matching messages each (median of 50, estimated from ${count(Math.min(50_000, params.messages))} of them)`;
    process.stdout.write(
      `${name} queries: ${KIND_LABELS[set.kind]}, e.g. ${examples.join(", ")}; ${matching}\n`,
    );
  }

  const nowMs = corpusEndMs(corpus) + Math.max(3_600_000, params.quietDays * 86_400_000);
  if (params.quietDays > 0) {
    process.stdout.write(
      `${name}: queries asked ${params.quietDays} days after the newest message\n`,
    );
  }
  const store = await database.open(() => nowMs, params.durability);
  const runs: Timings[][] = [];
  try {
    for (let run = 1; run <= params.runs; run++) {
      const meter = cpuMeter(engine.serverCpuSeconds);
      const timings = await timeQueries(store, sets, nowMs, WARM);
      const cpu = meter.read();
      for (const t of timings) reportTimings(name, run, t, cpu, engine.label);
      process.stdout.write(`${name} run ${run}: ${describeCpu(cpu, params.postgres)}\n`);
      runs.push(timings);
    }
  } finally {
    await store.close();
  }

  // --seconds 0: the queries only.
  if (params.seconds <= 0) return summaries(name, runs, [], sizes);
  const ingest = await measureIndexCost(
    engine,
    corpus,
    {
      seconds: params.seconds,
      window: params.window,
      runs: params.runs,
      durability: params.durability,
    },
    (r) => reportIngest(name, r, params),
  );
  return summaries(name, runs, ingest, sizes);
}

function reportTimings(name: string, run: number, t: Timings, cpu: PhaseCpu, store: string) {
  const label = KIND_LABELS[t.kind];
  if (t.error !== undefined) {
    print(`${name} run ${run}: ${label}: the store refused the query: ${t.error}`, {
      scenario: "search",
      phase: "queries",
      store,
      run,
      kind: t.kind,
      error: t.error,
    });
    return;
  }
  const l = latency(t.ms);
  print(
    `${name} run ${run}: ${label}: p50 ${ms(l.p50)} p99 ${ms(l.p99)} max ${ms(l.max)} ms over ${t.ms.length} queries, ` +
      `${median(t.hits)} hits a page (median, limit ${PAGE})`,
    {
      scenario: "search",
      phase: "queries",
      store,
      run,
      kind: t.kind,
      queries: t.ms.length,
      latencyMs: l,
      hitsMedian: median(t.hits),
      cpu,
    },
  );
}

/** Steadier than appends/s when other work shares the machine: it counts only our own CPU. */
const cpuPerAppend = (r: IngestRun) =>
  (1e6 * (r.cpu.bench + r.cpu.database)) / Math.max(1, r.acknowledged);

function reportIngest(name: string, r: IngestRun, params: SearchParams) {
  const how = r.withIndex
    ? "with the search index"
    : r.dropped.length
      ? `without it (dropped: ${r.dropped.join(", ")})`
      : "without it - but no search index was found to drop, so this is the same build";
  print(
    `${name} ingest run ${r.run}, ${how}: ${count(r.perSecond)} acknowledged appends/s ` +
      `(${count(r.acknowledged)} in ${params.seconds} s, one message each, ${params.window} in flight, ` +
      `durability ${params.durability}); ${cpuPerAppend(r).toFixed(0)} µs of CPU an append` +
      `${params.postgres ? " (this process and PostgreSQL)" : ""}; ${describeCpu(r.cpu, params.postgres)}`,
    { scenario: "search", phase: "ingest", ...params, ...r },
  );
}

function summaries(
  name: string,
  runs: readonly Timings[][],
  ingest: readonly IngestRun[],
  sizes: StorageSizes,
): Summary[] {
  /** The median over runs of each run's figure, for one kind. */
  const of = (kind: QueryKind, pick: (l: Latency) => number) => {
    const figures = runs
      .map((timings) => timings.find((t) => t.kind === kind))
      .filter((t): t is Timings => t !== undefined && t.error === undefined && t.ms.length > 0)
      .map((t) => pick(latency(t.ms)));
    return figures.length ? median(figures) : Number.NaN;
  };
  const refusal = (kind: QueryKind) =>
    runs.flat().find((t) => t.kind === kind && t.error !== undefined)?.error;
  const row = (kind: QueryKind, target: string, p50Max: number, p99Max: number): Summary => {
    const p50 = of(kind, (l) => l.p50);
    const p99 = of(kind, (l) => l.p99);
    const error = refusal(kind);
    return {
      scenario: `${name}: ${KIND_LABELS[kind]}, p50`,
      ours: p50,
      unit: "ms",
      target,
      met: error === undefined && p50 <= p50Max && p99 <= p99Max,
      detail: error
        ? `refused: ${error}`
        : `p99 ${ms(p99)} ms, max ${ms(of(kind, (l) => l.max))} ms`,
    };
  };
  const twoWords = "p50 ≤ 10 ms, p99 ≤ 50 ms";
  const wide = of("common", (l) => l.p50);
  const narrow = of("narrow", (l) => l.p50);
  const rate = (withIndex: boolean) =>
    median(ingest.filter((r) => r.withIndex === withIndex).map((r) => r.perSecond));
  const cpu = (withIndex: boolean) =>
    median(ingest.filter((r) => r.withIndex === withIndex).map(cpuPerAppend));
  const ratio = rate(true) / rate(false);
  const dropped = ingest.some((r) => r.dropped.length > 0);
  const queries = [
    row("common", twoWords, 10, 50),
    row("rare", twoWords, 10, 50),
    row("prefix", `${twoWords} (the two-word one, as a yardstick)`, 10, 50),
    row("substring", "p50 ≤ 50 ms", 50, Number.POSITIVE_INFINITY),
    {
      scenario: `${name}: reader of 50 rooms against one of all 1,000, p50`,
      ours: narrow / wide,
      unit: "x",
      target: "no slower (p50 at most 1.1x)",
      met: refusal("narrow") === undefined && narrow <= wide * 1.1,
      detail: `p50 ${ms(narrow)} ms against ${ms(wide)} ms; p99 ${ms(of("narrow", (l) => l.p99))} against ${ms(of("common", (l) => l.p99))} ms`,
    },
  ];
  if (ingest.length === 0) return queries;
  return [
    ...queries,
    {
      scenario: `${name}: acknowledged appends/s with the index, against without`,
      ours: ratio,
      unit: "x",
      target: "at least 0.85x (at most 15% slower)",
      met: dropped && ratio >= 0.85,
      detail:
        `${count(rate(true))}/s against ${count(rate(false))}/s; CPU an append ${cpu(true).toFixed(0)} µs against ${cpu(false).toFixed(0)} µs` +
        `${dropped ? "" : "; no index was found to drop"}; index ${mib(sizes.search)}, table ${mib(sizes.messages)}`,
    },
  ];
}
