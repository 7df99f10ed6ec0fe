import type { RoomId, StoredMessage, UserId } from "../store/store.ts";

/**
 * What travels between nodes: stored messages, and room topics as they are
 * set. Presence stays on its node (for now).
 */
export type BusPayload =
  | { readonly type: "message"; readonly message: StoredMessage }
  | {
      readonly type: "topic";
      readonly room: RoomId;
      readonly topic: string;
      readonly by: { readonly userId: UserId; readonly username: string };
      readonly timeMs: number;
    };

/** One thing to deliver to a room's live streams on every node. */
export interface BusEvent {
  /** The node that published it; a node never receives its own events back. */
  readonly origin: string;
  readonly room: RoomId;
  readonly payload: BusPayload;
}

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
  close(): Promise<void>;
}
