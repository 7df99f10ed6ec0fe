// Fan-out throughput: S senders and R receivers in one room, each client on
// its own HTTP/2 connection, against the real server in its own process over
// loopback. Prints acknowledged sends per second, copies delivered per second,
// delivery latency and the server's peak memory.
// Usage: npm run bench -- [--receivers 100] [--senders 4] [--messages 2000] [--bytes 100] [--db :memory:]
// (--messages is the total over all senders; --address host:port measures a
// server that is already running, for profiling it, instead of starting one.)
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { NO_LIMIT_FLAGS } from "../src/cli/server-command.ts";
import { createChatClient } from "../src/client/chat-client.ts";

const { values } = parseArgs({
  options: {
    receivers: { type: "string", default: "100" },
    senders: { type: "string", default: "1" },
    messages: { type: "string", default: "2000" },
    bytes: { type: "string", default: "100" },
    db: { type: "string", default: ":memory:" },
    address: { type: "string" },
  },
});
const receivers = Number(values.receivers);
const senders = Number(values.senders);
const perSender = Math.ceil(Number(values.messages) / senders);
const messages = perSender * senders;
const padding = "x".repeat(Math.max(0, Number(values.bytes) - 24));

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const serverProcess = values.address
  ? undefined
  : spawn(
      process.execPath,
      [
        cli,
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--http-port",
        "0",
        "--db",
        values.db,
        "--log-level",
        "warn",
        // Every abuse limit off: this measures the message path, not the limits.
        ...NO_LIMIT_FLAGS,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
const address =
  values.address ??
  (await new Promise<string>((resolve, reject) => {
    if (!serverProcess) return;
    createInterface({ input: serverProcess.stdout }).on("line", (line) => {
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    serverProcess.once("exit", () => reject(new Error("the server exited before it listened")));
  }));
const client = (username: string) =>
  createChatClient({
    address,
    username,
    channelOptions: { "grpc.use_local_subchannel_pool": 1 },
  });

// Each text says who sent it, its number and when (ms, performance.timeOrigin based).
const BENCH_TEXT = /^b (\d+) (\d+) (\d+\.\d+) /;
const latencies: number[] = [];
let duplicated = 0;

const readers = await Promise.all(
  Array.from({ length: receivers }, async (_, i) => {
    const c = client(`reader-${i}`);
    await c.join();
    const session = c.openSession();
    const events = session[Symbol.asyncIterator]();
    await session.join("lobby");
    for (;;) {
      const next = await events.next();
      if (next.done || next.value.type === "caught_up") break;
    }
    const done = (async () => {
      const seen = Array.from({ length: senders }, () => new Set<number>());
      let got = 0;
      for (;;) {
        const next = await events.next();
        if (next.done) throw new Error(`reader-${i} ended early`);
        if (next.value.type !== "message") continue;
        const match = BENCH_TEXT.exec(next.value.message.text);
        if (!match) continue;
        const from = seen[Number(match[1])] as Set<number>;
        const n = Number(match[2]);
        if (from.has(n)) {
          duplicated += 1;
          continue;
        }
        from.add(n);
        // Sampled: every reader's every 10th message keeps the array small.
        if (n % 10 === 0) latencies.push(performance.now() - Number(match[3]));
        if (++got === messages) return;
      }
    })();
    return { c, session, done };
  }),
);

const sending = await Promise.all(
  Array.from({ length: senders }, async (_, s) => {
    const c = client(`sender-${s}`);
    await c.join();
    const session = c.openSession();
    // In the room like everyone else, so it gets the others' messages too.
    await session.join("lobby");
    // Acks arrive on the same stream as the others' messages: keep reading it.
    void (async () => {
      for await (const _ of session) {
        // discard
      }
    })();
    return { c, session };
  }),
);
const started = performance.now();
await Promise.all(
  sending.map(async ({ session }, s) => {
    // Keep a bounded number of sends in flight, as a real client would.
    const inFlight = new Set<Promise<unknown>>();
    for (let n = 0; n < perSender; n++) {
      const p = session
        .send(`b ${s} ${n} ${performance.now().toFixed(3)} ${padding}`)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 64) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }),
);
const sentMs = performance.now() - started;
await Promise.all(readers.map((r) => r.done));
const totalMs = performance.now() - started;

const copies = receivers * messages;
// utime + stime of the server process (all its threads), in clock ticks of 10 ms.
const stat = serverProcess?.pid
  ? readFileSync(`/proc/${serverProcess?.pid}/stat`, "utf8").split(") ")[1]?.split(" ")
  : undefined;
const cpuSeconds = stat ? (Number(stat[11]) + Number(stat[12])) / 100 : 0;
// The same for its main thread alone: the one that fans out, the server's bottleneck.
const mainStat = serverProcess?.pid
  ? readFileSync(`/proc/${serverProcess?.pid}/task/${serverProcess?.pid}/stat`, "utf8")
      .split(") ")[1]
      ?.split(" ")
  : undefined;
const mainSeconds = mainStat ? (Number(mainStat[11]) + Number(mainStat[12])) / 100 : 0;
const peak = serverProcess
  ? /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${serverProcess.pid}/status`, "utf8"))?.[1]
  : undefined;
const rss = Number(peak ?? 0) / 1024;
latencies.sort((a, b) => a - b);
const pct = (p: number) => (latencies[Math.floor((latencies.length - 1) * p)] ?? 0).toFixed(1);
console.log(
  `receivers=${receivers} senders=${senders} messages=${messages} bytes=${values.bytes} ` +
    `sends/s=${Math.round(messages / (sentMs / 1000))} copies/s=${Math.round(copies / (totalMs / 1000))} ` +
    `latency_ms_p50=${pct(0.5)} p90=${pct(0.9)} p99=${pct(0.99)} max=${pct(1)} ` +
    `duplicated=${duplicated} total_ms=${Math.round(totalMs)} server_cpu_s=${cpuSeconds.toFixed(2)} main_thread_cpu_s=${mainSeconds.toFixed(2)} server_peak_rss_mib=${Math.round(rss)}`,
);

for (const r of readers) {
  r.session.close();
  r.c.close();
}
for (const { c, session } of sending) {
  session.close();
  c.close();
}
if (serverProcess) {
  serverProcess.kill("SIGTERM");
  await new Promise((resolve) => serverProcess.once("exit", resolve));
}
