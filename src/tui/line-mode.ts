import type { Writable } from "node:stream";
import type { ChatController, ChatView, DisplayItem } from "./chat-controller.ts";
import { formatTime, inert } from "./format.ts";

/** One line per item: `[time] name: text` for messages. What scripts and tests read. */
export function formatLine(item: DisplayItem): string | undefined {
  switch (item.kind) {
    case "sent":
      return undefined;
    case "message":
      return `[${formatTime(item.line.timeMs)}] ${inert(item.line.username)}: ${inert(item.line.text)}`;
    case "info":
      return inert(item.text);
    case "error":
      return `error: ${inert(item.text)}`;
  }
}

/** Prints each item as a line; your own live messages are not echoed (you typed them). */
export function createLineView(output: Writable): ChatView {
  return {
    show(item) {
      const line = formatLine(item);
      if (line !== undefined) output.write(`${line}\n`);
    },
    setState() {},
  };
}

/**
 * Runs the client on plain lines: each input line is a message or a command,
 * handled in order. Resolves with the exit code when input ends, the user
 * quits, or the connection ends.
 */
export async function runLineMode(
  makeController: (view: ChatView) => ChatController,
  input: AsyncIterator<string>,
  output: Writable,
): Promise<number> {
  const controller = makeController(createLineView(output));
  const { ended } = await controller.start();
  let quitting = false;
  let connectionLost = false;
  const lost = ended.then(() => {
    connectionLost = !quitting;
  });
  const stop = lost.then((): IteratorResult<string> => ({ done: true, value: undefined }));
  for (;;) {
    const line = await Promise.race([input.next(), stop]);
    if (line.done) break;
    const keepGoing = await Promise.race([controller.input(line.value), lost.then(() => false)]);
    if (!keepGoing) break;
  }
  quitting = true;
  await controller.quit();
  return connectionLost ? 1 : 0;
}
