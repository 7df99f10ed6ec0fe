import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/**
 * The lines of `input` one at a time, as an async iterator: each 'line'
 * event is queued until asked for, and asking waits for the next. Now and
 * then in CI a line typed to the terminal client was never read through
 * readline's own iterator (events.on() underneath); the cause was not
 * found, so the reading is kept as plain as it can be. `close()` stops
 * reading (the full-screen client reads keys itself).
 */
export function lineInput(input: Readable): AsyncIterator<string> & { close(): void } {
  const lines = createInterface({ input, terminal: false });
  const queued: string[] = [];
  const waiting: ((result: IteratorResult<string>) => void)[] = [];
  let ended = false;
  lines.on("line", (line) => {
    const wake = waiting.shift();
    if (wake) wake({ done: false, value: line });
    else queued.push(line);
  });
  lines.on("close", () => {
    ended = true;
    for (const wake of waiting.splice(0)) wake({ done: true, value: undefined });
  });
  return {
    next() {
      const line = queued.shift();
      if (line !== undefined) return Promise.resolve({ done: false, value: line });
      if (ended) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => waiting.push(resolve));
    },
    close: () => lines.close(),
  };
}
