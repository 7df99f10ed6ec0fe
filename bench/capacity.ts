// Capacity: C live streams in one room (spread over load processes, and
// over connections when the machine's file-descriptor limit calls for it),
// then one broadcast: how many got it, how long the last copy took, and the
// server's memory per stream.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connectSeed } from "./seed-load.ts";
import type { BenchServer } from "./servers.ts";

const WORKER = fileURLToPath(new URL("./capacity-worker.ts", import.meta.url));

export interface CapacityParams {
  readonly clients: number;
  /** Load processes. */
  readonly workers: number;
  /** Streams that share one HTTP/2 connection. */
  readonly perConnection: number;
}

export interface CapacityResult {
  readonly reached: number;
  /** From the broadcast's send to the last copy's arrival. */
  readonly lastCopyMs: number;
  readonly serverRssMiB: number;
  readonly rssPerStreamKiB: number;
}

type Reply = { type: string; probed?: number; got?: number; lastAt?: number };

function ask(worker: ChildProcess, question: string, answer: string): Promise<Reply> {
  return new Promise((resolve) => {
    const listener = (message: Reply) => {
      if (message.type !== answer) return;
      worker.off("message", listener);
      resolve(message);
    };
    worker.on("message", listener);
    if (question) worker.send({ type: question });
  });
}

export async function runCapacity(
  address: string,
  server: BenchServer | undefined,
  params: CapacityParams,
): Promise<CapacityResult> {
  const baseline = server?.memory().rssMiB ?? 0;
  const share = Math.ceil(params.clients / params.workers);
  const workers: ChildProcess[] = [];
  const connected: Array<Promise<Reply>> = [];
  for (let first = 0; first < params.clients; first += share) {
    const count = Math.min(share, params.clients - first);
    const worker = fork(WORKER, [
      address,
      String(first),
      String(count),
      String(params.perConnection),
    ]);
    connected.push(ask(worker, "", "connected"));
    workers.push(worker);
  }
  try {
    await Promise.all(connected);
    const broadcaster = await connectSeed(address, "broadcaster", () => {});
    // Everyone is in the room once every stream has heard a probe.
    for (let k = 0; ; k++) {
      broadcaster.write(`probe ${k}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const replies = await Promise.all(workers.map((w) => ask(w, "probed?", "probed")));
      const probed = replies.reduce((sum, r) => sum + (r.probed ?? 0), 0);
      if (probed === params.clients) break;
      if (k > 300) throw new Error(`only ${probed} of ${params.clients} streams heard a probe`);
    }
    const rss = server?.memory().rssMiB ?? 0;
    const results = workers.map((w) => ask(w, "", "got"));
    const sentAt = performance.timeOrigin + performance.now();
    broadcaster.write("broadcast");
    // A worker answers when all its streams have it; after 10 s, whatever it has.
    const late = setTimeout(() => {
      for (const w of workers) w.send({ type: "report" });
    }, 10_000);
    const replies = await Promise.all(results);
    clearTimeout(late);
    broadcaster.close();
    const reached = replies.reduce((sum, r) => sum + (r.got ?? 0), 0);
    const lastAt = Math.max(...replies.map((r) => r.lastAt ?? 0));
    return {
      reached,
      lastCopyMs: reached > 0 ? lastAt - sentAt : Number.NaN,
      serverRssMiB: rss,
      rssPerStreamKiB: ((rss - baseline) * 1024) / params.clients,
    };
  } finally {
    for (const w of workers) {
      w.send({ type: "exit" });
      await new Promise((resolve) => w.once("exit", resolve));
    }
  }
}
