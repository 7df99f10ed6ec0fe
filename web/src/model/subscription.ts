import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Backoff } from "../../../src/client/backoff.ts";
import type { Event, JoinRoomSchema } from "../../../src/gen/chat_pb.js";
import { type ChatClient, type Failure, failure, retryable } from "../api.ts";

export type ConnectionState =
  | { readonly kind: "connecting" }
  | { readonly kind: "live" }
  /** `atMs`: when the next try starts (undefined: trying now). */
  | { readonly kind: "reconnecting"; readonly atMs: number | undefined; readonly reason: string }
  | { readonly kind: "offline"; readonly reason: string };

export type JoinRequest = MessageInitShape<typeof JoinRoomSchema> & { room: string };

/** How one subscription ended, for a host deciding what a final error means. */
export interface Ending {
  readonly failure: Failure;
  readonly requested: readonly string[];
  readonly joined: ReadonlySet<string>;
  readonly welcomed: boolean;
}

export interface SubscriptionHost {
  readonly client: ChatClient;
  username(): string;
  /** Before each call: what the request needs from the server first (its limits, its default room). */
  prepare(): Promise<void>;
  /** The rooms to join, in order, each with its resume point. */
  request(): JoinRequest[];
  event(event: Event): void;
  /** A final error: true when the host fixed the request (dropped a room) and wants another try now. */
  fatal(ending: Ending): boolean;
  state(state: ConnectionState): void;
}

/**
 * A connection live this long resets the backoff: 0, live (every room
 * resumed) is healthy, so a link that drops often is rejoined after a short
 * wait each time, while a server that fails the resume backs off.
 */
const HEALTHY_MS = 0;
/** How often a live connection is checked with a Ping (a silent network drop ends no fetch). */
const PING_EVERY_MS = 30_000;
const PING_TIMEOUT_MS = 10_000;

/**
 * The page's one Subscribe call (a browser has 6 connections per origin).
 * Any end it did not cause is followed by another, after an exponential
 * backoff with jitter, asking to resume every room where it stopped.
 */
export class Subscription {
  readonly #host: SubscriptionHost;
  // The first wait after a drop is 125-250 ms: on a busy machine the
  // reconnect and resume themselves take most of the second a user allows.
  readonly #backoff = new Backoff({ initialMs: 250, maxMs: 5_000 });
  #generation = 0;
  #abort: AbortController | undefined;
  #welcomed = false;
  #liveSince: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pinger: ReturnType<typeof setInterval> | undefined;
  #state: ConnectionState = { kind: "connecting" };
  #stopped = false;

  constructor(host: SubscriptionHost) {
    this.#host = host;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The current call has been welcomed: the server knows who we are. */
  get welcomed(): boolean {
    return this.#welcomed;
  }

  /** (Re)subscribes now, with the host's current rooms: after a join or leave, or "retry now". */
  restart(): void {
    if (this.#stopped) return;
    this.#end();
    if (this.#state.kind !== "live") this.#set({ kind: "connecting" });
    void this.#run(this.#generation);
  }

  /** All rooms are at their head. */
  markLive(): void {
    if (this.#state.kind === "live") return;
    this.#liveSince = Date.now();
    this.#set({ kind: "live" });
  }

  stop(): void {
    this.#stopped = true;
    this.#end();
  }

  /** Ends the current call, if any; whatever it was doing is forgotten. */
  #end(): void {
    this.#generation += 1;
    this.#abort?.abort();
    this.#abort = undefined;
    this.#welcomed = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearInterval(this.#pinger);
  }

  async #run(generation: number): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    let requested: JoinRequest[] = [];
    const joined = new Set<string>();
    let welcomed = false;
    let error: unknown = new Error("The server ended the subscription.");
    try {
      await this.#host.prepare();
      if (generation !== this.#generation) return;
      requested = this.#host.request();
      const events = this.#host.client.subscribe(
        { username: this.#host.username(), rooms: requested },
        { signal: abort.signal, timeoutMs: 0 },
      );
      for await (const event of events) {
        if (generation !== this.#generation) return;
        if (event.kind.case === "welcome") {
          welcomed = this.#welcomed = true;
          this.#watch(generation);
        } else if (event.kind.case === "joined") {
          joined.add(event.kind.value.room);
        }
        this.#host.event(event);
      }
    } catch (thrown) {
      error = thrown;
    }
    if (generation !== this.#generation) return;
    this.#welcomed = false;
    const ending = {
      failure: failure(error),
      requested: requested.map((r) => r.room),
      joined,
      welcomed,
    };
    this.#ended(ending);
  }

  #ended(ending: Ending): void {
    // No pings while there is no call: they would cut short the next try.
    clearInterval(this.#pinger);
    const { code, text } = ending.failure;
    if (!retryable(code) && code !== Code.Unimplemented) {
      if (this.#host.fatal(ending)) {
        this.restart();
        return;
      }
      this.#set({ kind: "offline", reason: text });
      return;
    }
    this.#backoff.resetIfHealthy(this.#liveSince, HEALTHY_MS);
    this.#liveSince = undefined;
    if (navigator.onLine === false) {
      // The page's "online" listener restarts us when the network is back.
      this.#set({ kind: "offline", reason: "This device is offline; waiting for the network." });
      return;
    }
    const delay = this.#backoff.next();
    this.#set({ kind: "reconnecting", atMs: Date.now() + delay, reason: text });
    const generation = this.#generation;
    this.#timer = setTimeout(() => {
      if (generation !== this.#generation) return;
      this.#set({ kind: "reconnecting", atMs: undefined, reason: text });
      void this.#run(generation);
    }, delay);
  }

  /** Pings while this call lasts; a ping the network swallows ends the call as lost. */
  #watch(generation: number): void {
    clearInterval(this.#pinger);
    this.#pinger = setInterval(() => {
      this.#host.client.ping({}, { timeoutMs: PING_TIMEOUT_MS }).catch((error: unknown) => {
        const { code, text } = failure(error);
        if (generation !== this.#generation || !retryable(code)) return;
        this.#end();
        this.#ended({
          failure: { code, text, retryAfterMs: undefined },
          requested: [],
          joined: new Set(),
          welcomed: true,
        });
      });
    }, PING_EVERY_MS);
  }

  #set(state: ConnectionState): void {
    this.#state = state;
    this.#host.state(state);
  }
}
