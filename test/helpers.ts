import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ChatClient,
  type ChatClientOptions,
  createChatClient,
  type SessionEvent,
} from "../src/client/chat-client.ts";
import {
  type ChatServerOptions,
  type RunningChatServer,
  startChatServer,
} from "../src/server/chat-server.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CLI = join(ROOT, "src", "cli.ts");

/** A real server on a free loopback port, with history in memory unless `db` is given. */
export function startTestServer(options: ChatServerOptions = {}): Promise<RunningChatServer> {
  return startChatServer({ host: "127.0.0.1", port: 0, db: ":memory:", ...options });
}

/** A client on its own connection (grpc-js would otherwise share one between clients). */
export function testClient(
  server: { address: string },
  options: Partial<ChatClientOptions> = {},
): ChatClient {
  return createChatClient({
    address: server.address,
    username: "tester",
    ...options,
    channelOptions: { "grpc.use_local_subchannel_pool": 1, ...options.channelOptions },
  });
}

/** A fresh directory, removed by the returned function. */
export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), "grpc-chat-test-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Matches a session event carrying a message with exactly this text. */
export const isText = (text: string) => (e: SessionEvent) =>
  e.type === "message" && e.message.text === text;

/** Matches the event that marks the switch from replay to live. */
export const isCaughtUp = (e: SessionEvent) => e.type === "caught_up";

/** Resolves with `promise`, or rejects after `ms` saying what was awaited. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads items from an async iterator until one matches, within a deadline.
 * Items that do not match are passed over (and returned in `skipped`).
 */
export async function nextMatching<T>(
  iterator: AsyncIterator<T>,
  match: (item: T) => boolean,
  what: string,
  ms = 5_000,
): Promise<T> {
  return within(
    (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) throw new Error(`stream ended before ${what}`);
        if (match(next.value)) return next.value;
      }
    })(),
    ms,
    what,
  );
}

/** A CLI process (`node src/cli.ts ...`) with its output collected line by line. */
export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Waits for a stdout line matching `pattern`; resolves to that line. */
  waitForLine(pattern: RegExp | string, ms?: number): Promise<string>;
  /** Resolves with the exit code, once all of stdout has been read. */
  readonly exited: Promise<number | null>;
  stderr(): string;
}

export function spawnCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return spawnLines(process.execPath, [CLI, ...args], env);
}

/** Any process, run from the project root, with its stdout collected line by line. */
export function spawnLines(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): CliProcess {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  let partial = "";
  const waiters = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  let closed = false;
  // "close", not "exit": by then all of stdout has been read.
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (code) => {
      if (partial) lines.push(partial);
      partial = "";
      closed = true;
      resolve(code);
    }),
  );
  exited.then(() => {
    for (const wake of waiters) wake();
  });
  const matches = (line: string, pattern: RegExp | string) =>
    typeof pattern === "string" ? line.includes(pattern) : pattern.test(line);

  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    waitForLine(pattern, ms = 10_000) {
      let seen = 0;
      return within(
        new Promise<string>((resolve, reject) => {
          const check = () => {
            for (; seen < lines.length; seen++) {
              const line = lines[seen] as string;
              if (matches(line, pattern)) {
                waiters.delete(check);
                resolve(line);
                return;
              }
            }
            if (closed) {
              waiters.delete(check);
              reject(
                new Error(
                  `process exited before printing ${pattern}; stdout:\n${lines.join("\n")}\nstderr:\n${stderr}`,
                ),
              );
            }
          };
          waiters.add(check);
          check();
        }),
        ms,
        `a line matching ${pattern}; stdout so far:\n${lines.join("\n")}\nstderr:\n${stderr}`,
      );
    },
  };
}
