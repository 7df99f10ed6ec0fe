import { randomUUID } from "node:crypto";
import { createClient } from "redis";
import type { Bus, BusEvent } from "./bus.ts";

export interface RedisBusOptions {
  /** redis://host:port */
  readonly url: string;
  /** Nodes with the same prefix form one cluster; the channel is "<prefix>:events". Default "grpc-chat". */
  readonly prefix?: string;
  readonly nodeId?: string;
  /** Told when the connection to Redis is lost and when it is back (not told again while it stays so). */
  readonly onStateChange?: (connected: boolean, error?: Error) => void;
  /**
   * How long to wait for Redis before handing out a bus that is not yet
   * connected (it connects when Redis answers). Default 3,000 ms.
   */
  readonly startupWaitMs?: number;
}

/**
 * Nodes in several processes, over Redis pub/sub. Pub/sub keeps nothing: an
 * event published while a node is cut off never reaches it, so the node's
 * streams catch up from the store when it is back (delivery is by cursor).
 * So a node is `synchronous: false`: it may hear of a message after the
 * store has it, and must not answer reads from memory.
 *
 * Redis being down at start-up does not stop the node: it serves its own
 * clients and joins the others once Redis answers, as after any outage.
 */
export async function connectRedisBus(options: RedisBusOptions): Promise<Bus> {
  const channel = `${options.prefix ?? "grpc-chat"}:events`;
  const publisher = createClient({
    url: options.url,
    // Retry for ever, a little slower each time, up to 2 s apart.
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) },
    // While Redis is away an event is dropped, not queued without bound: the
    // store has the message, and the other nodes' streams read it from there.
    disableOfflineQueue: true,
  });
  const subscriber = publisher.duplicate();
  const bus = new RedisBus(options.nodeId ?? randomUUID(), channel, publisher, subscriber);
  bus.onStateChange(options.onStateChange ?? (() => {}));
  for (const client of [publisher, subscriber]) {
    client.on("error", (error: Error) => bus.check(error));
    client.on("ready", () => bus.check());
    client.on("end", () => bus.check());
  }
  const subscribed = Promise.all([publisher.connect(), subscriber.connect()]).then(async () => {
    await subscriber.subscribe(channel, (text: string) => bus.receive(text));
    bus.subscribed();
  });
  // Past close() a pending first connection is given up; nothing to report.
  subscribed.catch(() => {});
  // When Redis answers in time, whatever is published from now on reaches this node.
  await Promise.race([subscribed, delay(options.startupWaitMs ?? 3_000)]);
  bus.started(new Error(`Redis at ${describeUrl(options.url)} did not answer`));
  return bus;
}

/** What the bus needs of its connections. */
interface Connection {
  readonly isReady: boolean;
  publish(channel: string, message: string): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
}

class RedisBus implements Bus {
  readonly nodeId: string;
  readonly synchronous = false;
  readonly #channel: string;
  readonly #publisher: Connection;
  readonly #subscriber: Connection;
  readonly #handlers: Array<(event: BusEvent) => void> = [];
  readonly #reconnected: Array<() => void> = [];
  #report: (connected: boolean, error?: Error) => void = () => {};
  #subscribed = false;
  /** As last reported: each change is reported once. */
  #state: "starting" | "up" | "down" = "starting";
  #closed = false;

  constructor(nodeId: string, channel: string, publisher: Connection, subscriber: Connection) {
    this.nodeId = nodeId;
    this.#channel = channel;
    this.#publisher = publisher;
    this.#subscriber = subscriber;
  }

  get connected(): boolean {
    return !this.#closed && this.#subscribed && this.#publisher.isReady && this.#subscriber.isReady;
  }

  onStateChange(report: (connected: boolean, error?: Error) => void): void {
    this.#report = report;
  }

  subscribed(): void {
    this.#subscribed = true;
    this.check();
  }

  /** A connection changed state: reports the node's state if it changed, and catches up after a loss. */
  check(error?: Error): void {
    if (this.#closed) return;
    const state = this.connected ? "up" : "down";
    // While starting, errors are retries of the first attempt: said once, by `started`.
    if (this.#state === state || (this.#state === "starting" && state === "down")) return;
    const missedEvents = this.#state === "down";
    this.#state = state;
    this.#report(state === "up", error);
    if (state === "up" && missedEvents) for (const handler of this.#reconnected) handler();
  }

  /** The start-up wait is over: a node not yet connected says so, and connects later. */
  started(error: Error): void {
    if (this.#state !== "starting" || this.connected) return;
    this.#state = "down";
    this.#report(false, error);
  }

  async publish(event: BusEvent): Promise<void> {
    // Cut off: said once by onStateChange, not once per message.
    if (this.#closed || !this.#publisher.isReady) return;
    await this.#publisher.publish(this.#channel, JSON.stringify(event));
  }

  onEvent(handler: (event: BusEvent) => void): void {
    this.#handlers.push(handler);
  }

  onReconnect(handler: () => void): void {
    this.#reconnected.push(handler);
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(
      [this.#publisher, this.#subscriber].map((connection) => {
        if (connection.isReady) return connection.close();
        connection.destroy();
        return undefined;
      }),
    );
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The URL as it may be logged: without a password. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
