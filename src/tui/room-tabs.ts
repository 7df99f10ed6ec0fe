import type { ChatLine } from "../client/chat-client.ts";
import { mentions } from "../client/chat-line.ts";

/** One open room as the views show it. */
export interface RoomTab {
  readonly room: string;
  /** "#general", or "@bob" for a direct message. */
  readonly label: string;
  /** Unread messages: the server's count (ListRooms), and those that arrived since while another room was shown. */
  readonly unread: number;
  /** Of those, how many name you. */
  readonly mentions: number;
}

interface TabState {
  label: string;
  unread: number;
  mentions: number;
  /** The oldest message id shown, for loading older history; 0 when none. */
  oldestId: number;
  olderExhausted: boolean;
}

/**
 * The rooms the terminal client has open, in the order they were opened
 * (Alt+1 is the first), which one is shown, and what is unread in the others.
 */
export class RoomTabs {
  readonly #tabs = new Map<string, TabState>();
  #current = "";
  /** How many messages the shown room had unread when it was shown. */
  #unreadWhenShown = 0;

  get current(): string {
    return this.#current;
  }

  has(room: string): boolean {
    return this.#tabs.has(room);
  }

  /** Opens a tab (if new) and, with `show`, makes it the current one. */
  open(room: string, label: string, show: boolean): void {
    const tab = this.#tabs.get(room);
    if (tab) tab.label = label;
    else
      this.#tabs.set(room, { label, unread: 0, mentions: 0, oldestId: 0, olderExhausted: false });
    if (show || this.#current === "") this.show(room);
  }

  /** Closes a tab; the one before it (or the first) is shown if it was current. */
  close(room: string): void {
    const rooms = [...this.#tabs.keys()];
    const index = rooms.indexOf(room);
    if (index < 0) return;
    this.#tabs.delete(room);
    if (this.#current === room) this.#current = rooms[index - 1] ?? rooms[index + 1] ?? "";
  }

  show(room: string): boolean {
    const tab = this.#tabs.get(room);
    if (!tab) return false;
    if (this.#current !== room) this.#unreadWhenShown = tab.unread;
    this.#current = room;
    tab.unread = 0;
    tab.mentions = 0;
    return true;
  }

  /** How many messages the shown room had unread when it was shown (for the "new" divider). */
  get unreadWhenShown(): number {
    return this.#unreadWhenShown;
  }

  /** The server's unread and mention counts for a room (ListRooms); the shown room has none. */
  setCounts(room: string, unread: number, mentions: number): void {
    const tab = this.#tabs.get(room);
    if (!tab || room === this.#current) return;
    tab.unread = unread;
    tab.mentions = mentions;
  }

  /** The tab `steps` away from the current one, wrapping around. */
  cycle(steps: number): string {
    const rooms = [...this.#tabs.keys()];
    const index = rooms.indexOf(this.#current);
    const next = rooms[(index + steps + rooms.length * 2) % rooms.length];
    if (next !== undefined) this.show(next);
    return this.#current;
  }

  /** The tab at 1-based `position`, if there is one. */
  at(position: number): string | undefined {
    return [...this.#tabs.keys()][position - 1];
  }

  /** A tab by its room or label ("general", "#general", "@bob"). */
  find(name: string): string | undefined {
    for (const [room, tab] of this.#tabs) {
      if (room === name || tab.label === name || tab.label.slice(1) === name) return room;
    }
    return undefined;
  }

  /** Counts a message in an unshown room; resolves whether it names `me`. */
  note(line: ChatLine, me: string): boolean {
    const tab = this.#tabs.get(line.room);
    const named = !line.system && line.username !== me && mentions(line.text, me);
    if (!tab || line.room === this.#current || line.system || line.change) return named;
    tab.unread += 1;
    if (named) tab.mentions += 1;
    return named;
  }

  label(room: string): string {
    return this.#tabs.get(room)?.label ?? room;
  }

  /** Where older history of `room` starts, and whether there is none. */
  older(room: string): { oldestId: number; exhausted: boolean } {
    const tab = this.#tabs.get(room);
    return { oldestId: tab?.oldestId ?? 0, exhausted: tab?.olderExhausted ?? true };
  }

  noteShown(room: string, id: number): void {
    const tab = this.#tabs.get(room);
    if (tab && id > 0 && (tab.oldestId === 0 || id < tab.oldestId)) tab.oldestId = id;
  }

  exhausted(room: string): void {
    const tab = this.#tabs.get(room);
    if (tab) tab.olderExhausted = true;
  }

  list(): RoomTab[] {
    return [...this.#tabs].map(([room, t]) => ({
      room,
      label: t.label,
      unread: t.unread,
      mentions: t.mentions,
    }));
  }
}
