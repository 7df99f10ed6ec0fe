import type { NotifyLevel } from "../store/integration-store.ts";
import type { RoomId, StoredMessage, UserId } from "../store/store.ts";

/**
 * What travels between nodes about a room: stored messages, topics as they
 * are set, read markers as they move, and typing.
 */
export type BusPayload = RoomPayload | SignalPayload;

/** What every stream in the room is told: stored log entries, and topics. */
export type RoomPayload =
  | { readonly type: "message"; readonly message: StoredMessage; readonly announced?: boolean }
  | {
      readonly type: "topic";
      readonly room: RoomId;
      readonly topic: string;
      readonly by: { readonly userId: UserId; readonly username: string };
      readonly timeMs: number;
    };

/** Signals each node handles itself rather than hand to the room's streams as they are. */
export type SignalPayload =
  /** A user's read marker moved: for that user's streams, on every node. */
  | {
      readonly type: "read";
      readonly room: RoomId;
      readonly userId: UserId;
      readonly lastReadId: number;
    }
  /** A user's notification level for a room changed: for that user's streams, on every node. */
  | {
      readonly type: "notify";
      readonly room: RoomId;
      readonly userId: UserId;
      readonly level: NotifyLevel;
    }
  /** A user is typing in the room (until `ttlMs` from now), or stopped. */
  | {
      readonly type: "typing";
      readonly room: RoomId;
      readonly user: { readonly userId: UserId; readonly username: string };
      readonly stopped: boolean;
      readonly ttlMs: number;
    }
  /**
   * Who may do what in the room changed (room "": server-wide: admins,
   * address bans): every node forgets what it knew, re-checks its streams in
   * the room, and carries out `effect` on its own streams.
   */
  | { readonly type: "rules"; readonly room: RoomId; readonly effect?: RulesEffect };

/** What a change of the rules does to live streams. */
export type RulesEffect =
  | {
      readonly kind: "kick" | "ban" | "unban" | "mute" | "unmute";
      readonly user: { readonly userId: UserId; readonly username: string };
      readonly by: { readonly userId: UserId; readonly username: string };
      readonly reason: string;
      readonly untilMs: number;
    }
  /** The room's kind or roles changed: its streams are told. */
  | { readonly kind: "settings" }
  /** A message was reported: the room's moderators are told. */
  | { readonly kind: "report"; readonly reportId: number }
  /** An account was disabled, deleted or had its password reset: its streams end (room ""). */
  | { readonly kind: "account"; readonly userId: UserId; readonly reason: string }
  /** The room was deleted: its streams leave it, and what was kept of it in memory goes. */
  | { readonly kind: "deleted" };

/** One thing to deliver to a room's live streams on every node. */
export interface RoomEvent {
  /** The node that published it; a node never receives its own events back. */
  readonly origin: string;
  readonly room: RoomId;
  readonly payload: BusPayload;
}

/** Users a node has online in one room: [room, joined, the user ids that left]. */
export type RoomPresenceChange = readonly [
  room: RoomId,
  joined: ReadonlyArray<{ readonly userId: UserId; readonly username: string }>,
  left: readonly UserId[],
];

/**
 * What a node says about itself. Presence travels as numbered changes
 * (`seq`); a node that sees a number skipped, or a heartbeat naming a number
 * it has not seen, asks for the whole state again (`resend`).
 */
export type NodeReport =
  | {
      readonly type: "presence";
      readonly seq: number;
      /** True: the changes are the node's whole presence, replacing what was known of it. */
      readonly full: boolean;
      readonly rooms: readonly RoomPresenceChange[];
    }
  /** Alive, and the last presence change it sent. */
  | { readonly type: "heartbeat"; readonly seq: number }
  /** A node that (re)joined: every node answers with its whole presence. */
  | { readonly type: "hello" }
  /** Asks node `to` for its whole presence again. */
  | { readonly type: "resend"; readonly to: string }
  /** The node is leaving: its users are offline now, not at expiry. */
  | { readonly type: "bye" };

export interface NodeEvent {
  readonly origin: string;
  readonly node: NodeReport;
}

export type BusEvent = RoomEvent | NodeEvent;

/**
 * Carries events between server nodes. The publishing node delivers to its
 * own streams itself, before it publishes, so a bus that fails never stops
 * local delivery. Delivery is by cursor, so a bus may drop, delay or reorder
 * events: a receiving stream fills any gap from the store. Implementations
 * must pass `test/bus-contract.ts`.
 */
export interface Bus {
  /** This node's id, stamped on what it publishes. */
  readonly nodeId: string;
  /**
   * True when `publish` has reached every node before it returns (nodes in
   * one process): each node then hears of a stored message before any read
   * of the store could show it, so it may answer reads of recent messages
   * from memory.
   */
  readonly synchronous: boolean;
  /** False while this node cannot reach the other nodes (it still serves its own clients). */
  readonly connected: boolean;
  publish(event: BusEvent): Promise<void>;
  /** `handler` gets every event published by other nodes. */
  onEvent(handler: (event: BusEvent) => void): void;
  /**
   * `handler` is called each time the bus reaches the other nodes again
   * after it lost them, or first reaches them late: what was published
   * meanwhile never arrives, so the node catches up from the store.
   */
  onReconnect(handler: () => void): void;
  close(): Promise<void>;
}

/**
 * What nodes must agree on at the moment of a call rather than eventually:
 * which user wears an online name, and how fast a user (or an address) may
 * go. Kept in the shared engine (Redis); a single node needs none, its own
 * memory is the whole truth. A node counts as alive while it renews its
 * lease; what a dead node held lapses with it.
 */
export interface ClusterClaims {
  /**
   * Claims the online name with key `nameKey` for `userId` on this node.
   * False when another user holds it on a node that is alive. The same user
   * may hold it on several nodes.
   */
  claimName(nameKey: string, userId: UserId): Promise<boolean>;
  /** This node has no stream left that wears the name as `userId`. */
  releaseName(nameKey: string, userId: UserId): Promise<void>;
  /**
   * A token bucket shared by every node: takes `cost` tokens from bucket
   * `key` (holding up to `burst`, refilling at `perSecond`) and resolves to
   * 0, or takes nothing and resolves to how many ms until there will be
   * enough. Infinity when `cost` is above `burst`.
   */
  take(key: string, perSecond: number, burst: number, cost: number): Promise<number>;
  /** Gives up this node's lease and everything it held. */
  close(): Promise<void>;
}
