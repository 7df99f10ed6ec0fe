// `fanout --transport`: the same room's fan-out with its subscribers on our
// native port or on the HTTP port's browser protocols, a fresh server per
// run, the transports interleaved (the order turned around every run).
// Compares the server's CPU per delivery with native's in the same run.
import { type FanoutParams, type FanoutResult, runFanout } from "./fanout.ts";
import { median, type RunOptions, type Summary } from "./scenarios.ts";
import { startServer } from "./servers.ts";
import { connectStream, type StreamServer, type StreamTransport } from "./stream-load.ts";

export interface TransportParams extends FanoutParams {
  readonly transports: readonly StreamTransport[];
  /** Both ports over TLS (HTTP/2 on the HTTP port); else plain HTTP/1.1 there. */
  readonly tls: boolean;
}

interface TransportRun extends FanoutResult {
  readonly cpuMicrosPerDelivery: number;
}

const print = (line: string, json: object) =>
  process.stdout.write(`${line}\n${JSON.stringify(json)}\n`);

async function once(
  transport: StreamTransport,
  params: TransportParams,
  options: RunOptions,
  run: number,
): Promise<TransportRun> {
  const server = await startServer("ours", {
    nodeArgs: [...options.nodeArgs],
    durability: options.durability,
    tls: params.tls,
  });
  try {
    const target: StreamServer = {
      native: server.address,
      http: server.httpUrl,
      ...(server.ca ? { ca: server.ca } : {}),
    };
    let cpuBefore = 0;
    const loadBefore = process.cpuUsage();
    const r = await runFanout<StreamServer>(
      target,
      params,
      () => {
        cpuBefore = server.cpuSeconds();
      },
      (address, name, onMessage) => connectStream(transport, address, name, onMessage),
    );
    const cpu = server.cpuSeconds() - cpuBefore;
    const load = process.cpuUsage(loadBefore);
    const cpuMicrosPerDelivery = (cpu * 1e6) / Math.max(1, r.deliveries);
    print(
      `${transport.padEnd(12)} run ${run}: ${Math.round(r.deliveriesPerSecond).toLocaleString("en")} deliveries/s, ` +
        `p50 ${r.latencyMs.p50.toFixed(2)} p99 ${r.latencyMs.p99.toFixed(2)} ms, lost ${r.lost}, duplicated ${r.duplicated}, ` +
        `server CPU ${cpu.toFixed(1)} s (${cpuMicrosPerDelivery.toFixed(1)} µs a delivery), load CPU ${((load.user + load.system) / 1e6).toFixed(1)} s`,
      {
        scenario: "fanout-transport",
        ...params,
        transport,
        run,
        ...r,
        serverCpuSeconds: cpu,
        serverCpuMicrosPerDelivery: cpuMicrosPerDelivery,
      },
    );
    return { ...r, cpuMicrosPerDelivery };
  } finally {
    await server.stop();
  }
}

/**
 * One summary row per browser transport: its server CPU per delivery against
 * native's (at most 1.25x paced, 2x unpaced), loss and duplicates 0.
 */
export async function transportFanout(
  params: TransportParams,
  options: RunOptions,
): Promise<Summary[]> {
  const kinds: StreamTransport[] = ["native", ...params.transports.filter((t) => t !== "native")];
  const runs = Math.max(options.compare ? 2 : 1, options.runs);
  const results = new Map<StreamTransport, TransportRun[]>(kinds.map((k) => [k, []]));
  for (let run = 1; run <= runs; run++) {
    for (const transport of run % 2 === 1 ? kinds : [...kinds].reverse()) {
      results.get(transport)?.push(await once(transport, params, options, run));
    }
  }
  const cpuOf = (t: StreamTransport) =>
    median((results.get(t) ?? []).map((r) => r.cpuMicrosPerDelivery));
  const native = cpuOf("native");
  const limit = params.rate > 0 ? 1.25 : 2;
  const how = `C=${params.clients} S=${params.senders}${params.rate ? ` at ${params.rate * params.senders}/s` : ""}, ${params.tls ? "TLS HTTP/2" : "HTTP/1.1"}`;
  return kinds
    .filter((t) => t !== "native")
    .map((transport) => {
      const ours = cpuOf(transport);
      const faults = (results.get(transport) ?? []).reduce(
        (sum, r) => sum + r.lost + r.duplicated,
        0,
      );
      return {
        scenario: `fanout over ${transport} (${how}): server CPU per delivery`,
        ours,
        reference: native,
        unit: "µs",
        target: `at most ${limit}x native`,
        met: ours <= native * limit && faults === 0,
        detail: `${(ours / native).toFixed(2)}x native; lost or doubled: ${faults}`,
      };
    });
}
