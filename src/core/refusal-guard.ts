import { ChatError } from "./chat-error.ts";
import { type Clock, sleep } from "./clock.ts";

/** Rate refusals one stream may earn in a window before it is ended. */
export const MAX_REFUSALS = 300;
export const REFUSAL_WINDOW_MS = 60_000;

/**
 * Keeps a stream that was told to wait (a send refused with retry-after)
 * from making the server refuse it again and again: its next request is not
 * read until the wait is over, so flow control slows the client where it
 * writes; one that still earns refusal after refusal is ended, saying why.
 * Refusing costs the server work everyone else waits behind.
 */
export class RefusalGuard {
  readonly #clock: Clock;
  #holdUntil = 0;
  #windowStart = 0;
  #refusals = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** A send of this stream was refused for its rate: nothing more is read for `retryAfterMs`. */
  refused(retryAfterMs: number): void {
    const now = this.#clock.now();
    this.#holdUntil = Math.max(this.#holdUntil, now + retryAfterMs);
    if (now - this.#windowStart > REFUSAL_WINDOW_MS) {
      this.#windowStart = now;
      this.#refusals = 0;
    }
    this.#refusals += 1;
  }

  /**
   * Before the stream's next send is read: waits out the last refusal's
   * retry-after; throws RESOURCE_EXHAUSTED (ending the stream) once it has
   * earned more refusals in a minute than any client that waits would.
   */
  async beforeNext(): Promise<void> {
    if (this.#refusals > MAX_REFUSALS) {
      throw new ChatError(
        "resource_exhausted",
        `This stream kept sending after being told to wait (${this.#refusals} sends refused within a minute for going over the send rate), so the server ended it. Reconnect, and after a refusal wait retry-after-ms before sending again.`,
      );
    }
    const waitMs = this.#holdUntil - this.#clock.now();
    if (waitMs > 0) await sleep(this.#clock, waitMs);
  }
}
