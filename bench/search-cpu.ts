// Where the machine's CPU went during a phase of the search bench: this
// process (the store's SQLite worker runs in it), the PostgreSQL server, and
// anything else. Other engineers' work on the same 2 cores makes figures
// noisy, so each phase says how busy the machine was with other things.

import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

export interface PhaseCpu {
  readonly seconds: number;
  readonly bench: number;
  readonly database: number;
  readonly others: number;
}

/** The machine's busy CPU seconds so far (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1);
  const jiffies = (fields ?? []).map(Number);
  const total = jiffies.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (jiffies[3] ?? 0) - (jiffies[4] ?? 0)) / 100;
}

/** Starts measuring now; `read()` gives what was spent since. */
export function cpuMeter(databaseCpuSeconds: () => number): { read(): PhaseCpu } {
  const started = performance.now();
  const bench = process.cpuUsage();
  const database = databaseCpuSeconds();
  const machine = machineBusySeconds();
  return {
    read() {
      const used = process.cpuUsage(bench);
      const benchSeconds = (used.user + used.system) / 1e6;
      const databaseSeconds = databaseCpuSeconds() - database;
      const machineSeconds = machineBusySeconds() - machine;
      return {
        seconds: (performance.now() - started) / 1000,
        bench: benchSeconds,
        database: databaseSeconds,
        others: Math.max(0, machineSeconds - benchSeconds - databaseSeconds),
      };
    },
  };
}

export function describeCpu(cpu: PhaseCpu, withDatabase: boolean): string {
  const share = (seconds: number) =>
    `${((100 * seconds) / Math.max(0.001, cpu.seconds)).toFixed(0)}%`;
  const busy = cpu.others / Math.max(0.001, cpu.seconds) > 0.25;
  return (
    `CPU over ${cpu.seconds.toFixed(1)} s: this process ${cpu.bench.toFixed(1)} s (${share(cpu.bench)})` +
    (withDatabase ? `, PostgreSQL ${cpu.database.toFixed(1)} s (${share(cpu.database)})` : "") +
    `, other processes ${cpu.others.toFixed(1)} s (${share(cpu.others)} of a core)` +
    (busy ? " - the machine was busy with other work: these figures are noisy" : "")
  );
}

export const loadAverage = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
