import { fromBinary } from "@bufbuild/protobuf";
import type { ChatError } from "../../core/chat-error.ts";
import type { Encoder } from "../../core/envelope.ts";
import type { StreamSink } from "../../core/room-cursor.ts";
import { type Event, EventSchema } from "../../gen/chat_pb.js";
import { framed, unframed } from "../frames.ts";
import type { LiveCall } from "../live-stream.ts";

/**
 * How many encoded events wait for Connect to take them before the core is
 * told to hold on (the core's own queue, bounded, takes over from there).
 */
const HIGH_WATER = 16;

/**
 * Connect serialises each message itself (binary or JSON, as the client
 * asked), so it needs the message, not our bytes. The fan-out hands every
 * stream in a room the same bytes object, framed as for gRPC streams so a
 * room with both kinds encodes once: decode it once for all of them.
 */
const decoded = new WeakMap<Uint8Array, Event>();

function decodeOnce(bytes: Uint8Array): Event {
  let event = decoded.get(bytes);
  if (!event) {
    event = fromBinary(EventSchema, unframed(bytes));
    decoded.set(bytes, event);
  }
  return event;
}

/**
 * A Connect (or gRPC-Web) server stream as a LiveCall. Connect pulls the
 * next event only once it has written the last, so this queue stays short
 * and a slow browser is held back by the core's bounded delivery, never by
 * memory here. The call is over when `events()` returns or throws.
 */
export class ConnectLiveCall implements LiveCall {
  readonly transport = "http";
  readonly sink: StreamSink;
  readonly address: string;
  readonly peer: string;
  readonly #signal: AbortSignal;
  #queue: Uint8Array[] = [];
  #ended: { error: ChatError | undefined } | undefined;
  #wake: (() => void) | undefined;
  #drained: Array<() => void> = [];
  #done: Array<() => void> = [];

  constructor(encoder: Encoder, signal: AbortSignal, address: string, peer: string) {
    this.#signal = signal;
    this.address = address;
    this.peer = peer;
    this.sink = {
      encoder: framed(encoder),
      write: (bytes) => {
        this.#queue.push(bytes);
        this.#wakeReader();
        return this.#queue.length < HIGH_WATER;
      },
      onDrain: (callback) => this.#drained.push(callback),
      end: (error) => {
        this.#ended ??= { error };
        this.#wakeReader();
      },
    };
    signal.addEventListener("abort", () => this.#wakeReader(), { once: true });
  }

  get cancelled(): boolean {
    return this.#signal.aborted;
  }

  onCancel(callback: () => void): void {
    if (this.#signal.aborted) callback();
    else this.#signal.addEventListener("abort", callback, { once: true });
  }

  onDone(callback: () => void): void {
    this.#done.push(callback);
  }

  /** What Connect writes: queued events until the stream ends (throwing its error) or the client goes. */
  async *events(toError: (error: ChatError) => Error): AsyncGenerator<Event> {
    try {
      for (;;) {
        const bytes = this.#queue.shift();
        if (bytes) {
          if (this.#queue.length === 0) for (const resume of this.#drained.splice(0)) resume();
          yield decodeOnce(bytes);
          continue;
        }
        if (this.#ended) {
          if (this.#ended.error) throw toError(this.#ended.error);
          return;
        }
        if (this.#signal.aborted) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      this.#ended ??= { error: undefined };
      for (const done of this.#done.splice(0)) done();
    }
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
