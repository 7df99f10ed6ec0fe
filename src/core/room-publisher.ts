import type { Bus, RoomPayload } from "../bus/bus.ts";
import type { CoreLogger } from "./chat-options.ts";
import { Envelope } from "./envelope.ts";
import type { RoomFanOut } from "./fan-out.ts";
import type { Outlet } from "./outlet.ts";
import type { RoomId } from "./types.ts";

/**
 * Delivers an event to everyone in a room, on every node: this node's
 * streams first, then the bus, so a failing bus never stops local delivery
 * (the other nodes fill the gap from the store at their next message).
 */
export class RoomPublisher {
  readonly #fanOut: RoomFanOut;
  readonly #bus: Bus;
  readonly #logger: CoreLogger | undefined;

  constructor(fanOut: RoomFanOut, bus: Bus, logger: CoreLogger | undefined) {
    this.#fanOut = fanOut;
    this.#bus = bus;
    this.#logger = logger;
  }

  /** `origin`, the stream that sent a message, gets no copy of it (it is given an ack). */
  publish(room: RoomId, payload: RoomPayload, origin?: Outlet): void {
    this.#fanOut.deliver(room, new Envelope(payload, origin));
    this.#bus.publish({ origin: this.#bus.nodeId, room, payload }).catch((error) => {
      this.#logger?.warn(
        { err: error, room },
        "bus publish failed; other nodes fill a message's gap from the store at their next message",
      );
    });
  }
}
