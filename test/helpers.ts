import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NO_LIMIT_FLAGS } from "../src/cli/server-command.ts";
import {
  type ChatClient,
  ChatClientError,
  type ChatClientOptions,
  createChatClient,
  type SessionEvent,
} from "../src/client/chat-client.ts";
import {
  type ChatServerOptions,
  type RunningChatServer,
  startChatServer,
} from "../src/server/chat-server.ts";

export { NO_LIMIT_FLAGS };

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CLI = join(ROOT, "src", "cli.ts");

/**
 * A real server on a free loopback port, with history in memory unless `db`
 * is given. Joins and leaves are not stored as lines unless a test asks
 * (`joinLines: true`): they are written in the background, a tick after the
 * join, and would shift the ids and texts other tests reason about.
 */
export function startTestServer(options: ChatServerOptions = {}): Promise<RunningChatServer> {
  return startChatServer({
    host: "127.0.0.1",
    port: 0,
    db: ":memory:",
    joinLines: false,
    ...options,
    // Every test client comes from one address: the limits guests share per
    // address are off unless a test asks for them.
    limits: { guestSendsPerAddress: 0, guestNamesPerMinute: 0, ...options.limits },
  });
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

/** The texts of the messages read up to and including the one with `text`. */
export async function textsUntil(events: AsyncIterator<SessionEvent>, text: string) {
  const seen: string[] = [];
  await nextMatching(
    events,
    (e) => {
      if (e.type === "message") seen.push(e.message.text);
      return isText(text)(e);
    },
    `"${text}"`,
  );
  return seen;
}

/** Matches a presence event in which `name` came online (or, with online false, went offline). */
export const isPresence =
  (name: string, online = true) =>
  (e: SessionEvent) =>
    e.type === "presence" && (online ? e.joined : e.left).some((m) => m.username === name);

/**
 * A client that has joined (JoinChat) with a Session in `room` (default
 * "lobby"), its welcome and caught_up read. `resumeAfterId` as in JoinRoom.
 */
export async function liveUser(
  server: { address: string },
  username: string,
  options: { room?: string; resumeAfterId?: number; userId?: string } = {},
) {
  const client = testClient(server, {
    username,
    ...(options.userId ? { userId: options.userId } : {}),
  });
  await client.join();
  const session = client.openSession();
  const events = session[Symbol.asyncIterator]();
  const welcome = await nextMatching(events, (e) => e.type === "welcome", `${username}'s welcome`);
  const joined = await session.join(options.room ?? "lobby", {
    ...(options.resumeAfterId === undefined ? {} : { resumeAfterId: options.resumeAfterId }),
  });
  return { client, session, events, welcome, joined };
}

/** The error a call that must be refused rejects with (ChatClientError); fails the test if it succeeds. */
export async function refusal(work: Promise<unknown>): Promise<ChatClientError> {
  const error = await work.then(
    () => assert.fail("the call was not refused"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ChatClientError, String(error));
  return error;
}

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

/**
 * Starts `grpc-chat server` as its own process and reads the port from its
 * startup line. A server that does not start within `startupMs` is killed,
 * so no process outlives the test that failed.
 */
export async function startServerProcess(
  args: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  startupMs = 10_000,
) {
  const server = spawnLines(
    process.execPath,
    [
      ...nodeArgs,
      CLI,
      "server",
      "--host",
      "127.0.0.1",
      "--http-port",
      "0",
      // As startTestServer: stored join lines, and the limits guests share
      // per address, only where a test asks for them.
      ...(args.includes("--join-lines") ? [] : ["--join-lines", "off"]),
      ...(args.includes("--guest-sends-per-address") ? [] : ["--guest-sends-per-address", "0"]),
      ...(args.includes("--guest-names-per-minute") ? [] : ["--guest-names-per-minute", "0"]),
      ...args,
    ],
    env,
  );
  let line: string;
  try {
    line = await server.waitForLine("listening on", startupMs);
  } catch (error) {
    server.child.kill("SIGKILL");
    throw error;
  }
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
  if (!(port > 0)) throw new Error(`no port in: ${line}`);
  return { server, line, port, address: `127.0.0.1:${port}` };
}

/** Signals a process and waits (briefly) for it to exit; resolves to its exit code. */
export async function stopProcess(
  process: CliProcess,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<number | null> {
  process.child.kill(signal);
  return within(process.exited, 5_000, `the process to exit after ${signal}`);
}

/** The peak resident memory of a running process on this machine, in MiB (Linux). */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}
