/**
 * Which messages the user has actually seen: in view in the message list
 * (at least half of one, or half the list for a long one) while the page is
 * visible and focused. Reports the newest such id; the model batches the
 * marker's moves.
 */
export class SeenTracker {
  readonly #observer: IntersectionObserver;
  readonly #ids = new WeakMap<Element, number>();
  readonly #inView = new Set<number>();
  readonly #seen: (id: number) => void;

  constructor(root: HTMLElement, seen: (id: number) => void) {
    this.#seen = seen;
    this.#observer = new IntersectionObserver((entries) => this.#changed(entries), {
      root,
      threshold: [0, 0.25, 0.5, 0.75, 1],
    });
  }

  watch(element: HTMLElement, id: number): void {
    this.#ids.set(element, id);
    this.#observer.observe(element);
  }

  forget(element: HTMLElement): void {
    this.#observer.unobserve(element);
    const id = this.#ids.get(element);
    if (id !== undefined) this.#inView.delete(id);
  }

  /** Another room, or another user: nothing watched any more. */
  reset(): void {
    this.#observer.disconnect();
    this.#inView.clear();
  }

  /** Says the newest message in view, if the user is looking at the page. */
  report(): void {
    if (document.visibilityState !== "visible" || !document.hasFocus()) return;
    let newest: number | undefined;
    for (const id of this.#inView) if (newest === undefined || id > newest) newest = id;
    if (newest !== undefined) this.#seen(newest);
  }

  #changed(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const id = this.#ids.get(entry.target);
      if (id === undefined) continue;
      const rootHeight = entry.rootBounds?.height ?? Number.POSITIVE_INFINITY;
      const visible =
        entry.isIntersecting &&
        (entry.intersectionRatio >= 0.5 || entry.intersectionRect.height >= rootHeight / 2);
      if (visible) this.#inView.add(id);
      else this.#inView.delete(id);
    }
    this.report();
  }
}
