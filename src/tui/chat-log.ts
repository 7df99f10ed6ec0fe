import {
  type ChatView,
  type ConnectionState,
  type DisplayItem,
  itemRoom,
  type RoomTab,
} from "./chat-controller.ts";
import type { TerminalSignals } from "./notify.ts";

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
  /** Who else is typing, per room. */
  readonly typing: ReadonlyMap<string, readonly string[]>;
  /** Message numbers are shown (/ids). */
  readonly showIds: boolean;
  /** Per room, the read marker the "new" divider is drawn after. */
  readonly dividers: ReadonlyMap<string, number>;
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
    typing: new Map(),
    showIds: false,
    dividers: new Map(),
  };
  #nextSeq = 0;
  #secret: ((value: string | undefined) => void) | undefined;
  /** Set by the full-screen runner, which owns the terminal. */
  terminal: TerminalSignals | undefined;

  constructor(limit = MAX_ITEMS) {
    this.#limit = limit;
  }

  /**
   * Appends an item; a sent item whose key is already here replaces it
   * (pending -> stored); a change or a reply's quote updates the message it
   * is about, in place.
   */
  show(item: DisplayItem): void {
    const { items } = this.#snapshot;
    if (item.kind === "change" || item.kind === "quote") {
      const room = item.kind === "change" ? item.entry.room : item.room;
      const id = item.kind === "change" ? item.line?.id : item.id;
      const index = items.findLastIndex(
        (i) =>
          (i.item.kind === "message" || i.item.kind === "sent") &&
          i.item.line.room === room &&
          i.item.line.id === id,
      );
      const shown = items[index];
      if (shown && (shown.item.kind === "message" || shown.item.kind === "sent")) {
        const updated =
          item.kind === "change" && item.line
            ? { ...shown.item, line: item.line }
            : { ...shown.item, ...(item.kind === "quote" ? { quote: item.quote } : {}) };
        const replaced = items.slice();
        replaced[index] = { seq: shown.seq, item: updated };
        this.#update({ ...this.#snapshot, items: replaced });
        return;
      }
      // A change to a message not shown here is said as a line of its own.
      if (item.kind === "quote") return;
    }
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

  setTyping(room: string, names: readonly string[]): void {
    const typing = new Map(this.#snapshot.typing);
    if (names.length === 0) typing.delete(room);
    else typing.set(room, names);
    this.#update({ ...this.#snapshot, typing });
  }

  setShowIds(showIds: boolean): void {
    this.#update({ ...this.#snapshot, showIds });
  }

  setDivider(room: string, lastReadId: number): void {
    this.#update({
      ...this.#snapshot,
      dividers: new Map(this.#snapshot.dividers).set(room, lastReadId),
    });
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
