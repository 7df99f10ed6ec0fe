import {
  type ChatView,
  type ConnectionState,
  type DisplayItem,
  itemRoom,
  type RoomTab,
} from "./chat-controller.ts";

/** A shown item with a number that stays its own while older items are dropped. */
export interface LoggedItem {
  readonly seq: number;
  readonly item: DisplayItem;
}

export interface ChatLogSnapshot {
  readonly items: readonly LoggedItem[];
  readonly state: ConnectionState;
  readonly rooms: readonly RoomTab[];
  /** The room shown: items of other rooms wait in the log. */
  readonly current: string;
  /** The name we chat under, once the server has said ("" before). */
  readonly username: string;
  /** Set while the controller waits for a password: the input line is masked and answers it. */
  readonly secretPrompt?: string;
}

/** How many items a full-screen client keeps per room, besides older pages it loaded; older ones are dropped. */
export const MAX_ITEMS = 1000;
/** Older pages loaded with Page Up can raise the limit up to this. */
const MAX_LOADED = 10_000;

/**
 * What the controller has shown, kept for React to read: a ChatView the
 * controller writes to and an external store (`subscribe`, `snapshot`) for
 * `useSyncExternalStore`. Each change makes a new snapshot, so React sees it.
 */
export class ChatLog implements ChatView {
  #limit: number;
  readonly #listeners = new Set<() => void>();
  #snapshot: ChatLogSnapshot = {
    items: [],
    state: { kind: "connecting" },
    rooms: [],
    current: "",
    username: "",
  };
  #nextSeq = 0;
  #secret: ((value: string | undefined) => void) | undefined;

  constructor(limit = MAX_ITEMS) {
    this.#limit = limit;
  }

  /** Appends an item; a sent item whose key is already here replaces it (pending -> stored). */
  show(item: DisplayItem): void {
    const { items } = this.#snapshot;
    if (item.kind === "sent") {
      const index = items.findLastIndex((i) => i.item.kind === "sent" && i.item.key === item.key);
      if (index >= 0) {
        const replaced = items.slice();
        replaced[index] = { seq: (items[index] as LoggedItem).seq, item };
        this.#update({ ...this.#snapshot, items: replaced });
        return;
      }
    }
    // Each room keeps its own `limit` newest items: a busy room never pushes
    // a quiet one's scrollback out.
    const room = itemRoom(item);
    let kept: readonly LoggedItem[] = items;
    if (items.filter((i) => itemRoom(i.item) === room).length >= this.#limit) {
      const oldest = items.findIndex((i) => itemRoom(i.item) === room);
      kept = [...items.slice(0, oldest), ...items.slice(oldest + 1)];
    }
    this.#update({ ...this.#snapshot, items: [...kept, { seq: this.#nextSeq++, item }] });
  }

  /** Puts older items above everything shown; their numbers count down from the first. */
  prepend(older: readonly DisplayItem[]): void {
    const { items } = this.#snapshot;
    const first = items[0]?.seq ?? this.#nextSeq;
    this.#limit = Math.min(MAX_LOADED, this.#limit + older.length);
    const added = older.map((item, i) => ({ seq: first - older.length + i, item }));
    this.#update({ ...this.#snapshot, items: [...added, ...items] });
  }

  askSecret(prompt: string): Promise<string | undefined> {
    this.#secret?.(undefined);
    return new Promise((resolve) => {
      this.#secret = resolve;
      this.#update({ ...this.#snapshot, secretPrompt: prompt });
    });
  }

  /** The masked input line was entered (undefined: cancelled with Escape). */
  answerSecret(value: string | undefined): void {
    const resolve = this.#secret;
    this.#secret = undefined;
    const { secretPrompt: _, ...rest } = this.#snapshot;
    this.#update(rest);
    resolve?.(value);
  }

  setRooms(rooms: readonly RoomTab[], current: string, username: string): void {
    this.#update({ ...this.#snapshot, rooms, current, username });
  }

  setState(state: ConnectionState): void {
    this.#update({ ...this.#snapshot, state });
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
