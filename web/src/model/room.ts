import { type ChatLine, mentions } from "../../../src/client/chat-line.ts";
import { ResumePoint } from "../../../src/client/resume-point.ts";
import { isDirectRoom } from "../../../src/wire/room-names.ts";

/** A stored message as the page keeps it. */
export type Line = ChatLine;

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

/** What became of a message from the stream. */
export type Delivery = "dropped" | "known" | "new";

let noticeCount = 0;

export class Room {
  readonly name: string;
  readonly direct: boolean;
  /** For a DM: the other person's name ("" until known). */
  peer: string;
  topic = "";
  /** In the subscription; a DM can be listed (from ListRooms) without being open. */
  open: boolean;
  /** Where the stream stands in this room: what a new subscription resumes from. */
  readonly position = new ResumePoint();
  /** On the current subscription. */
  joined = false;
  caughtUp = false;
  /** The newest page of history was asked for. */
  filled = false;
  hasOlder = false;
  loadingOlder = false;
  /** The newest id the user has seen with the room in front of them. */
  readId: number;
  readonly members = new Map<string, string>();
  onlineCount = 0;
  readonly #lines = new Map<number, Line>();
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
  deliver(line: Line): Delivery {
    if (!this.position.deliver(line.id)) return "dropped";
    // Already shown from History or from our own send's ack: replaced, not doubled.
    const known = this.#lines.has(line.id);
    this.#put(line);
    return known ? "known" : "new";
  }

  /** Messages from History or an ack: shown; the resume point stays the stream's. */
  merge(lines: Iterable<Line>): void {
    for (const line of lines) if (!this.#lines.has(line.id)) this.#put(line);
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
    this.#notices = [];
    this.#items = undefined;
    this.filled = false;
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

  /** Messages from others the user has not seen, and whether one names them. */
  unread(selfId: string, selfName: string): { count: number; mentioned: boolean } {
    let count = 0;
    let mentioned = false;
    for (const line of this.#lines.values()) {
      if (line.id <= this.readId || line.system || line.userId === selfId) continue;
      count += 1;
      mentioned ||= mentions(line.text, selfName);
    }
    return { count, mentioned };
  }

  markRead(): void {
    this.readId = Math.max(this.readId, this.newestId() ?? 0);
  }

  #put(line: Line): void {
    this.#lines.set(line.id, line);
    this.#items = undefined;
  }
}
