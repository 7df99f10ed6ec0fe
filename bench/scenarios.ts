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
import { fsyncLatency } from "./disk.ts";
import { type FanoutParams, runFanout } from "./fanout.ts";
import { connectionsTo, type ServerKind, startCluster, startServer } from "./servers.ts";
import {
  fillRoom,
  HISTORY_ROOM,
  type HistoryResult,
  type HistoryResults,
  type IngestResult,
  runHistory,
} from "./store-scenarios.ts";

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
    // Light load: the figure that matters is the tail latency. At full
    // durability each message waits for its commit's fsync, which the
    // target allows on top of the reference.
    const ours = of(kind, (r) => r.latencyMs.p99);
    const reference = options.compare ? of("ceiling", (r) => r.latencyMs.p99) : undefined;
    const disk = fsyncLatency();
    const full = options.durability === "full";
    const allowed = 1 + (full ? disk.p99 : 0);
    print(`this disk's fsync: p50 ${disk.p50.toFixed(2)} ms, p99 ${disk.p99.toFixed(2)} ms`, {
      scenario: "fsync",
      ...disk,
    });
    return {
      scenario: `${label}: p99 latency, durability ${options.durability}`,
      ours,
      ...(reference === undefined ? {} : { reference }),
      unit: "ms",
      target: full
        ? `within fsync p99 (${disk.p99.toFixed(2)} ms) + 1 ms of the reference`
        : "within 1 ms of the reference",
      met: reference !== undefined && ours <= reference + allowed,
      detail: `p50 ${of(kind, (r) => r.latencyMs.p50).toFixed(2)} ms; fsync p50 ${disk.p50.toFixed(2)} p99 ${disk.p99.toFixed(2)} ms`,
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
    // The seed's GetChatHistory reads only the lobby, so both reads are of the lobby's newest page.
    await fillRoom(db, HISTORY_ROOM, params.stored);
    // The fill wrote without syncing: its writeback must not run during the calls.
    const fd = openSync(db, "r+");
    fsyncSync(fd);
    closeSync(fd);
    const results: HistoryResults[] = [];
    const page = `newest ${params.limit} of ${params.stored.toLocaleString("en")}`;
    const figures = ({ latencyMs: { p50, p90, p99, max } }: HistoryResult) =>
      `p50 ${p50.toFixed(2)} p90 ${p90.toFixed(2)} p99 ${p99.toFixed(2)} max ${max.toFixed(2)} ms`;
    // A fresh server each run, on the same file; --runs like every scenario.
    for (let run = 1; run <= (options.compare ? Math.max(2, options.runs) : options.runs); run++) {
      const server = await startServer("ours", {
        db,
        nodeArgs: [...options.nodeArgs],
        durability: options.durability,
      });
      try {
        const r = await runHistory(server.address, params.limit);
        print(
          `history run ${run}: ${page}: History ${figures(r.history)}; GetChatHistory ${figures(r.seed)}; ${r.history.calls} calls each`,
          { scenario: "history", ...params, run, ...r },
        );
        results.push(r);
      } finally {
        await server.stop();
      }
    }
    const p50 = median(results.map((r) => r.history.latencyMs.p50));
    const seedP50 = median(results.map((r) => r.seed.latencyMs.p50));
    const p90 = (pick: (r: HistoryResults) => HistoryResult) =>
      median(results.map((r) => pick(r).latencyMs.p90)).toFixed(1);
    return {
      scenario: `history: ${page}, p50 (History)`,
      ours: p50,
      unit: "ms",
      target: "p50 at most 5 ms, History and the seed's GetChatHistory",
      met: p50 <= 5 && seedP50 <= 5,
      detail: `p90 ${p90((r) => r.history)} ms; GetChatHistory p50 ${seedP50.toFixed(1)} ms, p90 ${p90((r) => r.seed)} ms`,
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
    const perSend = (seconds: number) => (seconds * 1e6) / Math.max(1, r.acknowledged);
    const loadShare = r.loadCpuSeconds / Math.max(cpu, 0.01);
    print(
      `ingest: ${Math.round(r.perSecond).toLocaleString("en")} acknowledged messages/s (${r.acknowledged.toLocaleString("en")} from ${params.senders} senders, ${how}, in ${params.processes} load processes, ${params.seconds} s, ${params.window} in flight each${addresses.length > 1 ? `, over ${addresses.length} nodes` : ""}, ${r.rejected} refused), ` +
        `server CPU ${cpu.toFixed(1)} s (${perSend(cpu).toFixed(1)} µs a send), load CPU ${r.loadCpuSeconds.toFixed(1)} s (${perSend(r.loadCpuSeconds).toFixed(1)} µs a send, ${loadShare.toFixed(2)}x the server's)`,
      {
        scenario: "ingest",
        nodes: addresses.length,
        ...params,
        ...r,
        serverCpuSeconds: cpu,
        durability: options.durability,
      },
    );
    // One send each must reach 50,000/s at full durability, with a load that costs under a third of the server.
    const single = params.batch === 0;
    const target = single ? 50_000 : 20_000;
    return {
      scenario: `ingest: messages acked/s, ${how}, durability ${options.durability}`,
      ours: r.perSecond,
      unit: "/s",
      target: `at least ${target.toLocaleString("en")}/s${single ? "; load CPU under 1/3 of the server's" : ""}`,
      met: r.perSecond >= target && (!single || loadShare < 1 / 3) && r.rejected === 0,
      detail: `${params.senders} senders, ${params.processes} load processes; server ${perSend(cpu).toFixed(1)} µs a send, load ${perSend(r.loadCpuSeconds).toFixed(1)} µs (${loadShare.toFixed(2)}x)`,
    };
  } finally {
    await server.stop();
  }
}

/** What a load process reports. */
type LoadReply = IngestResult & { type: string; rejected?: number; cpuSeconds?: number };

const INGEST_WORKER = fileURLToPath(new URL("ingest-worker.ts", import.meta.url));

/** Runs the senders spread over `processes` load processes, started together, each on a node in turn. */
async function ingestFrom(
  addresses: readonly string[],
  params: IngestParams,
): Promise<IngestResult & { rejected: number; loadCpuSeconds: number }> {
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
        new Promise<LoadReply>((resolve, reject) => {
          const onMessage = (message: LoadReply) => {
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
    const sum = (pick: (r: LoadReply) => number | undefined) =>
      results.reduce((total, r) => total + (pick(r) ?? 0), 0);
    return {
      acknowledged: sum((r) => r.acknowledged),
      perSecond: sum((r) => r.perSecond),
      rejected: sum((r) => r.rejected),
      loadCpuSeconds: sum((r) => r.cpuSeconds),
    };
  } finally {
    for (const worker of workers) worker.kill();
  }
}
