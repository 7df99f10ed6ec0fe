import { randomUUID } from "node:crypto";
import { createClient } from "redis";
import type { Bus, BusEvent } from "./bus.ts";

export interface RedisBusOptions {
  /** redis://host:port */
  readonly url: string;
  /** Nodes with the same prefix form one cluster; the channel is "<prefix>:events". Default "grpc-chat". */
  readonly prefix?: string;
  readonly nodeId?: string;
  /** Told when the connection to Redis is lost and when it is back. */
  readonly onStateChange?: (connected: boolean, error?: Error) => void;
}

/**
 * Nodes in several processes, over Redis pub/sub. Pub/sub keeps nothing: an
 * event published while a node is cut off never reaches it, and the node's
 * streams fill the gap from the store at the room's next message (delivery
 * is by cursor). So a node is `synchronous: false`: it may hear of a message
 * after the store has it, and must not answer reads from memory.
 */
export async function connectRedisBus(options: RedisBusOptions): Promise<Bus> {
  const channel = `${options.prefix ?? "grpc-chat"}:events`;
  const report = options.onStateChange ?? (() => {});
  const publisher = createClient({
    url: options.url,
    // Retry for ever, a little slower each time, up to 2 s apart.
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) },
    // While Redis is away an event is dropped, not queued without bound: the
    // store has the message, and the other nodes' streams read it from there.
    disableOfflineQueue: true,
  });
  const subscriber = publisher.duplicate();
  for (const client of [publisher, subscriber]) {
    client.on("error", (error: Error) => report(false, error));
    client.on("ready", () => report(true));
  }
  await Promise.all([publisher.connect(), subscriber.connect()]);
  const bus = new RedisBus(
    options.nodeId ?? randomUUID(),
    channel,
    publisher,
    () => publisher.isReady && subscriber.isReady,
  );
  // Subscribed before it is handed out: whatever is published from now on reaches it.
  await subscriber.subscribe(channel, (text: string) => bus.receive(text));
  bus.onClose(() => subscriber.close());
  return bus;
}

/** What the bus needs of its publishing connection. */
interface Publisher {
  readonly isReady: boolean;
  publish(channel: string, message: string): Promise<unknown>;
  close(): Promise<unknown>;
}

class RedisBus implements Bus {
  readonly nodeId: string;
  readonly synchronous = false;
  readonly #channel: string;
  readonly #publisher: Publisher;
  readonly #handlers: Array<(event: BusEvent) => void> = [];
  readonly #closers: Array<() => Promise<unknown>> = [];
  readonly #connected: () => boolean;
  #closed = false;

  constructor(nodeId: string, channel: string, publisher: Publisher, connected: () => boolean) {
    this.nodeId = nodeId;
    this.#channel = channel;
    this.#publisher = publisher;
    this.#connected = connected;
    this.#closers.push(() => publisher.close());
  }

  get connected(): boolean {
    return !this.#closed && this.#connected();
  }

  async publish(event: BusEvent): Promise<void> {
    // Cut off: said once by onStateChange, not once per message.
    if (this.#closed || !this.#publisher.isReady) return;
    await this.#publisher.publish(this.#channel, JSON.stringify(event));
  }

  onEvent(handler: (event: BusEvent) => void): void {
    this.#handlers.push(handler);
  }

  /** One message from the channel; a node's own events come back and are skipped. */
  receive(text: string): void {
    if (this.#closed) return;
    let event: BusEvent;
    try {
      event = JSON.parse(text) as BusEvent;
    } catch {
      // Not ours (something else shares the channel): nothing to deliver.
      return;
    }
    if (event.origin === this.nodeId) return;
    for (const handler of this.#handlers) handler(event);
  }

  onClose(closer: () => Promise<unknown>): void {
    this.#closers.push(closer);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#closers.map((close) => close()));
  }
}
