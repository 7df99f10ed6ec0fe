import { mentions } from "../../../src/client/chat-line.ts";
import { ResumePoint } from "../../../src/client/resume-point.ts";
import { isDirectRoom } from "../../../src/wire/room-names.ts";
import { applyChange, type Change, type Line } from "./lines.ts";

export type { Line };

/** A line of the page's own (a gap, a reset, a topic change): not history. */
export interface Notice {
  readonly key: string;
  /** Shown after the message with this id, so older pages load above it. */
  readonly afterId: number;
  readonly text: string;
  readonly timeMs: number;
}

export type Item =
  | { readonly kind: "line"; readonly line: Line }
  | { readonly kind: "notice"; readonly notice: Notice };

/** What became of a message (or change entry) from the stream. */
export type Delivery = "dropped" | "known" | "new";

/** The server's unread figures for a room (ListRooms), and the state they were counted at. */
export interface ListedUnread {
  readonly count: number;
  readonly mentions: number;
  /** The marker they were counted above. */
  readonly readId: number;
  /** The room's newest id then: later messages are counted here. */
  readonly headId: number;
}

/** Changes to messages not loaded yet: kept (this many at most) for when History brings them. */
const MAX_HELD_CHANGES = 500;

let noticeCount = 0;

export class Room {
  readonly name: string;
  readonly direct: boolean;
  /** For a DM: the other person's name ("" until known). */
  peer: string;
  topic = "";
  /** In the subscription; a DM can be listed (from ListRooms) without being open. */
  open: boolean;
  /** Where the stream stands in this room (change entries included): what a new subscription resumes from. */
  readonly position = new ResumePoint();
  /** On the current subscription. */
  joined = false;
  caughtUp = false;
  /** The newest page of history was asked for. */
  filled = false;
  /** The newest page of history has arrived. */
  loaded = false;
  hasOlder = false;
  loadingOlder = false;
  /** The user's read marker: the newest id read, on any of their sessions. */
  readId: number;
  /** The server has said where the marker is (a join, or the room list). */
  markerKnown = false;
  /** The server's counts, until the marker moves past what they were counted at. */
  listed: ListedUnread | undefined;
  /**
   * Where "New" is drawn while the room is in front: the marker as it was
   * when the room was opened (undefined: nothing new then, or not known yet).
   */
  divider: number | undefined;
  /**
   * The divider is still to be placed: the room was opened (or the page
   * loaded with it in front) before its marker or history arrived.
   */
  dividerPending = true;
  readonly members = new Map<string, string>();
  onlineCount = 0;
  /** Originals of replies that are not loaded, fetched one by one (null: not there). */
  readonly quotes = new Map<number, Line | null>();
  readonly #lines = new Map<number, Line>();
  /** Change entries whose target is not loaded, by target id, in log order. */
  readonly #held = new Map<number, Change[]>();
  #heldCount = 0;
  #notices: Notice[] = [];
  #items: Item[] | undefined;

  constructor(name: string, options: { peer?: string; open?: boolean; readId?: number } = {}) {
    this.name = name;
    this.direct = isDirectRoom(name);
    this.peer = options.peer ?? "";
    this.open = options.open ?? true;
    this.readId = options.readId ?? 0;
  }

  get label(): string {
    return this.direct ? this.peer || "(someone)" : this.name;
  }

  /** A message from the stream: dropped when the stream already brought it. */
  deliver(line: Line, selfId: string): Delivery {
    if (!this.position.deliver(line.id)) return "dropped";
    // Already shown from History or from our own send's ack: not doubled, and
    // History's state (edits, reactions) is never older than this first one.
    if (this.#lines.has(line.id)) return "known";
    this.#put(this.#withHeld(line, selfId));
    return "new";
  }

  /**
   * A change entry from the stream: it advances the resume point like any
   * entry of the log, and is applied to its message when that is loaded (else
   * held until History brings it).
   */
  deliverChange(change: Change, selfId: string): Delivery {
    if (!this.position.deliver(change.id)) return "dropped";
    this.applyChange(change, selfId);
    return "new";
  }

  applyChange(change: Change, selfId: string): void {
    const { targetId } = change.change;
    const line = this.#lines.get(targetId);
    if (line !== undefined) {
      this.#put(applyChange(line, change, selfId));
      return;
    }
    const quoted = this.quotes.get(targetId);
    if (quoted) this.quotes.set(targetId, applyChange(quoted, change, selfId));
    const held = this.#held.get(targetId) ?? [];
    held.push(change);
    this.#held.set(targetId, held);
    this.#heldCount += 1;
    if (this.#heldCount > MAX_HELD_CHANGES) {
      const oldest = this.#held.keys().next().value;
      if (oldest !== undefined) {
        this.#heldCount -= this.#held.get(oldest)?.length ?? 0;
        this.#held.delete(oldest);
      }
    }
  }

  /** Messages from History or an ack, in their current state: shown; the resume point stays the stream's. */
  merge(lines: Iterable<Line>, selfId: string): void {
    for (const line of lines) {
      if (!this.#lines.has(line.id)) this.#put(this.#withHeld(line, selfId));
    }
  }

  /** The stream vouches that everything up to `id` was delivered (caught_up, gap). */
  advance(id: number): void {
    this.position.advance(id);
  }

  notice(text: string, afterId = this.newestId() ?? 0): void {
    noticeCount += 1;
    this.#notices.push({ key: `n${noticeCount}`, afterId, text, timeMs: Date.now() });
    this.#items = undefined;
  }

  /** The server's history is another one now: what is shown belongs to the old one. */
  clear(): void {
    this.#lines.clear();
    this.#held.clear();
    this.#heldCount = 0;
    this.quotes.clear();
    this.#notices = [];
    this.#items = undefined;
    this.filled = false;
    this.loaded = false;
    this.hasOlder = false;
  }

  oldestId(): number | undefined {
    return this.items().find((item) => item.kind === "line")?.line.id;
  }

  newestId(): number | undefined {
    let newest: number | undefined;
    for (const id of this.#lines.keys()) if (newest === undefined || id > newest) newest = id;
    return newest;
  }

  has(id: number): boolean {
    return this.#lines.has(id);
  }

  line(id: number): Line | undefined {
    return this.#lines.get(id);
  }

  /** Messages and notices in the order shown: by id, a notice after the message it followed. */
  items(): readonly Item[] {
    if (this.#items === undefined) {
      const lines: Item[] = [...this.#lines.values()].map((line) => ({ kind: "line", line }));
      const notices: Item[] = this.#notices.map((notice) => ({ kind: "notice", notice }));
      const position = (item: Item) =>
        item.kind === "line" ? item.line.id : item.notice.afterId + 0.5;
      this.#items = [...lines, ...notices].sort((a, b) => position(a) - position(b));
    }
    return this.#items;
  }

  /**
   * Messages from others above the read marker, and how many name the
   * user: the server's counts (ListRooms) while the marker is where it was
   * counted, plus what arrived since; only what is loaded once it has moved.
   */
  unread(
    selfId: string,
    selfName: string,
  ): { count: number; mentions: number; mentioned: boolean } {
    const listed = this.listed !== undefined && this.readId <= this.listed.readId;
    const above = listed ? Math.max(this.readId, this.listed?.headId ?? 0) : this.readId;
    let count = listed ? (this.listed?.count ?? 0) : 0;
    let named = listed ? (this.listed?.mentions ?? 0) : 0;
    for (const line of this.#lines.values()) {
      if (!isUnread(line, above, selfId)) continue;
      count += 1;
      if (mentions(line.text, selfName)) named += 1;
    }
    return { count, mentions: named, mentioned: named > 0 };
  }

  /** Whether a message from someone else waits above the marker among those loaded. */
  hasUnreadLoaded(selfId: string): boolean {
    for (const line of this.#lines.values()) if (isUnread(line, this.readId, selfId)) return true;
    return false;
  }

  /** The marker moved (here or on another session); it never goes back. */
  markRead(id: number): boolean {
    if (id <= this.readId) return false;
    this.readId = id;
    return true;
  }

  /** The "New" divider's place, once the marker and the newest page are both known. */
  placeDivider(selfId: string): void {
    if (!this.dividerPending || !this.markerKnown || !this.loaded) return;
    this.dividerPending = false;
    this.divider = this.hasUnreadLoaded(selfId) ? this.readId : undefined;
  }

  #withHeld(line: Line, selfId: string): Line {
    const held = this.#held.get(line.id);
    if (held === undefined) return line;
    this.#held.delete(line.id);
    this.#heldCount -= held.length;
    return held.reduce((current, change) => applyChange(current, change, selfId), line);
  }

  #put(line: Line): void {
    this.#lines.set(line.id, line);
    this.#items = undefined;
  }
}

function isUnread(line: Line, above: number, selfId: string): boolean {
  return line.id > above && !line.system && !line.deleted && line.userId !== selfId;
}
