import { randomUUID } from "node:crypto";
import type { Bus, BusEvent } from "./bus.ts";

/**
 * Nodes that share one process. A server on its own is the only node of its
 * hub, so publishing reaches nobody else; several servers in one process (as
 * some tests run them) can share a hub and behave as a cluster.
 */
export class LocalHub {
  readonly #buses = new Set<LocalBus>();

  connect(nodeId: string = randomUUID()): Bus {
    const bus = new LocalBus(this, nodeId);
    this.#buses.add(bus);
    return bus;
  }

  broadcast(event: BusEvent): void {
    for (const bus of this.#buses) if (bus.nodeId !== event.origin) bus.receive(event);
  }

  remove(bus: LocalBus): void {
    this.#buses.delete(bus);
  }
}

class LocalBus implements Bus {
  readonly nodeId: string;
  readonly synchronous = true;
  readonly connected = true;
  readonly #hub: LocalHub;
  readonly #handlers: Array<(event: BusEvent) => void> = [];

  constructor(hub: LocalHub, nodeId: string) {
    this.#hub = hub;
    this.nodeId = nodeId;
  }

  async publish(event: BusEvent): Promise<void> {
    this.#hub.broadcast(event);
  }

  onEvent(handler: (event: BusEvent) => void): void {
    this.#handlers.push(handler);
  }

  /** Nodes in one process never lose each other. */
  onReconnect(): void {}

  receive(event: BusEvent): void {
    for (const handler of this.#handlers) handler(event);
  }

  async close(): Promise<void> {
    this.#hub.remove(this);
  }
}

/** The default bus of a single server: a hub of its own. */
export function createLocalBus(): Bus {
  return new LocalHub().connect();
}
