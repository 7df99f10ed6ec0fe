/**
 * One stream's paced sends, taking their turns in the order they were sent:
 * each waits for the send rate only once the one before it has been admitted
 * and started, so several may wait at once and still be stored in order (the
 * store commits appends in the order they are started).
 */
export class SendPacer {
  #previous: Promise<unknown> = Promise.resolve();

  /**
   * Runs `wait` once every earlier turn has started its work, then `start`
   * in the same step, and resolves to what `start` resolves to. A turn whose
   * wait fails rejects with that error, and the next turn goes ahead.
   */
  turn<T>(wait: () => Promise<void>, start: () => Promise<T>): Promise<T> {
    // `work` is wrapped so the next turn follows this one's start, not its end.
    const started = this.#previous.then(wait).then(() => ({ work: start() }));
    this.#previous = started.catch(() => {});
    return started.then(({ work }) => work);
  }
}
