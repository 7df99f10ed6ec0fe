import { fromWireError, type WireError } from "./sqlite-protocol.ts";
import { StoreUnavailableError } from "./store.ts";

// SQLite's primary result codes (an extended code's low byte) that mean "not
// now" rather than "never": https://sqlite.org/rescode.html
const BUSY = 5;
const LOCKED = 6;
const NOMEM = 7;
const READONLY = 8;
const IOERR = 10;
const FULL = 13;
const CANTOPEN = 14;
const PROTOCOL = 15;

function describe(path: string): string {
  return path === ":memory:" ? "the in-memory SQLite database" : `the SQLite database ${path}`;
}

function unavailableSentence(wire: WireError, path: string): string | undefined {
  if (wire.errcode === undefined) return undefined;
  const db = describe(path);
  switch (wire.errcode & 0xff) {
    case BUSY:
    case LOCKED:
      return `Another connection holds ${db} locked; nothing was stored. Try again shortly.`;
    case NOMEM:
      return "SQLite ran out of memory; nothing was stored. Try again, and check the server's memory.";
    case READONLY:
      return `Cannot write to ${db} (a read-only file, directory or disk); nothing was stored. Fix its permissions.`;
    case IOERR:
      return `An I/O error on ${db} (${wire.errstr ?? wire.message}); nothing was stored. Check the disk.`;
    case FULL:
      return "The database is full (disk or quota); nothing was stored. Free some space.";
    case CANTOPEN:
      return `Cannot open ${db}; nothing was stored. Check that its directory exists and is writable.`;
    case PROTOCOL:
      return `SQLite's locking on ${db} failed (another process is contending for it); nothing was stored. Try again.`;
    default:
      return undefined;
  }
}

/**
 * The error a caller sees for `wire`, which failed in the worker: a
 * StoreUnavailableError with a sentence a person can act on when the cause is
 * passing (busy, full, I/O...), else the error itself. The original is the
 * `cause` either way it is wrapped.
 */
export function storeError(wire: WireError, path: string): Error {
  const original = fromWireError(wire);
  const sentence = unavailableSentence(wire, path);
  return sentence === undefined
    ? original
    : new StoreUnavailableError(sentence, { cause: original });
}

/** As storeError, for a failed open: a lock held elsewhere means another server has the file. */
export function openError(wire: WireError, path: string): Error {
  const primary = wire.errcode === undefined ? undefined : wire.errcode & 0xff;
  if (primary === BUSY || primary === LOCKED) {
    return new StoreUnavailableError(
      `Another process is using the SQLite database ${path} (a grpc-chat server?); only one server may use a file at a time. Stop it, or choose another --db.`,
      { cause: fromWireError(wire) },
    );
  }
  return storeError(wire, path);
}

export function closedError(state: "closing" | "closed"): StoreUnavailableError {
  return new StoreUnavailableError(`The store is ${state}; nothing was stored.`);
}

export function workerStoppedError(path: string, cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    `The thread running ${describe(path)} stopped unexpectedly; nothing was stored, and nothing can be until the server restarts.`,
    { cause },
  );
}
