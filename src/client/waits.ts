/**
 * Waits both clients' loops share. Nothing here imports a transport, so the
 * web client may use it too.
 */

/** A wait of `ms` that `wake()` can cut short (a reconnect asked for now). */
export function wakeableDelay(ms: number): { readonly done: Promise<void>; wake(): void } {
  let wake = () => {};
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, wake };
}

/**
 * Waits up to `ms` for a queue to empty: resolves to 0 when it does (the
 * queue calls every function in `emptied` then), else to how many still wait.
 */
export function settleWithin(
  ms: number,
  waiting: () => number,
  emptied: Set<() => void>,
): Promise<number> {
  if (waiting() === 0) return Promise.resolve(0);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve(0);
    };
    const timer = setTimeout(() => {
      emptied.delete(done);
      resolve(waiting());
    }, ms);
    emptied.add(done);
  });
}
