import type { Identity, RoomId, UserId } from "./types.ts";

/** Who came online or went offline in one room during one tick. */
export interface PresenceChange {
  readonly room: RoomId;
  readonly joined: readonly Identity[];
  readonly left: readonly Identity[];
  readonly onlineCount: number;
}

interface Online {
  readonly username: string;
  streams: number;
}

interface RoomPresence {
  readonly online: Map<UserId, Online>;
  /**
   * Changes not yet announced, net of each other: a user who comes and goes
   * within one tick is never announced at all.
   */
  readonly pending: Map<UserId, { identity: Identity; online: boolean }>;
}

/**
 * Who is online in each room. A user is online while any of their streams is
 * in the room, so a second device changes nothing. Changes are collected and
 * handed out once per tick (`flush`), coalesced per room.
 */
export class Presence {
  readonly #rooms = new Map<RoomId, RoomPresence>();
  readonly #dirty = new Set<RoomId>();

  add(room: RoomId, identity: Identity): void {
    let here = this.#rooms.get(room);
    if (!here) {
      here = { online: new Map(), pending: new Map() };
      this.#rooms.set(room, here);
    }
    const online = here.online.get(identity.userId);
    if (online) {
      online.streams += 1;
      return;
    }
    here.online.set(identity.userId, { username: identity.username, streams: 1 });
    this.#note(room, here, identity, true);
  }

  remove(room: RoomId, identity: Identity): void {
    const here = this.#rooms.get(room);
    const online = here?.online.get(identity.userId);
    if (!here || !online) return;
    online.streams -= 1;
    if (online.streams > 0) return;
    here.online.delete(identity.userId);
    this.#note(room, here, identity, false);
    if (here.online.size === 0 && here.pending.size === 0) this.#rooms.delete(room);
  }

  count(room: RoomId): number {
    return this.#rooms.get(room)?.online.size ?? 0;
  }

  /** Everyone online in the room, sorted by name, then id. */
  list(room: RoomId): Identity[] {
    const here = this.#rooms.get(room);
    if (!here) return [];
    return [...here.online].map(([userId, { username }]) => ({ userId, username })).sort(byName);
  }

  /** The changes since the last flush, one entry per room that has any. */
  flush(): PresenceChange[] {
    const changes: PresenceChange[] = [];
    for (const room of this.#dirty) {
      const here = this.#rooms.get(room);
      if (!here || here.pending.size === 0) continue;
      const joined: Identity[] = [];
      const left: Identity[] = [];
      for (const { identity, online } of here.pending.values()) {
        (online ? joined : left).push(identity);
      }
      here.pending.clear();
      joined.sort(byName);
      left.sort(byName);
      changes.push({ room, joined, left, onlineCount: here.online.size });
      if (here.online.size === 0) this.#rooms.delete(room);
    }
    this.#dirty.clear();
    return changes;
  }

  #note(room: RoomId, here: RoomPresence, identity: Identity, online: boolean): void {
    const earlier = here.pending.get(identity.userId);
    // The opposite change within the same tick cancels out.
    if (earlier && earlier.online !== online) here.pending.delete(identity.userId);
    else here.pending.set(identity.userId, { identity, online });
    this.#dirty.add(room);
  }
}

function byName(a: Identity, b: Identity): number {
  if (a.username !== b.username) return a.username < b.username ? -1 : 1;
  return a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
}
