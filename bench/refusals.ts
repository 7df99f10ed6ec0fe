// Refusals: what one abuser who ignores retry-after-ms costs everyone else.
// A real server with its default limits (the send rate on); ordinary users
// keep to their rate throughout (bench/refusal-load.ts). First a quiet
// phase, then the same load with an abuser on its own connection, in a
// process of its own (bench/refusal-abuser.ts), one phase per way:
//   (a) a Session flood, (b) unary Sends kept in flight, (c) many guests
//   on one connection, each within its own rate (guests at one address
//   share --guest-sends-per-address, 30/s by default).
// Each phase reports the others' send-to-ack and Ping p50, p99 and max; the
// table compares each abused phase's p99 with the quiet one's.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { AbuserMode, AbuserParams, AbuserReport } from "./refusal-abuser.ts";
import {
  accountClient,
  type LoadParams,
  OrdinaryLoad,
  type PhaseFigures,
  roomName,
} from "./refusal-load.ts";
import { median, type RunOptions, type Summary } from "./scenarios.ts";

export type AbuseWay = "a" | "b" | "c";

export interface RefusalParams extends LoadParams {
  /** Length of each measured phase. */
  readonly seconds: number;
  /** Load before the quiet phase, not measured (connections, JIT). */
  readonly warmup: number;
  /** Pause after each abused phase, with the load on, not measured. */
  readonly settle: number;
  readonly abuse: readonly AbuseWay[];
  /** (b): unary calls in flight at once. */
  readonly inFlight: number;
  /** (c): guests on the one connection, and each one's sends per second. */
  readonly guests: number;
  readonly guestRate: number;
  /** The abuser process's nice value. */
  readonly abuserNice: number;
}

const WAYS: Record<AbuseWay, { mode: AbuserMode; label: string }> = {
  a: { mode: "session", label: "(a) Session flood" },
  b: { mode: "unary", label: "(b) unary Sends in flight" },
  c: { mode: "guests", label: "(c) guests on one connection" },
};

interface AbusedPhase {
  readonly way: AbuseWay;
  readonly figures: PhaseFigures;
  readonly abuser: AbuserReport;
  readonly cpu: PhaseCpu;
}

interface RunResult {
  readonly quiet: PhaseFigures;
  readonly quietCpu: PhaseCpu;
  readonly abused: AbusedPhase[];
}

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const ABUSER = fileURLToPath(new URL("./refusal-abuser.ts", import.meta.url));

const print = (line: string, json: object) =>
  process.stdout.write(`${line}\n${JSON.stringify(json)}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Our server as `npm start` runs it (default limits), on a SQLite file in a temporary directory. */
async function startServer(nodeArgs: readonly string[], durability: "full" | "normal") {
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-bench-refusals-"));
  const args = [
    ...nodeArgs,
    CLI,
    "server",
    ...["--host", "127.0.0.1", "--port", "0", "--http-port", "0"],
    ...["--db", join(dir, "chat.db"), "--log-level", "warn", "--durability", durability],
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const address = await new Promise<string>((resolve, reject) => {
    if (!child.stdout) return reject(new Error("no stdout"));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", () => reject(new Error("the server exited before it listened")));
  });
  const pid = child.pid as number;
  return {
    address,
    cpuSeconds() {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      return (Number(stat[11]) + Number(stat[12])) / 100;
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds spent in a phase: by the server, this process (the measuring clients), the abuser, anything else. */
interface PhaseCpu {
  readonly server: number;
  readonly load: number;
  readonly abuser: number;
  /** Whatever else ran on the machine: other processes make the figures unreliable. */
  readonly others: number;
}

/** The machine's busy CPU seconds so far (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1);
  const jiffies = (fields ?? []).map(Number);
  const total = jiffies.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (jiffies[3] ?? 0) - (jiffies[4] ?? 0)) / 100;
}

function cpuMeter(server: { cpuSeconds(): number }) {
  let start = { server: 0, load: process.cpuUsage(), machine: 0 };
  const reset = () => {
    start = {
      server: server.cpuSeconds(),
      load: process.cpuUsage(),
      machine: machineBusySeconds(),
    };
  };
  reset();
  return {
    reset,
    read(abuser: number): PhaseCpu {
      const used = process.cpuUsage(start.load);
      const load = (used.user + used.system) / 1e6;
      const s = server.cpuSeconds() - start.server;
      const machine = machineBusySeconds() - start.machine;
      return { server: s, load, abuser, others: Math.max(0, machine - s - load - abuser) };
    },
  };
}

const describeCpu = (c: PhaseCpu) =>
  `CPU: server ${c.server.toFixed(1)} s, clients ${c.load.toFixed(1)} s, abuser ${c.abuser.toFixed(1)} s, ` +
  `anything else ${c.others.toFixed(1)} s${c.others > 1 ? " (the machine was busy with something else: these figures are not reliable)" : ""}`;

/** Starts an abuser process; resolves once it is connected and waiting for "go". */
function abuser(params: AbuserParams) {
  const child: ChildProcess = fork(ABUSER, [JSON.stringify(params)]);
  const reply = (type: string) =>
    new Promise<{ type: string; report?: AbuserReport; named?: number }>((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        child.off("message", onMessage);
        resolve(message);
      };
      child.on("message", onMessage);
      child.once("exit", (code) => reject(new Error(`the abuser exited (${code}) before ${type}`)));
    });
  return { child, reply };
}

const ms = (value: number) => value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
const percentiles = (p: { p50: number; p99: number; max: number; count: number }) =>
  `p50 ${ms(p.p50)} p99 ${ms(p.p99)} max ${ms(p.max)} ms (${p.count})`;

/** When the slowest sends started: a cluster at the start of a phase is the abuser's first burst. */
const slowest = (f: PhaseFigures) =>
  `slowest sends started at ${f.slowestSends.map((s) => `${s.atS.toFixed(1)}`).join(", ")} s`;

function describeAbuser(r: AbuserReport): string {
  const perSecond = (n: number) => Math.round(n / r.seconds).toLocaleString("en");
  const first = r.ends[0];
  const ended =
    r.endCount === 0
      ? "its stream was not ended"
      : `ended ${r.endCount}x, first after ${(((first?.atMs ?? 0) as number) / 1000).toFixed(1)} s with ${first ? statusName(first.code) : "?"}`;
  const others = Object.entries(r.codes)
    .filter(([code]) => code !== "RESOURCE_EXHAUSTED")
    .map(([code, n]) => `${code} ${n}`);
  return (
    `abuser: ${perSecond(r.refused)} refusals/s (${r.refused.toLocaleString("en")}, ${r.withRetryAfter.toLocaleString("en")} with retry-after), ` +
    `${r.acked.toLocaleString("en")} acked, ${r.written.toLocaleString("en")} ${r.mode === "unary" ? "calls" : "sends written"}` +
    `${others.length ? `, other answers: ${others.join(", ")}` : ""}; ${r.mode === "unary" ? "(no stream)" : ended}`
  );
}

const STATUS = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];
const statusName = (code: number) => STATUS[code] ?? String(code);

async function refusalRun(params: RefusalParams, options: RunOptions, run: number) {
  const server = await startServer(options.nodeArgs, options.durability);
  const load = new OrdinaryLoad(params);
  const room = roomName(0);
  const guests = Array.from({ length: params.guests }, (_, i) => ({
    secret: randomUUID(),
    name: `guest${i}`,
  }));
  try {
    await load.connect(server.address);
    const abuserClient = await accountClient(server.address, "abuser");
    const token = abuserClient.token as string;
    abuserClient.close();
    const base = {
      address: server.address,
      room,
      inFlight: params.inFlight,
      guestRate: params.guestRate,
      nice: params.abuserNice,
    };
    if (params.abuse.includes("c")) {
      // A new name costs its address (20 a minute): most are taken now, the rest before (c).
      const names = abuser({ ...base, mode: "names", guests });
      await names.reply("done");
    }
    load.start();
    await sleep(params.warmup * 1000);

    const meter = cpuMeter(server);
    let phase = load.begin();
    await sleep(params.seconds * 1000);
    const quiet = await load.end(phase);
    const quietCpu = meter.read(0);
    print(
      `refusals run ${run}: quiet: sends ${percentiles(quiet.sendMs)}, Ping ${percentiles(quiet.pingMs)}; ` +
        `errors ${quiet.sendErrors + quiet.pingErrors}; ${slowest(quiet)}; ${describeCpu(quietCpu)}`,
      { scenario: "refusals", phase: "quiet", run, ...params, ...quiet, cpu: quietCpu },
    );

    const abused: AbusedPhase[] = [];
    for (const way of params.abuse) {
      const { mode, label } = WAYS[way];
      const worker = abuser({ ...base, mode, token, guests });
      const ready = await worker.reply("ready");
      const done = worker.reply("done");
      meter.reset();
      phase = load.begin();
      worker.child.send({ type: "go" });
      await sleep(params.seconds * 1000);
      worker.child.send({ type: "stop" });
      const figures = await load.end(phase);
      const report = (await done).report as AbuserReport;
      const cpu = meter.read(report.cpuSeconds);
      await new Promise((resolve) => worker.child.once("exit", resolve));
      const guestNote =
        mode === "guests" ? ` (${ready.named} of ${params.guests} guests named)` : "";
      print(
        `refusals run ${run}: ${label}${guestNote}: sends ${percentiles(figures.sendMs)}, Ping ${percentiles(figures.pingMs)}; ` +
          `errors ${figures.sendErrors + figures.pingErrors}; ${slowest(figures)}; ${describeCpu(cpu)}; ${describeAbuser(report)}`,
        {
          scenario: "refusals",
          phase: way,
          run,
          ...params,
          ...figures,
          cpu,
          abuser: report,
        },
      );
      if (report.sampleReason) process.stdout.write(`  refusal: "${report.sampleReason}"\n`);
      for (const end of report.ends.slice(0, 1)) {
        process.stdout.write(`  stream ended: ${statusName(end.code)} "${end.details}"\n`);
      }
      abused.push({ way, figures, abuser: report, cpu });
      await sleep(params.settle * 1000);
    }
    return { quiet, quietCpu, abused } satisfies RunResult;
  } finally {
    await load.stop();
    await server.stop();
  }
}

export async function refusals(params: RefusalParams, options: RunOptions): Promise<Summary[]> {
  const runs: RunResult[] = [];
  for (let run = 1; run <= options.runs; run++) runs.push(await refusalRun(params, options, run));

  const summaries: Summary[] = [];
  const range = (xs: number[]) =>
    xs.length > 1 ? ` (${ms(Math.min(...xs))}-${ms(Math.max(...xs))})` : "";
  process.stdout.write(
    `\nrefusals: p99 in ms, quiet and abused, ${params.users} users at ${params.userRate}/s in ${params.rooms} rooms, ` +
      `${params.seconds} s a phase, median of ${runs.length} run${runs.length > 1 ? "s" : ""} (range); target: abused ≤ 1.5x quiet\n\n` +
      "| abuse | sends quiet | sends abused | ratio | Ping quiet | Ping abused | ratio | abuser refusals/s | abuser acked | stream ended |\n" +
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
  );
  for (const way of params.abuse) {
    const phases = runs.map((r) => ({
      quiet: r.quiet,
      phase: r.abused.find((p) => p.way === way),
    }));
    const of = (pick: (p: (typeof phases)[number]) => number | undefined) =>
      phases.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x));
    const sendQuiet = of((p) => p.quiet.sendMs.p99);
    const sendAbused = of((p) => p.phase?.figures.sendMs.p99);
    const pingQuiet = of((p) => p.quiet.pingMs.p99);
    const pingAbused = of((p) => p.phase?.figures.pingMs.p99);
    const sendRatio = median(of((p) => p.phase && p.phase.figures.sendMs.p99 / p.quiet.sendMs.p99));
    const pingRatio = median(of((p) => p.phase && p.phase.figures.pingMs.p99 / p.quiet.pingMs.p99));
    const reports = phases.map((p) => p.phase?.abuser).filter((r) => r !== undefined);
    const refusalsPerSecond = median(reports.map((r) => r.refused / r.seconds));
    const acked = median(reports.map((r) => r.acked));
    const ended =
      WAYS[way].mode === "unary"
        ? "(unary)"
        : reports
            .map((r) =>
              r.endCount === 0
                ? "no"
                : `${r.endCount}x, ${statusName(r.ends[0]?.code ?? 0)} at ${((r.ends[0]?.atMs ?? 0) / 1000).toFixed(1)} s`,
            )
            .join("; ");
    process.stdout.write(
      `| ${WAYS[way].label} | ${ms(median(sendQuiet))}${range(sendQuiet)} | ${ms(median(sendAbused))}${range(sendAbused)} | ${sendRatio.toFixed(2)}x | ` +
        `${ms(median(pingQuiet))}${range(pingQuiet)} | ${ms(median(pingAbused))}${range(pingAbused)} | ${pingRatio.toFixed(2)}x | ` +
        `${Math.round(refusalsPerSecond).toLocaleString("en")} | ${Math.round(acked).toLocaleString("en")} | ${ended} |\n`,
    );
    for (const [what, ratio, quiet, abusedP99] of [
      ["others' send p99", sendRatio, sendQuiet, sendAbused],
      ["Ping p99", pingRatio, pingQuiet, pingAbused],
    ] as const) {
      summaries.push({
        scenario: `refusals ${WAYS[way].label}: ${what}, abused/quiet`,
        ours: ratio,
        unit: "x",
        target: "at most 1.5x quiet",
        met: ratio <= 1.5,
        detail: `${ms(median(abusedP99))} ms against ${ms(median(quiet))} ms`,
      });
    }
  }
  return summaries;
}
