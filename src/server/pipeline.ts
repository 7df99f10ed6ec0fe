/**
 * Lets a handler start work for the next request before the last one is done,
 * up to `limit` at once. A stream's sends are pipelined this way: the store
 * commits them in the order they were started (so ids and acks keep the
 * client's order), and a client's sends share group commits instead of each
 * waiting for the one before.
 */
/** Sends of one stream waiting for the store at once, so they share its group commits. */
export const STREAM_SENDS_IN_FLIGHT = 32;

export class Pipeline {
  readonly #limit: number;
  #running = 0;
  #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Starts tracking `work`, which must not reject; resolves once there is room for another. */
  add(work: Promise<void>): Promise<void> {
    this.#running += 1;
    void work.finally(() => {
      this.#running -= 1;
      for (const wake of this.#waiting.splice(0)) wake();
    });
    return this.#until(() => this.#running < this.#limit);
  }

  /** Resolves when everything started has finished. */
  drain(): Promise<void> {
    return this.#until(() => this.#running === 0);
  }

  async #until(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
}
