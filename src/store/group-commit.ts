import type { AppendResult, NewMessage } from "./store.ts";

/** One append() call waiting for its group's commit. */
export interface WaitingAppend {
  readonly messages: readonly NewMessage[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions {
  /**
   * Commits one group and settles each of its calls on its own. A rejection
   * fails every call not yet settled.
   */
  readonly commit: (group: WaitingAppend[]) => Promise<void>;
  /**
   * The shortest time between the starts of two groups, in ms; an append
   * made after a quiet spell still waits for the end of this event-loop turn,
   * so the appends made with it go along. Absent: a group starts as soon as
   * there is one and the last is done.
   */
  readonly intervalMs?: number;
}

/**
 * Group commit, as both stores do it: appends that arrive while a group is
 * committing (or, with `intervalMs`, before the next group may start) wait
 * together and go as the next group, so that under load many calls share one
 * commit, while an idle append goes at once. One queue commits its groups one
 * at a time and in order.
 */
export class GroupCommit {
  readonly #commit: GroupCommitOptions["commit"];
  readonly #intervalMs: number | undefined;
  #waiting: WaitingAppend[] = [];
  #inFlight = false;
  #scheduled = false;
  #lastStart = Number.NEGATIVE_INFINITY;
  // Set by drain(): from then on groups go without waiting for the interval.
  #draining = false;
  #drained: (() => void)[] = [];

  constructor(options: GroupCommitOptions) {
    this.#commit = options.commit;
    this.#intervalMs = options.intervalMs;
  }

  /** Calls waiting for a group (not counting the one committing). */
  get waiting(): number {
    return this.#waiting.length;
  }

  append(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ messages, resolve, reject });
      this.#next();
    });
  }

  /**
   * Sends whatever waits without waiting for the interval, and resolves once
   * nothing waits or commits: what a store does before it closes.
   */
  drain(): Promise<void> {
    this.#draining = true;
    return new Promise((resolve) => {
      this.#drained.push(resolve);
      this.#start();
    });
  }

  #next(): void {
    if (this.#inFlight || this.#scheduled) return;
    if (this.#intervalMs === undefined || this.#draining) {
      this.#start();
      return;
    }
    this.#scheduled = true;
    const go = () => {
      this.#scheduled = false;
      this.#start();
    };
    const wait = this.#lastStart + this.#intervalMs - performance.now();
    if (wait > 0) setTimeout(go, wait);
    else setImmediate(go);
  }

  #start(): void {
    if (this.#inFlight) return;
    if (this.#waiting.length === 0) {
      for (const resolve of this.#drained.splice(0)) resolve();
      return;
    }
    const group = this.#waiting;
    this.#waiting = [];
    this.#inFlight = true;
    this.#lastStart = performance.now();
    // Through a promise, so that a commit that throws fails its group and no more.
    Promise.resolve()
      .then(() => this.#commit(group))
      .catch((error: unknown) => {
        // Calls already settled keep their answer.
        for (const call of group) call.reject(error);
      })
      .finally(() => {
        this.#inFlight = false;
        if (this.#waiting.length > 0) this.#next();
        else this.#start();
      });
  }
}
