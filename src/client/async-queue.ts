/**
 * A queue read with `for await`. It tells its producer when to stop
 * (`onHigh`) and start again (`onLow`), so a reader that falls behind slows
 * the gRPC stream down through flow control instead of growing memory.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiter: ((result: IteratorResult<T>) => void) | undefined;
  #ended = false;
  #paused = false;
  #ready: Array<() => void> = [];
  readonly #highWater: number;
  readonly #onHigh: () => void;
  readonly #onLow: () => void;

  constructor(options: { highWater?: number; onHigh?: () => void; onLow?: () => void } = {}) {
    this.#highWater = options.highWater ?? 256;
    this.#onHigh = options.onHigh ?? (() => {});
    this.#onLow = options.onLow ?? (() => {});
  }

  push(item: T): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: item, done: false });
      return;
    }
    this.#items.push(item);
    if (!this.#paused && this.#items.length >= this.#highWater) {
      this.#paused = true;
      this.#onHigh();
    }
  }

  /** Resolves at once, or once a reader has taken the queue back below half its high-water mark. */
  ready(): Promise<void> {
    if (!this.#paused || this.#ended) return Promise.resolve();
    return new Promise((resolve) => this.#ready.push(resolve));
  }

  /** Readers get what is queued, then the end. */
  end(): void {
    this.#ended = true;
    for (const resolve of this.#ready.splice(0)) resolve();
    if (this.#waiter && this.#items.length === 0) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) {
      if (this.#paused && this.#items.length < this.#highWater / 2) {
        this.#paused = false;
        this.#onLow();
        for (const resolve of this.#ready.splice(0)) resolve();
      }
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
