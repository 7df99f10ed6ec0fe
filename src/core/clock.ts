/**
 * The only source of time in the core, so tests can move time without
 * sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Calls `task` every `ms` milliseconds until the returned function is
   * called. The system clock's timers do not keep the process alive.
   */
  every(ms: number, task: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, task) {
    const timer = setInterval(task, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** Resolves after `ms` on `clock`: real time, or a test's clock as it is moved. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const stop = clock.every(ms, () => {
      stop();
      resolve();
    });
  });
}
