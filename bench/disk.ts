// This disk's fsync latency, which bounds what a commit at --durability full
// can take: the light-load target allows it on top of the reference.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** p50 and p99 of `count` page writes each made durable (fdatasync), where the servers keep their files. */
export function fsyncLatency(count = 300): { p50: number; p99: number } {
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-bench-fsync-"));
  const fd = openSync(join(dir, "probe"), "w");
  const page = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      writeSync(fd, page);
      const started = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const at = (p: number) =>
    times[Math.min(times.length - 1, Math.floor((times.length * p) / 100))] as number;
  return { p50: at(50), p99: at(99) };
}
