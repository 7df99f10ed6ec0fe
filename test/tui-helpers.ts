// The full-screen client in a real pseudo-terminal: tmux runs it, a test
// types with send-keys and reads the screen with capture-pane.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CLI, ROOT } from "./helpers.ts";

const run = promisify(execFile);
const PANE = "chat";

/** One tmux server of a test's own, running the client full screen in one pane. */
export interface Terminal {
  /** The screen as text (`styled`: with the escapes of its styles). */
  screen(styled?: boolean): Promise<string>;
  /** Types text as it is (no key names). */
  type(text: string): Promise<void>;
  /** Presses keys by tmux's names ("Enter", "Up", "C-n", "M-1", "BSpace"). */
  press(...keys: string[]): Promise<void>;
  /** Polls the screen until `ok`, within a deadline; the screen then. */
  waitFor(what: string, ok: (screen: string) => boolean, ms?: number): Promise<string>;
  /** A tmux format about the pane, such as "#{alternate_on}" or "#{pane_title}". */
  pane(format: string): Promise<string>;
  /** Resolves once the client has exited; the pane stays, to be read. */
  exited(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the client as `name` on `server` in a 100x30 terminal; resolves once it is live. */
export async function startTerminal(
  server: { address: string },
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<Terminal> {
  // ink draws only <Static> output when it thinks it runs in CI; and a TMUX
  // variable inherited from a surrounding tmux must not leak into the pane.
  const {
    CI: _ci,
    CONTINUOUS_INTEGRATION: _ci2,
    TMUX: _tmux,
    TMUX_PANE: _pane,
    ...clean
  } = { ...process.env, ...env };
  const socket = `grpc-chat-test-${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmux = async (...args: string[]) =>
    (await run("tmux", ["-L", socket, ...args], { env: clean })).stdout;
  // remain-on-exit keeps the pane after the client exits, to see that it did
  // and how it left the terminal.
  await tmux(
    ...["-f", "/dev/null", "start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";"],
    ...["new-session", "-d", "-s", PANE, "-x", "100", "-y", "30", "-c", ROOT],
    ...["--", process.execPath, CLI, "client", "--server", server.address, "--name", name],
  );
  const pane = async (format: string) =>
    (await tmux("display-message", "-p", "-t", PANE, format)).trim();
  const socketPath = await pane("#{socket_path}");
  const clientPid = Number(await pane("#{pane_pid}"));
  const screen = (styled = false) =>
    tmux("capture-pane", "-p", ...(styled ? ["-e"] : []), "-t", PANE);
  const terminal: Terminal = {
    screen,
    type: async (text) => void (await tmux("send-keys", "-t", PANE, "-l", text)),
    press: async (...keys) => void (await tmux("send-keys", "-t", PANE, ...keys)),
    pane,
    async waitFor(what, ok, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const text = await screen();
        if (ok(text)) return text;
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${ms} ms waiting for ${what}; the screen:\n${text}`);
        }
        await sleep(50);
      }
    },
    // Polled: tmux's pane-died hook would wake a wait-for, but tmux 3.3a does
    // not always reap the pane's process, and then the hook never runs.
    async exited(ms = 5_000) {
      const deadline = Date.now() + ms;
      while ((await pane("#{pane_dead}")) !== "1") {
        if (Date.now() > deadline) {
          throw new Error(
            `the client did not exit within ${ms} ms; the screen:\n${await screen()}`,
          );
        }
        await sleep(50);
      }
    },
    async close() {
      await tmux("kill-server").catch(() => {});
      rmSync(socketPath, { force: true });
      // kill-server hangs up on the client, which then quits; make sure it has.
      const deadline = Date.now() + 5_000;
      while (isAlive(clientPid)) {
        if (Date.now() > deadline) {
          process.kill(clientPid, "SIGKILL");
          break;
        }
        await sleep(50);
      }
    },
  };
  await terminal.waitFor(`${name} to be live`, (text) => /\blive\b/.test(text));
  return terminal;
}

/** The input line: the only line that starts with the prompt. */
export function inputLine(screen: string): string | undefined {
  return screen
    .split("\n")
    .filter((line) => line.startsWith(">"))
    .at(-1)
    ?.trimEnd();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
