import type { RoomPresenceChange } from "../bus/bus.ts";
import type { Identity, RoomId, UserId } from "./types.ts";

/** Who came online or went offline in one room during one tick. */
export interface PresenceChange {
  readonly room: RoomId;
  readonly joined: readonly Identity[];
  readonly left: readonly Identity[];
  readonly onlineCount: number;
  /**
   * Those of `joined` and `left` whose change this node made (its own
   * stream came or went): this node stores their join or leave as a line of
   * the room's log, and the other nodes, which announce the same change, do not.
   */
  readonly here: ReadonlySet<UserId>;
}

interface Online {
  readonly username: string;
  /** This node's streams of the user in the room. */
  streams: number;
  /** Other nodes where the user is in the room. */
  readonly nodes: Set<string>;
}

/** Changes not yet handed out, net of each other: a user who comes and goes within one tick is never told of. */
type Pending = Map<UserId, { identity: Identity; online: boolean; here: boolean }>;

interface RoomPresence {
  readonly online: Map<UserId, Online>;
  /** For this node's streams: what they see announced. */
  readonly announce: Pending;
  /** For the other nodes: this node's own users coming and going. */
  readonly local: Pending;
}

/**
 * Who is online in each room, across the cluster. A user is online while any
 * of their streams is in the room, on this node or on another, so a second
 * device changes nothing. Changes are collected and handed out once per tick,
 * coalesced per room: `flush` for this node's streams, `flushLocal` for the
 * other nodes (this node's own users only).
 */
export class Presence {
  readonly #rooms = new Map<RoomId, RoomPresence>();
  readonly #dirty = new Set<RoomId>();
  readonly #localDirty = new Set<RoomId>();

  /** A stream of this node entered the room. */
  add(room: RoomId, identity: Identity): void {
    const { here, online, wasOnline } = this.#entry(room, identity);
    online.streams += 1;
    if (online.streams === 1) this.#note(here.local, this.#localDirty, room, identity, true);
    if (!wasOnline) this.#note(here.announce, this.#dirty, room, identity, true, true);
  }

  /** A stream of this node left the room. */
  remove(room: RoomId, identity: Identity): void {
    const here = this.#rooms.get(room);
    const online = here?.online.get(identity.userId);
    if (!here || !online || online.streams === 0) return;
    online.streams -= 1;
    if (online.streams > 0) return;
    this.#note(here.local, this.#localDirty, room, identity, false);
    this.#dropIfOffline(room, here, identity, online, true);
    this.#forgetIfEmpty(room, here);
  }

  /** Another node says the user is in the room there. */
  addRemote(node: string, room: RoomId, identity: Identity): void {
    const { here, online, wasOnline } = this.#entry(room, identity);
    online.nodes.add(node);
    if (!wasOnline) this.#note(here.announce, this.#dirty, room, identity, true);
  }

  /** Another node says the user left the room there (or the node is gone). */
  removeRemote(node: string, room: RoomId, userId: UserId): void {
    const here = this.#rooms.get(room);
    const online = here?.online.get(userId);
    if (!here || !online?.nodes.delete(node)) return;
    this.#dropIfOffline(room, here, { userId, username: online.username }, online, false);
    this.#forgetIfEmpty(room, here);
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
    return this.#drain(this.#dirty, "announce", (room, joined, left, here, byThisNode) => {
      joined.sort(byName);
      left.sort(byName);
      return { room, joined, left, onlineCount: here.online.size, here: byThisNode };
    });
  }

  /** This node's own users who came or went since the last call, per room: for the other nodes. */
  flushLocal(): RoomPresenceChange[] {
    return this.#drain(this.#localDirty, "local", (room, joined, left) => [
      room,
      joined,
      left.map((identity) => identity.userId),
    ]);
  }

  /** Empties one kind of pending change in each dirty room, one `make` per room that has any. */
  #drain<T>(
    dirty: Set<RoomId>,
    kind: "announce" | "local",
    make: (
      room: RoomId,
      joined: Identity[],
      left: Identity[],
      here: RoomPresence,
      byThisNode: Set<UserId>,
    ) => T,
  ): T[] {
    const changes: T[] = [];
    for (const room of dirty) {
      const here = this.#rooms.get(room);
      const pending = here?.[kind];
      if (!here || !pending || pending.size === 0) continue;
      const joined: Identity[] = [];
      const left: Identity[] = [];
      const byThisNode = new Set<UserId>();
      for (const { identity, online, here: mine } of pending.values()) {
        (online ? joined : left).push(identity);
        if (mine) byThisNode.add(identity.userId);
      }
      pending.clear();
      changes.push(make(room, joined, left, here, byThisNode));
      this.#forgetIfEmpty(room, here);
    }
    dirty.clear();
    return changes;
  }

  /** Every user with a stream of this node in each room: this node's whole presence. */
  localSnapshot(): RoomPresenceChange[] {
    const rooms: RoomPresenceChange[] = [];
    for (const [room, here] of this.#rooms) {
      const joined: Identity[] = [];
      for (const [userId, { username, streams }] of here.online) {
        if (streams > 0) joined.push({ userId, username });
      }
      if (joined.length > 0) rooms.push([room, joined, []]);
    }
    return rooms;
  }

  #entry(
    room: RoomId,
    identity: Identity,
  ): { here: RoomPresence; online: Online; wasOnline: boolean } {
    let here = this.#rooms.get(room);
    if (!here) {
      here = { online: new Map(), announce: new Map(), local: new Map() };
      this.#rooms.set(room, here);
    }
    let online = here.online.get(identity.userId);
    const wasOnline = online !== undefined;
    if (!online) {
      online = { username: identity.username, streams: 0, nodes: new Set() };
      here.online.set(identity.userId, online);
    }
    return { here, online, wasOnline };
  }

  #dropIfOffline(
    room: RoomId,
    here: RoomPresence,
    identity: Identity,
    online: Online,
    byThisNode: boolean,
  ): void {
    if (online.streams > 0 || online.nodes.size > 0) return;
    here.online.delete(identity.userId);
    this.#note(here.announce, this.#dirty, room, identity, false, byThisNode);
  }

  #note(
    pending: Pending,
    dirty: Set<RoomId>,
    room: RoomId,
    identity: Identity,
    online: boolean,
    byThisNode = false,
  ): void {
    const earlier = pending.get(identity.userId);
    // The opposite change within the same tick cancels out.
    if (earlier && earlier.online !== online) pending.delete(identity.userId);
    else pending.set(identity.userId, { identity, online, here: byThisNode });
    dirty.add(room);
  }

  #forgetIfEmpty(room: RoomId, here: RoomPresence): void {
    if (here.online.size === 0 && here.announce.size === 0 && here.local.size === 0) {
      this.#rooms.delete(room);
    }
  }
}

function byName(a: Identity, b: Identity): number {
  if (a.username !== b.username) return a.username < b.username ? -1 : 1;
  return a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
}
