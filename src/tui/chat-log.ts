import type { ChatView, ConnectionState, DisplayItem } from "./chat-controller.ts";

/** A shown item with a number that stays its own while older items are dropped. */
export interface LoggedItem {
  readonly seq: number;
  readonly item: DisplayItem;
}

export interface ChatLogSnapshot {
  readonly items: readonly LoggedItem[];
  readonly state: ConnectionState;
}

/** How many items a full-screen client keeps; older ones are dropped. */
export const MAX_ITEMS = 1000;

/**
 * What the controller has shown, kept for React to read: a ChatView the
 * controller writes to and an external store (`subscribe`, `snapshot`) for
 * `useSyncExternalStore`. Each change makes a new snapshot, so React sees it.
 */
export class ChatLog implements ChatView {
  readonly #limit: number;
  readonly #listeners = new Set<() => void>();
  #snapshot: ChatLogSnapshot = { items: [], state: "connecting" };
  #nextSeq = 0;

  constructor(limit = MAX_ITEMS) {
    this.#limit = limit;
  }

  show(item: DisplayItem): void {
    const { items } = this.#snapshot;
    const kept = items.slice(Math.max(0, items.length - this.#limit + 1));
    this.#update({ ...this.#snapshot, items: [...kept, { seq: this.#nextSeq++, item }] });
  }

  setState(state: ConnectionState): void {
    if (state !== this.#snapshot.state) this.#update({ ...this.#snapshot, state });
  }

  readonly snapshot = (): ChatLogSnapshot => this.#snapshot;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  #update(snapshot: ChatLogSnapshot): void {
    this.#snapshot = snapshot;
    for (const listener of this.#listeners) listener();
  }
}
