import type { Clock } from "./clock.ts";

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * Token buckets, one per key (a user, a client address): each holds up to
 * `burst` tokens and refills at `perSecond`. A rate of 0 turns the limit off.
 * Memory stays bounded: a bucket that has refilled completely is the same as
 * no bucket, so past `maxKeys` the full ones are dropped, and if none is full
 * the oldest goes (its owner gets a fresh burst, which only errs towards
 * letting someone through).
 */
export class RateLimiter {
  readonly perSecond: number;
  readonly burst: number;
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(clock: Clock, perSecond: number, burst: number, maxKeys = 100_000) {
    this.#clock = clock;
    this.perSecond = perSecond;
    this.burst = Math.max(1, burst);
    this.#maxKeys = maxKeys;
  }

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  /**
   * Takes `cost` tokens for `key` and resolves to 0, or takes nothing and
   * resolves to how many ms until there will be enough. A cost above the
   * burst can never be paid: Infinity.
   */
  take(key: string, cost = 1): number {
    if (!this.enabled) return 0;
    if (cost > this.burst) return Number.POSITIVE_INFINITY;
    const bucket = this.#refilled(key);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil(((cost - bucket.tokens) / this.perSecond) * 1000);
  }

  #refilled(key: string): Bucket {
    const now = this.#clock.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now);
      bucket = { tokens: this.burst, atMs: now };
      this.#buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, now - bucket.atMs);
    bucket.tokens = Math.min(this.burst, bucket.tokens + (elapsed * this.perSecond) / 1000);
    bucket.atMs = now;
    return bucket;
  }

  #evict(now: number): void {
    const fullAfterMs = (this.burst / this.perSecond) * 1000;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.atMs >= fullAfterMs) this.#buckets.delete(key);
    }
    if (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
  }
}

/** "0.4 s", "3 s", "2 min": how long to wait, for a person. */
export function describeWait(ms: number): string {
  if (ms < 10_000) return `${(Math.max(ms, 100) / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.ceil(ms / 1000)} s`;
  return `${Math.ceil(ms / 60_000)} min`;
}
