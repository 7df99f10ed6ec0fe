import type { ChatClient, RoomEntry } from "../client/chat-client.ts";
import type { ChatView } from "./chat-view.ts";
import type { RoomTabs } from "./room-tabs.ts";

/** Messages seen within this long go to the server in one MarkRead per room. */
const MARK_AFTER_MS = 250;

/** What read markers need of the controller. */
export interface ReadContext {
  readonly client: ChatClient;
  readonly tabs: RoomTabs;
  readonly view: ChatView;
  /** The newest id this client has of a room (delivered or shown); undefined when none. */
  newest(room: string): number | undefined;
  /** The server speaks only the seed's protocol: it keeps no markers. */
  seedOnly(): boolean;
  tabsChanged(): void;
  /** The server listed our rooms (their notification levels, say). */
  roomsListed(rooms: readonly RoomEntry[]): void;
}

/**
 * Our read marker in each room, as the server keeps it: told by Joined,
 * ListRooms and the read events of our other sessions, and moved forward
 * here as the user sees messages (coalesced: a call per room at most every
 * quarter second). Markers only move forward. The tabs' unread counts are
 * the server's (ListRooms), taken again whenever another session of ours
 * reads a room.
 */
export class ReadMarks {
  readonly #ctx: ReadContext;
  readonly #markers = new Map<string, number>();
  /** The newest id seen per room, not yet sent. */
  readonly #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(ctx: ReadContext) {
    this.#ctx = ctx;
  }

  /** The newest id read in `room` (0: none). */
  marker(room: string): number {
    return this.#markers.get(room) ?? 0;
  }

  /** The server says our marker in `room` is `id`; moved by another session, the counts are asked again. */
  known(room: string, id: number): void {
    if (id <= this.marker(room)) return;
    this.#markers.set(room, id);
    if (room !== this.#ctx.tabs.current && this.#ctx.tabs.has(room)) void this.refreshCounts();
  }

  /** A message (or change) with `id` is shown in `room`: read, if the room is in view. */
  seen(room: string, id: number): void {
    const { view, tabs } = this.#ctx;
    if (this.#ctx.seedOnly() || id <= 0) return;
    if (!view.showsEveryRoom && room !== tabs.current) return;
    if (id <= this.marker(room) || id <= (this.#pending.get(room) ?? 0)) return;
    this.#pending.set(room, id);
    this.#timer ??= setTimeout(() => this.#flush(), MARK_AFTER_MS);
  }

  /**
   * `room` is shown now (switched to): the "new" divider above what arrived
   * since it was last read, and all of it is read from now on.
   */
  shown(room: string): void {
    const { tabs, view } = this.#ctx;
    if (room === "" || this.#ctx.seedOnly()) return;
    if (tabs.unreadWhenShown > 0) view.setDivider?.(room, this.marker(room));
    const newest = this.#ctx.newest(room);
    if (newest !== undefined) this.seen(room, newest);
  }

  /** The server's markers and unread counts, from a room list. */
  take(rooms: readonly RoomEntry[]): void {
    for (const r of rooms) {
      if (r.lastReadId > this.marker(r.room)) this.#markers.set(r.room, r.lastReadId);
      this.#ctx.tabs.setCounts(r.room, r.unread, r.mentions);
    }
    this.#ctx.roomsListed(rooms);
  }

  /** Each open room's unread and mention counts as the server counts them now. */
  async refreshCounts(): Promise<void> {
    try {
      this.take((await this.#ctx.client.listRooms({ pageSize: 1000 })).rooms);
      this.#ctx.tabsChanged();
    } catch {
      // The counts kept here stand until the next refresh.
    }
  }

  /** Stops sending (the chat is closing). */
  close(): void {
    clearTimeout(this.#timer);
    this.#pending.clear();
  }

  #flush(): void {
    this.#timer = undefined;
    for (const [room, id] of this.#pending) {
      this.#ctx.client.markRead(room, id).then(
        (now) => {
          if (now > this.marker(room)) this.#markers.set(room, now);
        },
        // Unreachable, or the room is gone: the next message seen tries again.
        () => {},
      );
    }
    this.#pending.clear();
  }
}
