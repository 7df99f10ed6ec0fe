// Each scenario runs, prints a line per run for people and a JSON line per
// run for machines, and returns one summary row for the table in
// docs/benchmarks.md. With `compare`, fan-out and capacity run against our
// server and the reference in turn, interleaved, a fresh server each run.
import { type ChildProcess, fork } from "node:child_process";
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCapacity } from "./capacity.ts";
import { type FanoutParams, runFanout } from "./fanout.ts";
import { connectionsTo, type ServerKind, startCluster, startServer } from "./servers.ts";
import { fillRoom, type HistoryResult, type IngestResult, runHistory } from "./store-scenarios.ts";

export interface RunOptions {
  readonly compare: boolean;
  readonly runs: number;
  /** Our server as this many nodes on PostgreSQL and Redis (fan-out only); 1: one process on SQLite. */
  readonly nodes: number;
  readonly server: ServerKind;
  readonly nodeArgs: readonly string[];
  /** Our server's --durability: "full" (fsync per commit, the default) or "normal". */
  readonly durability: "full" | "normal";
}

/** One row of the results table: what was measured, ours, the reference's, the target. */
export interface Summary {
  readonly scenario: string;
  readonly ours: number;
  readonly reference?: number;
  readonly unit: string;
  readonly target: string;
  readonly met: boolean;
  readonly detail: string;
}

const print = (line: string, json: object) =>
  process.stdout.write(`${line}\n${JSON.stringify(json)}\n`);

export const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Runs `measure` for each server kind, interleaved, alternating the order per run. */
async function interleaved<T>(
  options: RunOptions,
  measure: (kind: ServerKind, run: number) => Promise<T>,
): Promise<Map<ServerKind, T[]>> {
  const kinds: ServerKind[] = options.compare ? ["ours", "ceiling"] : [options.server];
  const runs = options.compare ? Math.max(2, options.runs) : options.runs;
  const results = new Map<ServerKind, T[]>(kinds.map((k) => [k, []]));
  for (let run = 1; run <= runs; run++) {
    for (const kind of run % 2 === 1 ? kinds : [...kinds].reverse()) {
      results.get(kind)?.push(await measure(kind, run));
    }
  }
  return results;
}

export async function fanout(params: FanoutParams, options: RunOptions): Promise<Summary> {
  const results = await interleaved(options, async (kind, run) => {
    const cluster =
      kind === "ours" && options.nodes > 1
        ? await startCluster(options.nodes, { nodeArgs: [...options.nodeArgs] })
        : undefined;
    const server =
      cluster ??
      (await startServer(kind, {
        nodeArgs: [...options.nodeArgs],
        durability: options.durability,
      }));
    const addresses = cluster?.addresses ?? [server.address];
    try {
      const cpuBefore = server.cpuSeconds();
      const loadBefore = process.cpuUsage();
      let connections = 0;
      const r = await runFanout(addresses, params, () => {
        connections = addresses.reduce(
          (sum, address) => sum + connectionsTo(Number(address.split(":")[1])),
          0,
        );
      });
      const cpu = server.cpuSeconds() - cpuBefore;
      const loadUsage = process.cpuUsage(loadBefore);
      const loadCpu = (loadUsage.user + loadUsage.system) / 1e6;
      const cpuPerDelivery = (cpu * 1e6) / Math.max(1, r.deliveries);
      const { peakMiB } = server.memory();
      print(
        `${kind.padEnd(8)} run ${run}: ${Math.round(r.deliveriesPerSecond).toLocaleString("en")} deliveries/s, ` +
          `latency p50 ${r.latencyMs.p50.toFixed(2)} p90 ${r.latencyMs.p90.toFixed(2)} p99 ${r.latencyMs.p99.toFixed(2)} max ${r.latencyMs.max.toFixed(1)} ms, ` +
          `lost ${r.lost}, duplicated ${r.duplicated}, server CPU ${cpu.toFixed(1)} s (${cpuPerDelivery.toFixed(1)} µs a delivery), load CPU ${loadCpu.toFixed(1)} s, peak RSS ${Math.round(peakMiB)} MiB, ${connections} connections`,
        {
          scenario: "fanout",
          ...params,
          server: kind,
          run,
          ...r,
          connections,
          serverCpuSeconds: cpu,
          serverCpuMicrosPerDelivery: cpuPerDelivery,
          loadCpuSeconds: loadCpu,
          serverPeakRssMiB: peakMiB,
        },
      );
      return r;
    } finally {
      await server.stop();
    }
  });
  const of = (kind: ServerKind, pick: (r: Awaited<ReturnType<typeof runFanout>>) => number) =>
    median((results.get(kind) ?? []).map(pick));
  const label = `fanout C=${params.clients} S=${params.senders}${params.rate ? ` at ${params.rate}/s` : ""}${options.nodes > 1 ? `, ours on ${options.nodes} nodes` : ""}`;
  const kind = options.compare ? "ours" : options.server;
  if (params.rate > 0) {
    // Light load: the figure that matters is the tail latency.
    const ours = of(kind, (r) => r.latencyMs.p99);
    const reference = options.compare ? of("ceiling", (r) => r.latencyMs.p99) : undefined;
    return {
      scenario: `${label}: p99 latency`,
      ours,
      ...(reference === undefined ? {} : { reference }),
      unit: "ms",
      target: "within 1 ms of the reference",
      met: reference !== undefined && ours <= reference + 1,
      detail: `p50 ${of(kind, (r) => r.latencyMs.p50).toFixed(2)} ms`,
    };
  }
  const ours = of(kind, (r) => r.deliveriesPerSecond);
  const reference = options.compare ? of("ceiling", (r) => r.deliveriesPerSecond) : undefined;
  const ratio = reference ? ours / reference : undefined;
  const lost = (results.get(kind) ?? []).reduce((sum, r) => sum + r.lost + r.duplicated, 0);
  return {
    scenario: `${label}: deliveries/s`,
    ours,
    ...(reference === undefined ? {} : { reference }),
    unit: "/s",
    target: "at least 1.0x the reference",
    met: ratio !== undefined && ratio >= 1,
    detail: `${ratio === undefined ? "" : `${ratio.toFixed(2)}x; `}p99 ${of(kind, (r) => r.latencyMs.p99).toFixed(1)} ms; lost or doubled: ${lost}`,
  };
}

export async function capacity(
  params: { clients: number; workers: number; perConnection: number },
  options: RunOptions,
): Promise<Summary> {
  const results = await interleaved(options, async (kind, run) => {
    const server = await startServer(kind, {
      nodeArgs: [...options.nodeArgs],
      durability: options.durability,
    });
    try {
      const r = await runCapacity(server.address, server, params);
      print(
        `${kind.padEnd(8)} run ${run}: ${r.reached.toLocaleString("en")} of ${params.clients.toLocaleString("en")} streams got the broadcast, the last after ${Math.round(r.lastCopyMs)} ms; ` +
          `server RSS ${Math.round(r.serverRssMiB)} MiB (${r.rssPerStreamKiB.toFixed(1)} KiB per stream); ${params.perConnection} streams per connection`,
        { scenario: "capacity", ...params, server: kind, run, ...r },
      );
      return r;
    } finally {
      await server.stop();
    }
  });
  const kind = options.compare ? "ours" : options.server;
  const mine = results.get(kind) ?? [];
  const ours = median(mine.map((r) => r.lastCopyMs));
  const reference = options.compare
    ? median((results.get("ceiling") ?? []).map((r) => r.lastCopyMs))
    : undefined;
  const rss = Math.max(...mine.map((r) => r.serverRssMiB));
  const all = mine.every((r) => r.reached === params.clients);
  return {
    scenario: `capacity: ${params.clients.toLocaleString("en")} streams, time to the last copy`,
    ours,
    ...(reference === undefined ? {} : { reference }),
    unit: "ms",
    target: "all within 2 s (or 1.25x the reference); RSS ≤ 1 GB",
    met:
      all &&
      (ours <= 2_000 || (reference !== undefined && ours <= reference * 1.25)) &&
      rss <= 1024,
    detail: `reached ${all ? "all" : "not all"}; server RSS ${Math.round(rss)} MiB`,
  };
}

export async function history(
  params: { stored: number; limit: number },
  options: RunOptions,
): Promise<Summary> {
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-bench-history-"));
  const db = join(dir, "chat.db");
  try {
    await fillRoom(db, "big", params.stored);
    // The fill wrote without syncing: its writeback must not run during the calls.
    const fd = openSync(db, "r+");
    fsyncSync(fd);
    closeSync(fd);
    const results: HistoryResult[] = [];
    // A fresh server each run, on the same file; --runs like every scenario.
    for (let run = 1; run <= (options.compare ? Math.max(2, options.runs) : options.runs); run++) {
      const server = await startServer("ours", {
        db,
        nodeArgs: [...options.nodeArgs],
        durability: options.durability,
      });
      try {
        const r = await runHistory(server.address, "big", params.limit);
        const { p50, p90, p99, max } = r.latencyMs;
        print(
          `history run ${run}: newest ${params.limit} of ${params.stored.toLocaleString("en")}: p50 ${p50.toFixed(2)} p90 ${p90.toFixed(2)} p99 ${p99.toFixed(2)} max ${max.toFixed(2)} ms over ${r.calls} calls`,
          { scenario: "history", ...params, run, ...r },
        );
        results.push(r);
      } finally {
        await server.stop();
      }
    }
    const p50 = median(results.map((r) => r.latencyMs.p50));
    return {
      scenario: `history: newest ${params.limit} of ${params.stored.toLocaleString("en")}, p50`,
      ours: p50,
      unit: "ms",
      target: "p50 at most 5 ms",
      met: p50 <= 5,
      detail: `p90 ${median(results.map((r) => r.latencyMs.p90)).toFixed(1)} ms`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface IngestParams {
  readonly senders: number;
  readonly seconds: number;
  readonly window: number;
  readonly processes: number;
  /** Messages per SendMessages call; 0: one Session send per message. */
  readonly batch: number;
}

export async function ingest(params: IngestParams, options: RunOptions): Promise<Summary> {
  const cluster =
    options.nodes > 1
      ? await startCluster(options.nodes, { nodeArgs: [...options.nodeArgs] })
      : undefined;
  const server =
    cluster ??
    (await startServer("ours", {
      nodeArgs: [...options.nodeArgs],
      durability: options.durability,
    }));
  const addresses = cluster ? cluster.addresses : [server.address];
  try {
    const cpuBefore = server.cpuSeconds();
    const r = await ingestFrom(addresses, params);
    const cpu = server.cpuSeconds() - cpuBefore;
    const how = params.batch > 0 ? `batches of ${params.batch}` : "one send each";
    print(
      `ingest: ${Math.round(r.perSecond).toLocaleString("en")} acknowledged messages/s (${r.acknowledged.toLocaleString("en")} from ${params.senders} senders, ${how}, in ${params.processes} load processes, ${params.seconds} s, ${params.window} in flight each${addresses.length > 1 ? `, over ${addresses.length} nodes` : ""}), server CPU ${cpu.toFixed(1)} s`,
      { scenario: "ingest", nodes: addresses.length, ...params, ...r },
    );
    return {
      scenario: `ingest: messages acked/s, ${how}`,
      ours: r.perSecond,
      unit: "/s",
      target: "at least 20,000/s",
      met: r.perSecond >= 20_000,
      detail: `${params.senders} senders, ${params.processes} load processes`,
    };
  } finally {
    await server.stop();
  }
}

const INGEST_WORKER = fileURLToPath(new URL("ingest-worker.ts", import.meta.url));

/** Runs the senders spread over `processes` load processes, started together, each on a node in turn. */
async function ingestFrom(
  addresses: readonly string[],
  params: IngestParams,
): Promise<IngestResult> {
  const share = Math.ceil(params.senders / params.processes);
  const workers: ChildProcess[] = [];
  for (let first = 0; first < params.senders; first += share) {
    const count = Math.min(share, params.senders - first);
    workers.push(
      fork(INGEST_WORKER, [
        addresses[workers.length % addresses.length] as string,
        String(first),
        String(count),
        String(params.seconds),
        String(params.window),
        String(params.batch),
      ]),
    );
  }
  const replies = (type: string) =>
    workers.map(
      (worker) =>
        new Promise<IngestResult & { type: string }>((resolve, reject) => {
          const onMessage = (message: IngestResult & { type: string }) => {
            if (message.type !== type) return;
            worker.off("message", onMessage);
            resolve(message);
          };
          worker.on("message", onMessage);
          worker.once("exit", (code) =>
            reject(new Error(`an ingest load process exited (${code})`)),
          );
        }),
    );
  try {
    await Promise.all(replies("connected"));
    const done = replies("done");
    for (const worker of workers) worker.send({ type: "go" });
    const results = await Promise.all(done);
    return {
      acknowledged: results.reduce((sum, r) => sum + r.acknowledged, 0),
      perSecond: results.reduce((sum, r) => sum + r.perSecond, 0),
    };
  } finally {
    for (const worker of workers) worker.kill();
  }
}
