// Fan-out throughput: one sender, N receivers in one room, against the real
// server in its own process over loopback. Prints sends acknowledged per
// second, copies delivered per second and the server's peak memory.
// Usage: npm run bench -- [--receivers 100] [--messages 2000] [--bytes 100] [--db :memory:]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createChatClient } from "../src/client/chat-client.ts";

const { values } = parseArgs({
  options: {
    receivers: { type: "string", default: "100" },
    messages: { type: "string", default: "2000" },
    bytes: { type: "string", default: "100" },
    db: { type: "string", default: ":memory:" },
  },
});
const receivers = Number(values.receivers);
const messages = Number(values.messages);
const text = "x".repeat(Number(values.bytes));

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const serverProcess = spawn(
  process.execPath,
  [cli, "server", "--host", "127.0.0.1", "--port", "0", "--db", values.db, "--log-level", "warn"],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const address = await new Promise<string>((resolve, reject) => {
  createInterface({ input: serverProcess.stdout }).on("line", (line) => {
    const match = /listening on (127\.0\.0\.1:\d+)/.exec(line);
    if (match?.[1]) resolve(match[1]);
  });
  serverProcess.once("exit", () => reject(new Error("the server exited before it listened")));
});
const server = { address };
const client = (username: string) =>
  createChatClient({
    address: server.address,
    username,
    channelOptions: { "grpc.use_local_subchannel_pool": 1 },
  });

const readers = await Promise.all(
  Array.from({ length: receivers }, async (_, i) => {
    const c = client(`reader-${i}`);
    await c.join();
    const session = c.openSession();
    const events = session[Symbol.asyncIterator]();
    for (;;) {
      const next = await events.next();
      if (next.done || next.value.type === "caught_up") break;
    }
    const done = (async () => {
      let got = 0;
      for (;;) {
        const next = await events.next();
        if (next.done) throw new Error(`reader-${i} ended early`);
        if (next.value.type === "message" && next.value.message.text === text && ++got === messages)
          return;
      }
    })();
    return { c, session, done };
  }),
);

const sender = client("sender");
await sender.join();
const session = sender.openSession();
const started = performance.now();
// Keep a bounded number of sends in flight, as a real client would.
const inFlight = new Set<Promise<unknown>>();
for (let i = 0; i < messages; i++) {
  const p = session.send(text).finally(() => inFlight.delete(p));
  inFlight.add(p);
  if (inFlight.size >= 64) await Promise.race(inFlight);
}
await Promise.all(inFlight);
const sentMs = performance.now() - started;
await Promise.all(readers.map((r) => r.done));
const totalMs = performance.now() - started;

const copies = receivers * messages;
const peak = /VmHWM:\s+(\d+) kB/.exec(
  readFileSync(`/proc/${serverProcess.pid}/status`, "utf8"),
)?.[1];
const rss = Number(peak ?? 0) / 1024;
console.log(
  `receivers=${receivers} messages=${messages} bytes=${text.length} ` +
    `sends/s=${Math.round(messages / (sentMs / 1000))} copies/s=${Math.round(copies / (totalMs / 1000))} ` +
    `total_ms=${Math.round(totalMs)} server_peak_rss_mib=${Math.round(rss)}`,
);

for (const r of readers) {
  r.session.close();
  r.c.close();
}
session.close();
sender.close();
serverProcess.kill("SIGTERM");
await new Promise((resolve) => serverProcess.once("exit", resolve));
