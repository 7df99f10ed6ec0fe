import { render } from "ink";
import { createElement as h } from "react";
import type { ChatController, ChatView } from "./chat-controller.ts";
import { ChatLog } from "./chat-log.ts";
import { ChatScreen } from "./chat-screen.ts";
import { terminalSignals } from "./notify.ts";

export interface FullScreenOptions {
  readonly controllerFor: (view: ChatView) => ChatController;
  readonly server: string;
  readonly username: string;
}

// The alternate screen, as editors use: the shell's screen comes back on exit.
// Home the cursor too, as ink draws from wherever the cursor is.
const ENTER_ALT_SCREEN = "\u001b[?1049h\u001b[H";
const LEAVE_ALT_SCREEN = "\u001b[?1049l";
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs the client full screen with ink. Resolves with the exit code when the
 * user quits (0) or the chat goes offline for good (1); rejects when it
 * cannot join at start. A lost connection is retried meanwhile, and the
 * status line says so.
 */
export async function runFullScreen(options: FullScreenOptions): Promise<number> {
  const log = new ChatLog();
  const signals = terminalSignals(process.stdout);
  log.terminal = signals;
  const controller = options.controllerFor(log);
  const quit = Promise.withResolvers<undefined>();
  const started = controller.start();
  const requestQuit = () => quit.resolve(undefined);
  let leaving = false;
  // Lines typed while connecting wait, each line waits for the one before, and
  // lines still waiting when the user leaves are dropped.
  let inputs: Promise<unknown> = started.catch(() => {});
  const submit = (line: string) => {
    inputs = inputs
      .then(async () => leaving || (await controller.input(line)) || requestQuit())
      .catch((error: unknown) => log.show({ kind: "error", text: String(error) }));
  };
  // Closing the terminal or `kill` leaves as cleanly as Ctrl+C.
  for (const signal of SIGNALS) process.on(signal, requestQuit);
  const leaveAltScreen = () => process.stdout.write(LEAVE_ALT_SCREEN);
  process.once("exit", leaveAltScreen);

  process.stdout.write(ENTER_ALT_SCREEN);
  const app = render(
    h(ChatScreen, {
      log,
      server: options.server,
      username: options.username,
      onSubmit: submit,
      onQuit: requestQuit,
      onLoadOlder: () => void controller.loadOlder(),
      onSwitch: (position: number) => controller.switchTo(position),
      onCycle: (steps: number) => controller.cycle(steps),
      onDraft: (draft: string) => controller.drafting(draft),
      onRecall: () => controller.recallEdit(),
    }),
    { exitOnCtrlC: false },
  );
  let lost: { reason: string } | undefined;
  try {
    const live = await Promise.race([started, quit.promise]);
    if (live) lost = await Promise.race([live.ended.then((reason) => ({ reason })), quit.promise]);
  } finally {
    leaving = true;
    await controller.quit();
    app.unmount();
    await app.waitUntilExit();
    process.off("exit", leaveAltScreen);
    leaveAltScreen();
    signals.restore();
    for (const signal of SIGNALS) process.off(signal, requestQuit);
  }
  if (!lost) return 0;
  // The screen that showed why is gone; say it where it stays.
  process.stderr.write(`grpc-chat: disconnected: ${lost.reason}\n`);
  return 1;
}
