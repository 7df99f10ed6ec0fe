import type { Bus, NodeReport, RoomPresenceChange } from "../bus/bus.ts";
import type { Clock } from "./clock.ts";
import type { Presence } from "./presence.ts";
import type { RoomId, UserId } from "./types.ts";

export interface NodePresenceOptions {
  readonly bus: Bus;
  readonly presence: Presence;
  readonly clock: Clock;
  /** A node silent this long is taken for dead: its users go offline. */
  readonly expiryMs: number;
  readonly log?: (message: string, details: object) => void;
}

interface KnownNode {
  /** The last change applied; -1 until the node's whole presence has arrived. */
  seq: number;
  heardMs: number;
  askedMs: number;
  readonly rooms: Map<RoomId, Set<UserId>>;
}

/**
 * Presence across nodes. Each node sends its own users' comings and goings
 * (numbered), a heartbeat naming the last number, and its whole presence when
 * a node joins or asks. Changes are idempotent (a user is added or removed
 * per node), so a change applied twice or after the whole state is harmless;
 * a lost one is noticed by its number and repaired by asking for the whole
 * state. A node not heard from for `expiryMs` is dropped with its users.
 */
export class NodePresence {
  readonly #bus: Bus;
  readonly #presence: Presence;
  readonly #clock: Clock;
  readonly #expiryMs: number;
  readonly #log: (message: string, details: object) => void;
  readonly #nodes = new Map<string, KnownNode>();
  #seq = 0;

  constructor(options: NodePresenceOptions) {
    this.#bus = options.bus;
    this.#presence = options.presence;
    this.#clock = options.clock;
    this.#expiryMs = options.expiryMs;
    this.#log = options.log ?? (() => {});
  }

  /** Other nodes heard from and not yet expired. */
  get nodeCount(): number {
    return this.#nodes.size;
  }

  /** Joining (at start, or after the bus was lost): asks every node for its presence and sends ours. */
  hello(): void {
    this.#send({ type: "hello" });
    this.#sendWhole();
  }

  /** Sends this node's changes since the last call. */
  publishChanges(): void {
    const rooms = this.#presence.flushLocal();
    if (rooms.length === 0) return;
    this.#seq += 1;
    this.#send({ type: "presence", seq: this.#seq, full: false, rooms });
  }

  /** Says this node is alive, and drops the nodes that have gone silent. */
  heartbeat(): void {
    this.#send({ type: "heartbeat", seq: this.#seq });
    const deadline = this.#clock.now() - this.#expiryMs;
    for (const [node, known] of this.#nodes) {
      if (known.heardMs < deadline) {
        this.#log("a node went silent; its users are offline", { node, silentMs: this.#expiryMs });
        this.#drop(node);
      }
    }
  }

  /** Leaving: the others take this node's users offline at once. */
  bye(): void {
    this.#send({ type: "bye" });
  }

  receive(origin: string, report: NodeReport): void {
    if (report.type === "bye") {
      this.#drop(origin);
      return;
    }
    const known = this.#heard(origin);
    switch (report.type) {
      case "hello":
        this.#sendWhole();
        return;
      case "resend":
        if (report.to === this.#bus.nodeId) this.#sendWhole();
        return;
      case "heartbeat":
        if (report.seq !== known.seq) this.#ask(origin, known);
        return;
      case "presence":
        if (report.full) this.#replace(origin, known, report.rooms);
        else {
          this.#apply(origin, known, report.rooms);
          if (report.seq !== known.seq + 1) this.#ask(origin, known);
        }
        if (report.full || known.seq >= 0) known.seq = report.seq;
    }
  }

  #heard(node: string): KnownNode {
    let known = this.#nodes.get(node);
    if (!known) {
      known = { seq: -1, heardMs: 0, askedMs: Number.NEGATIVE_INFINITY, rooms: new Map() };
      this.#nodes.set(node, known);
    }
    known.heardMs = this.#clock.now();
    return known;
  }

  /** Asks for a node's whole presence, at most once per expiry period while it does not come. */
  #ask(node: string, known: KnownNode): void {
    const now = this.#clock.now();
    if (now - known.askedMs < this.#expiryMs) return;
    known.askedMs = now;
    this.#send({ type: "resend", to: node });
  }

  #apply(node: string, known: KnownNode, rooms: readonly RoomPresenceChange[]): void {
    for (const [room, joined, left] of rooms) {
      let users = known.rooms.get(room);
      if (!users) {
        users = new Set();
        known.rooms.set(room, users);
      }
      for (const identity of joined) {
        users.add(identity.userId);
        this.#presence.addRemote(node, room, identity);
      }
      for (const userId of left) {
        users.delete(userId);
        this.#presence.removeRemote(node, room, userId);
      }
      if (users.size === 0) known.rooms.delete(room);
    }
  }

  #replace(node: string, known: KnownNode, rooms: readonly RoomPresenceChange[]): void {
    const now = new Map<RoomId, Set<UserId>>();
    for (const [room, joined] of rooms) now.set(room, new Set(joined.map((u) => u.userId)));
    const gone: RoomPresenceChange[] = [];
    for (const [room, users] of known.rooms) {
      const left = [...users].filter((userId) => !now.get(room)?.has(userId));
      if (left.length > 0) gone.push([room, [], left]);
    }
    // Joins first: a user still there is never seen leaving and coming back.
    this.#apply(node, known, rooms);
    this.#apply(node, known, gone);
    known.askedMs = Number.NEGATIVE_INFINITY;
  }

  #drop(node: string): void {
    const known = this.#nodes.get(node);
    if (!known) return;
    this.#nodes.delete(node);
    for (const [room, users] of known.rooms) {
      for (const userId of users) this.#presence.removeRemote(node, room, userId);
    }
  }

  #sendWhole(): void {
    const rooms = this.#presence.localSnapshot();
    this.#send({ type: "presence", seq: this.#seq, full: true, rooms });
  }

  #send(report: NodeReport): void {
    // A bus that is down says so itself; presence is repaired when it is back.
    this.#bus.publish({ origin: this.#bus.nodeId, node: report }).catch(() => {});
  }
}
