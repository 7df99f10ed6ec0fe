// When a failed call is worth another try: one policy for every client. It
// speaks in gRPC's status numbers, which Connect shares, and imports no
// transport, so the terminal client (grpc-js) and the web client
// (connect-web) both use it.

const CANCELLED = 1;
const UNKNOWN = 2;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const ABORTED = 10;
const INTERNAL = 13;
const UNAVAILABLE = 14;

/** Codes a new connection or a pause can fix; anything else is the server's final word. */
const RETRYABLE: ReadonlySet<number> = new Set([
  UNAVAILABLE,
  RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED,
  ABORTED,
  INTERNAL,
  UNKNOWN,
  CANCELLED,
]);

export function isRetryable(code: number): boolean {
  return RETRYABLE.has(code);
}

/**
 * What to do with a send the server refused: wait the time it named and send
 * again (a rate limit), send again after a short pause or on the next
 * connection, or give up and tell the user. RESOURCE_EXHAUSTED without a time
 * is a request that can never fit (a batch past the burst), so it is final.
 */
export type SendRetry =
  | { readonly action: "wait"; readonly ms: number }
  | { readonly action: "retry" }
  | { readonly action: "final" };

export function sendRetry(code: number, retryAfterMs: number | undefined): SendRetry {
  if (retryAfterMs !== undefined) return { action: "wait", ms: retryAfterMs };
  if (code === RESOURCE_EXHAUSTED || !isRetryable(code)) return { action: "final" };
  return { action: "retry" };
}
