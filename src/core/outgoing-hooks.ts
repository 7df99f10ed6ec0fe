import type { BotRecord } from "../store/integration-store.ts";
import type { Store } from "../store/store.ts";
import type { CoreLogger } from "./chat-options.ts";
import type { Clock } from "./clock.ts";
import { HookLoop } from "./hook-loop.ts";
import type { Identity, RoomId } from "./types.ts";

/** What a POST to an outgoing hook came back with. */
export interface HookResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** Sends one request; rejects on a network failure or timeout. */
export type HookPoster = (
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
) => Promise<HookResponse>;

export interface OutgoingHooksOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** This node's name for the delivery lease. */
  readonly nodeId: string;
  readonly post: HookPoster;
  /** Posts a hook's reply to the room as its bot. */
  readonly reply: (bot: Identity, room: RoomId, text: string, replyTo: number) => Promise<void>;
  readonly logger: CoreLogger | undefined;
  /** How long a lease holds without renewal. Default 15 s. */
  readonly leaseMs?: number;
  /** How often a hook looks for messages it was not woken for (other nodes', a lost lease). Default 2 s. */
  readonly pollMs?: number;
  /** How long one message is retried before it is given up. Default 1 hour. */
  readonly giveUpMs?: number;
  /** The first wait after a failure; it doubles up to a minute. Default 1 s. */
  readonly firstRetryMs?: number;
}

/** One hook's outcomes on this node, for its owner and the metrics. */
export interface DeliveryState {
  lastError: string;
  lastErrorMs: number;
  delivered: number;
  failed: number;
}

/**
 * Bots' outgoing hooks. Each hook is one loop, on the node holding its lease
 * (so in a cluster a message goes to a hook once, not once per node): it reads
 * each room's log after the hook's stored cursor, POSTs what triggers it in
 * order, and moves the cursor only after the receiver answered 2xx. A failure
 * is retried with backoff, holding back the messages behind it, until the
 * message is an hour old; a crash between a POST and the cursor's move sends
 * it again, with the same message id for the receiver to drop.
 */
export class OutgoingHooks {
  readonly #options: OutgoingHooksOptions;
  readonly #loops = new Map<string, HookLoop>();
  /** The loops by room they watch: a message wakes its room's hooks in one lookup. */
  readonly #byRoom = new Map<RoomId, Set<HookLoop>>();
  readonly #states = new Map<string, DeliveryState>();
  #stopped = false;

  constructor(options: OutgoingHooksOptions) {
    this.#options = options;
  }

  /** Starts a loop for every working hook in the store; loops started elsewhere are found by `refresh`. */
  async start(): Promise<void> {
    await this.refresh();
  }

  /** Loads the hooks again: bots made or revoked on other nodes. */
  async refresh(): Promise<void> {
    const bots = await this.#options.store.outgoingBots();
    const working = new Set(bots.map((bot) => bot.userId));
    for (const bot of bots) this.changed(bot);
    for (const [userId, loop] of this.#loops) if (!working.has(userId)) this.#stop(userId, loop);
  }

  /** A bot was made, renewed or revoked. */
  changed(bot: BotRecord): void {
    if (this.#stopped) return;
    const running = this.#loops.get(bot.userId);
    const version = JSON.stringify([bot.revokedMs, bot.tokenHash, bot.rooms, bot.outgoing]);
    // A refresh finds most bots as they were: their loops go on undisturbed.
    if (running?.version === version) return;
    if (running) this.#stop(bot.userId, running);
    if (bot.revokedMs !== 0 || !bot.outgoing) return;
    const loop = new HookLoop(bot, version, this.#options, this.state(bot.userId));
    this.#loops.set(bot.userId, loop);
    for (const room of bot.rooms) {
      let loops = this.#byRoom.get(room);
      if (!loops) {
        loops = new Set();
        this.#byRoom.set(room, loops);
      }
      loops.add(loop);
    }
    // Not before the loop it replaces has stopped: two loops of one node
    // share its lease, and could both send a message.
    const previous = running?.done.catch(() => undefined) ?? Promise.resolve();
    loop.done = previous.then(() => loop.run());
    loop.done.catch((error: unknown) => {
      this.#options.logger?.warn({ err: error, bot: bot.username }, "an outgoing hook stopped");
    });
  }

  /** A message was stored in `room`: its hooks look now rather than at their next poll. */
  wake(room: RoomId): void {
    const loops = this.#byRoom.get(room);
    if (loops) for (const loop of loops) loop.wake();
  }

  state(userId: string): DeliveryState {
    let state = this.#states.get(userId);
    if (!state) {
      state = { lastError: "", lastErrorMs: 0, delivered: 0, failed: 0 };
      this.#states.set(userId, state);
    }
    return state;
  }

  /** Every hook's counts, for the metrics. */
  totals(): { delivered: number; failed: number } {
    let delivered = 0;
    let failed = 0;
    for (const state of this.#states.values()) {
      delivered += state.delivered;
      failed += state.failed;
    }
    return { delivered, failed };
  }

  close(): void {
    this.#stopped = true;
    for (const [userId, loop] of this.#loops) this.#stop(userId, loop);
  }

  #stop(userId: string, loop: HookLoop): void {
    loop.stop();
    this.#loops.delete(userId);
    for (const room of loop.rooms) {
      const loops = this.#byRoom.get(room);
      loops?.delete(loop);
      if (loops?.size === 0) this.#byRoom.delete(room);
    }
  }
}
