import { StoreUnavailableError } from "./store.ts";

// SQLSTATE codes and classes: https://www.postgresql.org/docs/current/errcodes-appendix.html

export const UNIQUE_VIOLATION = "23505";
// The server aborted the transaction so that others could go on; nothing it
// did was kept, and the same call again can succeed.
const SERIALIZATION_FAILURE = "40001";
const DEADLOCK_DETECTED = "40P01";
// Classes: the connection failed; the server is out of disk, memory or
// connections; the server is shutting down or not yet accepting connections.
const CONNECTION_EXCEPTION = "08";
const INSUFFICIENT_RESOURCES = "53";
const SERVER_GOING_AWAY = "57P";

const TRANSIENT_CODES = [
  CONNECTION_EXCEPTION,
  INSUFFICIENT_RESOURCES,
  SERVER_GOING_AWAY,
  SERIALIZATION_FAILURE,
  DEADLOCK_DETECTED,
];

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

/**
 * Whether trying again later may work: the server cannot be reached, is
 * shutting down or out of resources, or the connection broke. Anything else
 * (a constraint, a bad value) fails the same way every time.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (typeof code === "string") {
    if (TRANSIENT_CODES.some((prefix) => code.startsWith(prefix))) return true;
    if (/^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(code)) {
      return true;
    }
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    error.message,
  );
}

/** The server answered, but chose to abort the transaction rather than let it collide with another. */
function gaveUp(error: unknown): boolean {
  const code = codeOf(error);
  return (
    typeof code === "string" &&
    (code.startsWith(SERIALIZATION_FAILURE) || code.startsWith(DEADLOCK_DETECTED))
  );
}

/**
 * `error` as a StoreUnavailableError when trying again may work, so callers
 * answer UNAVAILABLE; the message says whether PostgreSQL did not answer or
 * gave up on the transaction, so that a reader can tell an outage from a
 * collision. Anything else as it is.
 */
export function unavailableIfTransient(error: unknown, url?: string): unknown {
  if (error instanceof StoreUnavailableError || !isTransient(error)) return error;
  const where = url ? ` at ${new URL(url).host}` : "";
  const what = gaveUp(error) ? "gave up on the transaction" : "did not answer";
  return new StoreUnavailableError(
    `PostgreSQL${where} ${what} (${(error as Error).message}); the call stored nothing and can be retried.`,
    { cause: error },
  );
}
