// `npm run bench -- <scenario> [flags]`: each scenario prints a table for
// people and one JSON line per run for machines. With --compare it runs
// against our server and the reference (bench/ceiling.ts) in turn, a fresh
// server each run, and prints the ratio of the medians.
//   fanout --clients 8 --senders 4 [--rate 0] [--seconds 10] [--bytes 100] [--window 64]
//   capacity --clients 20000 [--workers 4] [--per-connection 1]
//   history --stored 1000000 --limit 500 (our server only: the reference stores nothing)
//   ingest --senders 50 [--seconds 10] [--window 32] (our server only)
// Common: --compare [--runs 2], --server ours|ceiling, --address host:port (a
// server already running), --cpu-prof (our server writes a V8 profile).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCapacity } from "./capacity.ts";
import { type FanoutResult, runFanout } from "./fanout.ts";
import { type BenchServer, connectionsTo, type ServerKind, startServer } from "./servers.ts";
import { fillRoom, runHistory, runIngest } from "./store-scenarios.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clients: { type: "string", default: "8" },
    senders: { type: "string", default: "4" },
    rate: { type: "string", default: "0" },
    seconds: { type: "string", default: "10" },
    bytes: { type: "string", default: "100" },
    window: { type: "string", default: "64" },
    compare: { type: "boolean", default: false },
    runs: { type: "string", default: "2" },
    server: { type: "string", default: "ours" },
    address: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    stored: { type: "string", default: "1000000" },
    workers: { type: "string", default: "4" },
    "per-connection": { type: "string" },
    limit: { type: "string", default: "500" },
  },
});
const scenario = positionals[0] ?? "fanout";
const nodeArgs = values["cpu-prof"] ? ["--cpu-prof"] : [];

if (scenario === "history") {
  const stored = Number(values.stored);
  const limit = Number(values.limit);
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-bench-history-"));
  const db = join(dir, "chat.db");
  const filling = performance.now();
  await fillRoom(db, "big", stored);
  process.stdout.write(
    `stored ${stored.toLocaleString("en")} messages in ${((performance.now() - filling) / 1000).toFixed(1)} s\n`,
  );
  const server = await startServer("ours", { db, nodeArgs });
  try {
    const r = await runHistory(server.address, "big", limit);
    process.stdout.write(
      `history: newest ${limit} of ${stored.toLocaleString("en")}: p50 ${r.latencyMs.p50.toFixed(2)} p90 ${r.latencyMs.p90.toFixed(2)} p99 ${r.latencyMs.p99.toFixed(2)} max ${r.latencyMs.max.toFixed(2)} ms over ${r.calls} calls\n`,
    );
    process.stdout.write(`${JSON.stringify({ scenario, stored, limit, ...r })}\n`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
if (scenario === "ingest") {
  const senders = Number(values.senders === "4" ? "50" : values.senders);
  const window = Number(values.window === "64" ? "32" : values.window);
  const seconds = Number(values.seconds);
  const server = await startServer("ours", { nodeArgs });
  try {
    const r = await runIngest(server.address, senders, seconds, window);
    process.stdout.write(
      `ingest: ${Math.round(r.perSecond).toLocaleString("en")} acknowledged messages/s (${r.acknowledged.toLocaleString("en")} from ${senders} senders in ${seconds} s, ${window} in flight each)\n`,
    );
    process.stdout.write(`${JSON.stringify({ scenario, senders, seconds, window, ...r })}\n`);
  } finally {
    await server.stop();
  }
  process.exit(0);
}
if (scenario === "capacity") {
  const clients = Number(values.clients);
  // One connection per stream unless that would pass this machine's file-descriptor limit.
  const perConnection = Number(values["per-connection"] ?? (clients > 15_000 ? 100 : 1));
  const capacityParams = { clients, workers: Number(values.workers), perConnection };
  const kinds: ServerKind[] = values.compare ? ["ours", "ceiling"] : [values.server as ServerKind];
  const runs = values.compare ? Math.max(2, Number(values.runs)) : 1;
  for (let run = 1; run <= runs; run++) {
    for (const kind of run % 2 === 1 ? kinds : [...kinds].reverse()) {
      const server = await startServer(kind, { nodeArgs });
      try {
        const r = await runCapacity(server.address, server, capacityParams);
        process.stdout.write(
          `${kind.padEnd(8)} run ${run}: ${r.reached.toLocaleString("en")} of ${clients.toLocaleString("en")} streams got the broadcast, the last after ${Math.round(r.lastCopyMs)} ms; server RSS ${Math.round(r.serverRssMiB)} MiB (${r.rssPerStreamKiB.toFixed(1)} KiB per stream); ${perConnection} streams per connection\n`,
        );
        process.stdout.write(
          `${JSON.stringify({ scenario, ...capacityParams, server: kind, run, ...r })}\n`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  process.exit(0);
}
if (scenario !== "fanout") {
  process.stderr.write(`Unknown scenario "${scenario}"; try: fanout, capacity, history, ingest.\n`);
  process.exit(2);
}

interface Row {
  readonly server: string;
  readonly run: number;
  readonly result: FanoutResult;
  readonly connections: number;
  readonly cpuSeconds: number;
  readonly peakMiB: number;
}

const params = {
  clients: Number(values.clients),
  senders: Number(values.senders),
  rate: Number(values.rate),
  seconds: Number(values.seconds),
  bytes: Number(values.bytes),
  window: Number(values.window),
};

async function measure(kind: ServerKind, run: number): Promise<Row> {
  const server: BenchServer | undefined = values.address
    ? undefined
    : await startServer(kind, { nodeArgs });
  const address = values.address ?? (server as BenchServer).address;
  const cpuBefore = server?.cpuSeconds() ?? 0;
  let connections = 0;
  const result = await runFanout(address, params, () => {
    connections = connectionsTo(Number(address.split(":")[1]));
  });
  const row = {
    server: values.address ? address : kind,
    run,
    result,
    connections,
    cpuSeconds: (server?.cpuSeconds() ?? 0) - cpuBefore,
    peakMiB: server?.memory().peakMiB ?? 0,
  };
  await server?.stop();
  report(row);
  return row;
}

function report(row: Row): void {
  const { result: r } = row;
  process.stdout.write(
    `${row.server.padEnd(8)} run ${row.run}: ${Math.round(r.deliveriesPerSecond).toLocaleString("en")} deliveries/s, ` +
      `latency p50 ${r.latencyMs.p50.toFixed(2)} p90 ${r.latencyMs.p90.toFixed(2)} p99 ${r.latencyMs.p99.toFixed(2)} max ${r.latencyMs.max.toFixed(1)} ms, ` +
      `lost ${r.lost}, duplicated ${r.duplicated}, server CPU ${row.cpuSeconds.toFixed(1)} s, peak RSS ${Math.round(row.peakMiB)} MiB, ` +
      `${row.connections} connections\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ scenario, ...params, server: row.server, run: row.run, ...r, connections: row.connections, serverCpuSeconds: row.cpuSeconds, serverPeakRssMiB: row.peakMiB })}\n`,
  );
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const kinds: ServerKind[] = values.compare ? ["ours", "ceiling"] : [values.server as ServerKind];
const runs = values.compare
  ? Math.max(2, Number(values.runs))
  : Number(values.runs === "2" ? 1 : values.runs);
const rows: Row[] = [];
for (let run = 1; run <= runs; run++) {
  // Interleaved, and the order alternates, so drift in the machine falls on both.
  const order = run % 2 === 1 ? kinds : [...kinds].reverse();
  for (const kind of order) rows.push(await measure(kind, run));
}
if (values.compare) {
  const of = (kind: ServerKind, pick: (r: Row) => number) =>
    median(rows.filter((r) => r.server === kind).map(pick));
  const ours = of("ours", (r) => r.result.deliveriesPerSecond);
  const ceiling = of("ceiling", (r) => r.result.deliveriesPerSecond);
  const p99 = (kind: ServerKind) => of(kind, (r) => r.result.latencyMs.p99);
  process.stdout.write(
    `fanout clients=${params.clients} senders=${params.senders} rate=${params.rate}: ours ${Math.round(ours).toLocaleString("en")} / reference ${Math.round(ceiling).toLocaleString("en")} deliveries/s = ${(ours / ceiling).toFixed(2)}x; ` +
      `p99 ${p99("ours").toFixed(2)} vs ${p99("ceiling").toFixed(2)} ms (medians of ${runs} runs each)\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ scenario, ...params, compare: true, runs, ours, ceiling, ratio: ours / ceiling, p99Ours: p99("ours"), p99Ceiling: p99("ceiling") })}\n`,
  );
}
