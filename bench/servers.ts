// The servers a benchmark runs against, each started fresh as its own process:
// ours (every message persisted to SQLite, abuse limits off) and the
// reference (bench/ceiling.ts). Reads their CPU time and memory from /proc.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { NO_LIMIT_FLAGS } from "../src/cli/server-options.ts";

export type ServerKind = "ours" | "ceiling";

export interface BenchServer {
  readonly kind: ServerKind;
  readonly address: string;
  /** Our HTTP port (Connect, gRPC-Web), as a URL; empty for the reference. */
  readonly httpUrl: string;
  /** The certificate it serves when started with `tls`. */
  readonly ca?: Buffer;
  readonly pid: number;
  /** CPU seconds (user + system, all threads) used so far. */
  cpuSeconds(): number;
  /** Resident memory now and at its peak, in MiB. */
  memory(): { rssMiB: number; peakMiB: number };
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const CEILING = fileURLToPath(new URL("./ceiling.ts", import.meta.url));

function procStat(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
}

export async function startServer(
  kind: ServerKind,
  options: {
    db?: string;
    bus?: string;
    nodeArgs?: string[];
    durability?: "full" | "normal";
    /** Both ports over TLS, with a self-signed certificate made for the run (ours only). */
    tls?: boolean;
  } = {},
): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), "grpc-chat-bench-"));
  const tls = options.tls && kind === "ours" ? selfSigned(dir) : undefined;
  const args =
    kind === "ceiling"
      ? [CEILING, "--port", "0"]
      : [
          CLI,
          "server",
          ...["--host", "127.0.0.1", "--port", "0", "--http-port", "0"],
          ...["--db", options.db ?? join(dir, "chat.db"), "--log-level", "warn"],
          ...["--durability", options.durability ?? "full"],
          ...(options.bus ? ["--bus", options.bus] : []),
          ...(tls ? ["--tls-cert", tls.certPath, "--tls-key", tls.keyPath] : []),
          // This measures the message path, not the limits.
          ...NO_LIMIT_FLAGS,
        ];
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const { address, httpUrl } = await new Promise<{ address: string; httpUrl: string }>(
    (resolve, reject) => {
      if (!child.stdout) return reject(new Error("no stdout"));
      let address = "";
      createInterface({ input: child.stdout }).on("line", (line) => {
        address ||= /listening on (127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? "";
        // Ours says where its HTTP port is on the next line; the reference has none.
        const httpUrl = /HTTP API, .* at (\S+)/.exec(line)?.[1];
        if (address && (kind === "ceiling" || httpUrl))
          resolve({ address, httpUrl: httpUrl ?? "" });
      });
      child.once("exit", () => reject(new Error(`the ${kind} server exited before it listened`)));
    },
  );
  const pid = child.pid as number;
  return {
    kind,
    address,
    httpUrl,
    ...(tls ? { ca: tls.cert } : {}),
    pid,
    cpuSeconds() {
      const stat = procStat(pid);
      return (Number(stat[11]) + Number(stat[12])) / 100;
    },
    memory() {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
      return { rssMiB: kb("VmRSS") / 1024, peakMiB: kb("VmHWM") / 1024 };
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A certificate for 127.0.0.1 and localhost, made with the system's openssl. */
function selfSigned(dir: string): { certPath: string; keyPath: string; cert: Buffer } {
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", "/CN=localhost"],
      ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    ],
    { stdio: "ignore" },
  );
  return { certPath, keyPath, cert: readFileSync(certPath) };
}

/** Established TCP connections to `port` on this machine (to check one connection per client). */
export function connectionsTo(port: number): number {
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const remote = fields[2];
      // State 01 is ESTABLISHED; count the client side, whose remote port is the server's.
      if (
        fields[3] === "01" &&
        remote &&
        Number.parseInt(remote.split(":")[1] ?? "", 16) === port
      ) {
        count += 1;
      }
    }
  }
  return count;
}

/** The PostgreSQL and Redis a cluster run uses (this machine's, as the tests do). */
const PG_URL = process.env.GRPC_CHAT_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.GRPC_CHAT_BENCH_REDIS ?? "redis://127.0.0.1:6379";

/** Several nodes of ours on one fresh PostgreSQL schema and Redis prefix, as one server to measure. */
export async function startCluster(
  nodes: number,
  options: { nodeArgs?: string[] } = {},
): Promise<BenchServer & { readonly addresses: readonly string[] }> {
  const name = `bench_${randomBytes(6).toString("hex")}`;
  const servers = await Promise.all(
    Array.from({ length: nodes }, () =>
      startServer("ours", {
        db: `${PG_URL}?schema=${name}`,
        bus: `${REDIS_URL}?prefix=${name}`,
        ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
      }),
    ),
  );
  const first = servers[0] as BenchServer;
  return {
    kind: "ours",
    address: first.address,
    httpUrl: first.httpUrl,
    addresses: servers.map((s) => s.address),
    pid: first.pid,
    cpuSeconds: () => servers.reduce((sum, s) => sum + s.cpuSeconds(), 0),
    memory: () =>
      servers
        .map((s) => s.memory())
        .reduce((a, b) => ({ rssMiB: a.rssMiB + b.rssMiB, peakMiB: a.peakMiB + b.peakMiB })),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).finally(() => client.end());
    },
  };
}
