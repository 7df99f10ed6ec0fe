import type { ChatClient } from "../api.ts";
import { failure, retryable } from "../api.ts";
import type { Room } from "./room.ts";

export interface ReadMarkersHost {
  readonly client: ChatClient;
  rooms(): Iterable<Room>;
  changed(): void;
  /** Asks the server for its unread counts again (ListRooms). */
  recount(): void;
}

/** At most one MarkRead per room this often: reading a fast room must not become a call per message. */
const FLUSH_EVERY_MS = 1_000;
/** How long after a marker moved short of the end the server's counts are asked for again. */
const RECOUNT_AFTER_MS = 1_000;
/** After a MarkRead that failed for a reason a later try can fix. */
const RETRY_AFTER_MS = 5_000;

/**
 * The user's read markers: moved forward as messages are seen (the view says
 * which), sent to the server in batches, and moved by the user's other
 * sessions (Event.read).
 */
export class ReadMarkers {
  readonly #host: ReadMarkersHost;
  /** Markers moved here and not yet sent, by room. */
  readonly #pending = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #recount: ReturnType<typeof setTimeout> | undefined;
  #lastFlush = 0;
  #stopped = false;

  constructor(host: ReadMarkersHost) {
    this.#host = host;
  }

  /** The user has seen the message `id` (and so everything above it) in `room`. */
  seen(room: Room, id: number): void {
    // At the newest message, the changes that followed it are read too, so
    // the marker reaches the room's head and no later entry counts as new.
    const target = id === room.newestId() ? Math.max(id, room.position.lastId ?? 0) : id;
    if (!room.markRead(target)) return;
    this.#pending.set(room.name, target);
    this.#schedule(Math.max(0, this.#lastFlush + FLUSH_EVERY_MS - Date.now()));
    this.#host.changed();
  }

  /** The server says where the marker is (another session of the user moved it). */
  moved(room: Room, id: number): void {
    room.markerKnown = true;
    if (!room.markRead(id)) return;
    if (id < (room.newestId() ?? 0)) this.#recountSoon();
    this.#host.changed();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#recount);
  }

  /** The counts are stale (the marker moved short of the end): asked again once markers settle. */
  #recountSoon(): void {
    if (this.#recount !== undefined || this.#stopped) return;
    this.#recount = setTimeout(() => {
      this.#recount = undefined;
      this.#host.recount();
    }, RECOUNT_AFTER_MS);
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, delayMs);
  }

  #flush(): void {
    this.#lastFlush = Date.now();
    const rooms = new Map([...this.#host.rooms()].map((room) => [room.name, room]));
    for (const [name, id] of this.#pending) {
      this.#pending.delete(name);
      this.#host.client.markRead({ room: name, lastReadId: BigInt(id) }).then(
        (response) => {
          const room = rooms.get(name);
          if (room?.markRead(Number(response.lastReadId))) this.#host.changed();
        },
        (error: unknown) => {
          // Unsendable for good (the room is gone): the marker stays where the page has it.
          if (this.#stopped || !retryable(failure(error).code)) return;
          this.#pending.set(name, Math.max(id, this.#pending.get(name) ?? 0));
          this.#schedule(RETRY_AFTER_MS);
        },
      );
    }
  }
}
