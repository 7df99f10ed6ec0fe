// The stand-in for the seed's original Python server (test/interop/seed_server.py),
// started as its own process on a loopback port for tests of our clients.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { type CliProcess, spawnLines, stopProcess } from "./helpers.ts";

export const PYTHON = "/usr/bin/python3";
const SEED_SERVER = "test/interop/seed_server.py";

/** Fails (never skips) when the system Python cannot run the stand-in. */
export function requirePythonGrpc(): void {
  const probe = spawnSync(PYTHON, ["-c", "import grpc, google.protobuf"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  assert.equal(
    probe.status,
    0,
    `${PYTHON} cannot import grpc and google.protobuf, which the Python interop tests need: ` +
      "install them with `apt-get install -y python3-grpcio python3-protobuf` (CI installs them). " +
      (probe.error ? String(probe.error) : probe.stderr),
  );
}

export interface SeedServer {
  readonly process: CliProcess;
  readonly port: number;
  readonly address: string;
  /** Ends it as a crash would (SIGKILL) or as an operator would (SIGTERM). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the stand-in on `port` (0: any free one) and waits until it serves. */
export async function startSeedServer(port = 0): Promise<SeedServer> {
  const child = spawnLines(PYTHON, [SEED_SERVER, "--port", String(port)]);
  let line: string;
  try {
    line = await child.waitForLine(/^seed server listening on /, 10_000);
  } catch (error) {
    child.child.kill("SIGKILL");
    throw error;
  }
  const listening = Number(/:(\d+)$/.exec(line)?.[1]);
  assert.ok(listening > 0, `no port in: ${line}`);
  return {
    process: child,
    port: listening,
    address: `127.0.0.1:${listening}`,
    stop: (signal = "SIGTERM") => stopProcess(child, signal),
  };
}
