import type { ChatClient } from "../client/chat-client.ts";

/** Messages seen within this long go to the server in one MarkRead per room. */
const MARK_AFTER_MS = 250;

/**
 * Our read marker in each room, as the server keeps it: told by Joined,
 * ListRooms and the read events of our other sessions, and moved forward
 * here as the user sees messages (coalesced, a call per room at most every
 * quarter second). Markers only move forward.
 */
export class ReadMarks {
  readonly #client: ChatClient;
  readonly #markers = new Map<string, number>();
  /** The newest id seen per room, not yet sent. */
  readonly #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(client: ChatClient) {
    this.#client = client;
  }

  /** The newest id read in `room` (0: none). */
  marker(room: string): number {
    return this.#markers.get(room) ?? 0;
  }

  /** The server says our marker in `room` is `id` (it never goes back). */
  known(room: string, id: number): void {
    if (id > this.marker(room)) this.#markers.set(room, id);
  }

  /** The user has seen `room` up to `id`. */
  seen(room: string, id: number): void {
    if (id <= this.marker(room) || id <= (this.#pending.get(room) ?? 0)) return;
    this.#pending.set(room, id);
    this.#timer ??= setTimeout(() => this.#flush(), MARK_AFTER_MS);
  }

  /** Stops sending (the chat is closing). */
  close(): void {
    clearTimeout(this.#timer);
    this.#pending.clear();
  }

  #flush(): void {
    this.#timer = undefined;
    for (const [room, id] of this.#pending) {
      this.#client.markRead(room, id).then(
        (now) => this.known(room, now),
        // Unreachable, or the room is gone: the next message seen tries again.
        () => {},
      );
    }
    this.#pending.clear();
  }
}
