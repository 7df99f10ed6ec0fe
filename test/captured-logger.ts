import { Writable } from "node:stream";
import pino, { type Logger } from "pino";

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A pino logger at debug whose lines a test reads back (pino writes to a stream synchronously). */
export function capturedLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

/** pino's number for `warn`: anything at it or above is more than a client's fault deserves. */
export const WARN = 40;
