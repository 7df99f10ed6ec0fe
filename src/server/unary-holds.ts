import { ChatError } from "../core/chat-error.ts";
import { type Clock, sleep } from "../core/clock.ts";

/** Calls of one user held at once; past it, a call that did not wait is refused at once. */
const MAX_HELD_PER_USER = 64;
/** Users remembered; the least recently refused are forgotten first. */
const MAX_USERS = 10_000;

interface Hold {
  until: number;
  held: number;
}

/**
 * Unary sends of a user who was told to wait (refused with retry-after) and
 * came back early are held until the wait is over before they are looked
 * at: a client flooding refused calls is slowed to the pace it was asked
 * for, and the server stops spending its time refusing it.
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
    const waitMs = hold ? hold.until - this.#clock.now() : 0;
    if (hold && waitMs > 0) {
      if (hold.held >= MAX_HELD_PER_USER) {
        throw new ChatError(
          "resource_exhausted",
          `You are sending while told to wait; wait ${Math.ceil(waitMs)} ms (retry-after-ms) before sending again.`,
          { retryAfterMs: waitMs },
        );
      }
      hold.held += 1;
      try {
        await sleep(this.#clock, waitMs);
      } finally {
        hold.held -= 1;
      }
    }
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
    this.#holds.set(userId, { until, held: 0 });
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
