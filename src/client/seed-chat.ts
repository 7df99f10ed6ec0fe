import { status } from "@grpc/grpc-js";
import { DEFAULT_ROOM } from "../wire/room-names.ts";
import { AsyncQueue } from "./async-queue.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import type { ChatClient } from "./chat-client.ts";
import { ChatClientError, type SendAck } from "./events.ts";
import type { ConnectionState, LiveEvent, LiveFeed } from "./live-chat.ts";
import { isRetryable } from "./retry-policy.ts";
import type { SeedStream } from "./seed-calls.ts";
import { settleWithin, wakeableDelay } from "./waits.ts";

export interface SeedChatOptions {
  readonly backoff?: Partial<BackoffOptions>;
  /** A stream open (JoinChat answered) this long resets the backoff. Default 0: open is healthy. */
  readonly healthyAfterMs?: number;
}

interface Waiting {
  readonly text: string;
  resolve(ack: SendAck): void;
}

/**
 * The live chat of a server that speaks only the seed's protocol: one room,
 * one ChatStream at a time, reopened after any loss with the same backoff
 * as LiveChat (a JoinChat first, so a restarted server knows our name
 * again). The seed has no ids, acks or resume, so what was said while the
 * stream was down is not replayed, and a send is done once it is written:
 * sends typed while there is no stream wait for the next one.
 */
export class SeedChat implements LiveFeed {
  readonly #client: ChatClient;
  readonly #options: SeedChatOptions;
  readonly #backoff: Backoff;
  readonly #events = new AsyncQueue<LiveEvent>();
  readonly #waiting: Waiting[] = [];
  /** Called when the waiting sends have been written. */
  readonly #emptied = new Set<() => void>();
  #stream: SeedStream | undefined;
  #state: ConnectionState = { kind: "connecting" };
  #closing = false;
  #wake: (() => void) | undefined;
  /** Resolves when this SeedChat has stopped: closed, or offline for good. */
  readonly done: Promise<void>;

  /** `client` has joined (JoinChat) already: the first stream opens at once. */
  constructor(client: ChatClient, options: SeedChatOptions = {}) {
    this.#client = client;
    this.#options = options;
    this.#backoff = new Backoff(options.backoff);
    this.done = this.#run();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Writes a message to the stream, or to the next one; resolves once written. */
  send(text: string, room = DEFAULT_ROOM): Promise<SendAck> {
    if (this.#closing || this.#state.kind === "offline") {
      return Promise.reject(
        new ChatClientError(status.CANCELLED, "The chat is closed; nothing was sent."),
      );
    }
    return new Promise((resolve) => {
      const stream = this.#stream;
      if (stream) {
        stream.send(text);
        resolve({ room, id: 0, timeMs: Date.now() });
      } else {
        this.#waiting.push({ text, resolve });
      }
    });
  }

  /** Waits up to `ms` for a stream to take the waiting sends; resolves to how many still wait. */
  settle(ms: number): Promise<number> {
    return settleWithin(ms, () => this.#waiting.length, this.#emptied);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    this.#stream?.close();
    // A server that is gone never ends the call; closing the client then cancels it.
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 2_000).unref())]);
  }

  [Symbol.asyncIterator](): AsyncIterator<LiveEvent> {
    return this.#events[Symbol.asyncIterator]();
  }

  async #run(): Promise<void> {
    let first = true;
    while (!this.#closing) {
      const error = await this.#connect(first);
      first = false;
      if (this.#closing) break;
      if (error && !isRetryable(error.code)) {
        this.#setState({ kind: "offline", reason: error.message });
        break;
      }
      const inMs = this.#backoff.next();
      this.#setState({
        kind: "reconnecting",
        attempt: this.#backoff.attempt,
        inMs,
        reason: error?.message ?? "The server ended the chat stream.",
      });
      const delay = wakeableDelay(inMs);
      this.#wake = delay.wake;
      await delay.done;
      this.#wake = undefined;
    }
    this.#events.end();
  }

  /** One stream's life: resolves with how it ended (undefined: closed by us, or OK). */
  async #connect(first: boolean): Promise<ChatClientError | undefined> {
    if (!first) {
      try {
        await this.#client.join();
      } catch (error) {
        return ChatClientError.from(error);
      }
    }
    const stream = this.#client.openSeedStream();
    this.#stream = stream;
    const liveSince = Date.now();
    // The seed says nothing when a stream opens; the JoinChat just answered is as live as it gets.
    this.#setState({ kind: "live" });
    for (const waiting of this.#waiting.splice(0)) {
      stream.send(waiting.text);
      waiting.resolve({ room: DEFAULT_ROOM, id: 0, timeMs: Date.now() });
    }
    for (const done of [...this.#emptied]) done();
    this.#emptied.clear();
    for await (const message of stream) {
      this.#events.push({ type: "message", message });
      await this.#events.ready();
    }
    this.#stream = undefined;
    const error = await stream.ended;
    this.#backoff.resetIfHealthy(liveSince, this.#options.healthyAfterMs ?? 0);
    return (
      error ??
      (this.#closing
        ? undefined
        : new ChatClientError(status.UNAVAILABLE, "The server ended the chat stream."))
    );
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.#events.push({ type: "state", state });
  }
}
