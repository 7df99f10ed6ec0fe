import type { Logger } from "pino";

/**
 * Live-stream writes that took grpc-js's own path because the call's HTTP/2
 * stream could not be reached (grpc-js's insides changed, or an interceptor
 * wraps the call): each costs a copy and a frame per stream. Counted for
 * metrics, and said once in the log, so a change that moves production to
 * the slow path shows.
 */
export class FallbackWrites {
  count = 0;
  readonly #logger: Logger;
  #said = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  wrote(): void {
    this.count += 1;
    if (this.#said) return;
    this.#said = true;
    this.#logger.warn(
      "a live stream is written through grpc-js, not directly to its HTTP/2 stream: the fan-out now copies and frames every message per stream (is a server interceptor installed?)",
    );
  }
}
