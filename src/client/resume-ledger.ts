import type { RoomStart } from "./client-types.ts";
import { ResumePoint } from "./resume-point.ts";

interface RoomEntry {
  readonly point: ResumePoint;
  caughtUp: boolean;
  /** Our own acknowledged ids above the resume point: the stream may still bring them (resume), not to be shown twice. */
  readonly own: Set<number>;
}

/** What a message from the stream is to the reader. */
export type Arrival =
  /** Not delivered before: show it. */
  | "new"
  /** At or below the room's resume point: a correct server sends none; dropped. */
  | "duplicate"
  /** A send of ours already acknowledged: it advances the room, and is not shown again. */
  | "own"
  /** For a room not followed (left meanwhile). */
  | "untracked";

/**
 * LiveChat's rooms: where each one's delivery stands (the last delivered id
 * and its epoch), whether it has caught up on this connection, and so which
 * rooms to rejoin from where after a reconnect.
 */
export class ResumeLedger {
  readonly #rooms = new Map<string, RoomEntry>();

  /** Follows a room from `start` (no change when it is followed already). */
  track(start: RoomStart): void {
    if (this.#rooms.has(start.room)) return;
    this.#rooms.set(start.room, { point: new ResumePoint(start), caughtUp: false, own: new Set() });
  }

  forget(room: string): void {
    this.#rooms.delete(room);
  }

  has(room: string): boolean {
    return this.#rooms.has(room);
  }

  position(room: string): { lastId: number | undefined; epoch: string } | undefined {
    const entry = this.#rooms.get(room);
    return entry && { lastId: entry.point.lastId, epoch: entry.point.epoch };
  }

  /** Where a join of `room` starts now. */
  start(room: string): { resumeAfterId: number | undefined; epoch: string } {
    return this.#rooms.get(room)?.point.start ?? { resumeAfterId: undefined, epoch: "" };
  }

  /** A new connection: every room to join again, each from where it stopped, none caught up yet. */
  rejoin(): RoomStart[] {
    return [...this.#rooms].map(([room, entry]) => {
      entry.caughtUp = false;
      return { room, ...entry.point.start };
    });
  }

  /** The server answered a join (or brought us into a room, which is followed from now on). */
  joined(room: string, epoch: string, resumed: boolean, headId: number): void {
    this.track({ room });
    this.#rooms.get(room)?.point.joined(epoch, resumed, headId);
  }

  arrival(room: string, id: number): Arrival {
    const entry = this.#rooms.get(room);
    if (!entry) return "untracked";
    if (id <= (entry.point.lastId ?? 0)) return "duplicate";
    const ours = entry.own.delete(id);
    this.#advance(entry, id);
    return ours ? "own" : "new";
  }

  /** Our send was stored as `id`: if the stream brings it too, it is not shown twice. */
  acknowledged(room: string, id: number): void {
    const entry = this.#rooms.get(room);
    if (entry && id > (entry.point.lastId ?? 0)) entry.own.add(id);
  }

  /** A room is at its head; false when it is not followed. */
  caughtUp(room: string, lastId: number): boolean {
    const entry = this.#rooms.get(room);
    if (!entry) return false;
    this.#advance(entry, lastId);
    entry.caughtUp = true;
    return true;
  }

  /** Messages up to `toId` are gone from the server: nothing to wait for below it. */
  gap(room: string, toId: number): void {
    const entry = this.#rooms.get(room);
    if (entry) this.#advance(entry, toId);
  }

  allCaughtUp(): boolean {
    for (const entry of this.#rooms.values()) if (!entry.caughtUp) return false;
    return true;
  }

  #advance(entry: RoomEntry, id: number): void {
    entry.point.advance(id);
    for (const own of entry.own) if (own <= id) entry.own.delete(own);
  }
}
