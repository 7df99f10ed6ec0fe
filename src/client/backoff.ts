export interface BackoffOptions {
  /** The first wait, in ms. Default 500. */
  readonly initialMs: number;
  /** No wait is longer than this, in ms. Default 30,000. */
  readonly maxMs: number;
  /** Each wait is this many times the one before (before jitter). Default 2. */
  readonly factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2 };

/**
 * Exponential backoff with jitter: each wait is between half and all of the
 * exponential step, so clients cut off together do not come back together.
 */
export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: Partial<BackoffOptions> = {}, random: () => number = Math.random) {
    this.#options = { ...DEFAULT_BACKOFF, ...options };
    this.#random = random;
  }

  /** How many waits since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next wait, in ms. */
  next(): number {
    const { initialMs, maxMs, factor } = this.#options;
    const step = Math.min(maxMs, initialMs * factor ** this.#attempt);
    this.#attempt += 1;
    return Math.round(step / 2 + (this.#random() * step) / 2);
  }

  /** After a healthy period: the next wait is short again. */
  reset(): void {
    this.#attempt = 0;
  }

  /**
   * A connection that ended after being live since `liveSinceMs` for at
   * least `healthyAfterMs` was healthy: the next wait is short again. One
   * that failed sooner (or never went live) keeps backing off.
   */
  resetIfHealthy(
    liveSinceMs: number | undefined,
    healthyAfterMs: number,
    nowMs: number = Date.now(),
  ): void {
    if (liveSinceMs !== undefined && nowMs - liveSinceMs >= healthyAfterMs) this.reset();
  }
}
