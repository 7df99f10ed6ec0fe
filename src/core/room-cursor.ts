import type { ChatError } from "./chat-error.ts";
import type { Encoder } from "./envelope.ts";
import type { Outlet } from "./outlet.ts";
import type { MessageId, RoomId, UserId } from "./types.ts";

/** The transport's side of one live stream: where encoded bytes go. */
export interface StreamSink {
  /** This stream's wire shape. */
  readonly encoder: Encoder;
  /** Hands bytes to the transport; false when its buffer is full (wait for onDrain). */
  write(bytes: Uint8Array): boolean;
  /** Calls `callback` once, when the transport can take more after write returned false. */
  onDrain(callback: () => void): void;
  /** Ends the stream, with an error's status if given. Called at most once. */
  end(error?: ChatError): void;
}

/** Bounds on what one stream holds for a reader that is not keeping up. */
export interface DeliveryOptions {
  /**
   * Most live items queued for one stream. Past it (or past
   * `maxQueuedBytes`) its queued live items are dropped and it is fed from
   * history at its own pace instead. Default 1024.
   */
  readonly maxQueuedMessages: number;
  /** The same bound in encoded bytes. Default 1 MiB. */
  readonly maxQueuedBytes: number;
  /** Messages read from history per page when catching up. Default 256. */
  readonly pageSize: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  maxQueuedMessages: 1024,
  maxQueuedBytes: 1024 * 1024,
  pageSize: 256,
};

/**
 * One stream's place in one room. `live`: fan-out items are written in id
 * order. `catching_up`: fan-out items are only noted, and pages from the store
 * are written as the stream drains. `pending`: the join has not read the
 * room's head yet; fan-out items are only noted.
 */
export class RoomCursor {
  readonly room: RoomId;
  readonly outlet: Outlet;
  /** The stream's user: presence about them alone is not news to them. */
  readonly userId: UserId;
  mode: "pending" | "catching_up" | "live" = "pending";
  /** The highest id written or queued for this stream. */
  cursor: MessageId = 0;
  /** The highest id handed to the transport (or skipped on purpose): where a dropped queue falls back to. */
  safe: MessageId = 0;
  /** The highest id the fan-out offered while this cursor was not live. */
  latestSeen: MessageId = 0;
  /** Droppable items of this room in the outlet's queue. */
  queued = 0;
  closed = false;

  constructor(outlet: Outlet, room: RoomId, userId: UserId) {
    this.outlet = outlet;
    this.room = room;
    this.userId = userId;
  }
}
