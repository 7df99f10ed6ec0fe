import { ChatError } from "../core/chat-error.ts";
import { type Clock, sleep } from "../core/clock.ts";

/** Calls of one user held at once; past it (memory's bound), a call that did not wait is refused at once. */
const MAX_HELD_PER_USER = 1024;
/** Users remembered; the least recently refused are forgotten first. */
const MAX_USERS = 10_000;

interface Hold {
  until: number;
  held: number;
  /** Settles when the last held call has had its turn: held calls go one at a time. */
  turn: Promise<void>;
}

/**
 * Unary sends of a user who was told to wait (refused with retry-after) and
 * came back early are held until the wait is over, then let through one at
 * a time, each after the one before has its answer: a refusal among them
 * puts the rest behind the new wait. A client with many calls in flight thus
 * earns about one refusal per wait, not one per call, and the server stops
 * spending its time refusing it.
 */
export class UnaryHolds {
  readonly #clock: Clock;
  readonly #holds = new Map<string, Hold>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Runs `work` for `userId` once any wait they were told of is over; notes a new refusal. */
  async run<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const hold = this.#holds.get(userId);
    if (!hold || (hold.held === 0 && hold.until <= this.#clock.now())) {
      return this.#attempt(userId, work);
    }
    if (hold.held >= MAX_HELD_PER_USER) {
      const waitMs = Math.max(1, hold.until - this.#clock.now());
      throw new ChatError(
        "resource_exhausted",
        `You are sending while told to wait; wait ${Math.ceil(waitMs)} ms (retry-after-ms) before sending again.`,
        { retryAfterMs: waitMs },
      );
    }
    const previous = hold.turn;
    let done = () => {};
    hold.turn = new Promise<void>((resolve) => {
      done = resolve;
    });
    hold.held += 1;
    try {
      await previous;
      for (let waitMs = hold.until - this.#clock.now(); waitMs > 0; ) {
        await sleep(this.#clock, waitMs);
        waitMs = hold.until - this.#clock.now();
      }
      return await this.#attempt(userId, work);
    } finally {
      hold.held -= 1;
      done();
    }
  }

  async #attempt<T>(userId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ChatError && error.retryAfterMs)
        this.#refused(userId, error.retryAfterMs);
      throw error;
    }
  }

  #refused(userId: string, retryAfterMs: number): void {
    const until = this.#clock.now() + retryAfterMs;
    const hold = this.#holds.get(userId);
    if (hold) {
      hold.until = Math.max(hold.until, until);
      return;
    }
    this.#holds.set(userId, { until, held: 0, turn: Promise.resolve() });
    if (this.#holds.size > MAX_USERS) {
      for (const [key, old] of this.#holds) {
        if (old.held === 0) {
          this.#holds.delete(key);
          break;
        }
      }
    }
  }
}
