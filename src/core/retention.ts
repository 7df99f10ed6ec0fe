import type { Store } from "../store/store.ts";
import type { Clock } from "./clock.ts";

/** How much history to keep; a field left out (or 0) is unlimited. */
export interface Retention {
  readonly maxAgeMs?: number;
  readonly maxPerRoom?: number;
}

export interface RetentionScheduleOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly retention: Retention;
  readonly intervalMs: number;
  /** Called after messages may have been removed (also when a prune failed part way). */
  readonly pruned?: () => void;
  readonly logger?: {
    info(details: object, message: string): void;
    warn(details: object, message: string): void;
  };
}

/**
 * Runs the store's retention on the clock: once now, then every
 * `intervalMs`. A tick that comes while a prune runs starts another when it
 * ends, with the time then, so prunes never overlap and none is lost. Returns
 * the function that stops it; nothing is scheduled when nothing is limited.
 */
export function scheduleRetention(options: RetentionScheduleOptions): () => void {
  const { store, clock, retention, logger } = options;
  if (!retention.maxAgeMs && !retention.maxPerRoom) return () => {};
  let running = false;
  let again = false;
  let stopped = false;
  const prune = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    store
      .prune({
        ...(retention.maxAgeMs ? { olderThanMs: clock.now() - retention.maxAgeMs } : {}),
        ...(retention.maxPerRoom ? { maxPerRoom: retention.maxPerRoom } : {}),
      })
      .then((removed) => {
        if (removed > 0) {
          options.pruned?.();
          logger?.info({ removed }, "retention removed old messages");
        }
      })
      .catch((error) => {
        options.pruned?.();
        logger?.warn({ err: error }, "retention failed; it runs again later");
      })
      .finally(() => {
        running = false;
        if (again && !stopped) prune();
      });
  };
  const stopTicks = clock.every(options.intervalMs, prune);
  prune();
  return () => {
    stopped = true;
    stopTicks();
  };
}
