import type { Bus } from "../src/bus/bus.ts";
import { LocalHub } from "../src/bus/local-bus.ts";
import { type Chat, type ChatOptions, createChat } from "../src/core/chat.ts";
import type { ChatError } from "../src/core/chat-error.ts";
import type { Clock } from "../src/core/clock.ts";
import type { Outbound } from "../src/core/envelope.ts";
import type { StreamSink } from "../src/core/room-cursor.ts";
import { openSqliteStore } from "../src/store/sqlite-store.ts";
import type { Store } from "../src/store/store.ts";

/** A clock that moves only when told to, running due `every` tasks as it goes. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  const tasks = new Set<{ ms: number; next: number; task: () => void }>();
  return {
    now: () => now,
    every(ms, task) {
      const entry = { ms, next: now + ms, task };
      tasks.add(entry);
      return () => tasks.delete(entry);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let due: { ms: number; next: number; task: () => void } | undefined;
        for (const entry of tasks)
          if (entry.next <= until && (!due || entry.next < due.next)) due = entry;
        if (!due) break;
        now = due.next;
        due.next += due.ms;
        due.task();
      }
      now = until;
    },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A transport as the core sees one: it decodes what it is given and takes
 * `capacity` writes before it reports itself full, until `drain()` (a reader
 * taking what was written).
 */
export class TestSink implements StreamSink {
  readonly received: Outbound[] = [];
  capacity: number;
  ended: { error: ChatError | undefined } | undefined;
  #buffered = 0;
  #onDrain: (() => void) | undefined;

  constructor(capacity = Number.POSITIVE_INFINITY) {
    this.capacity = capacity;
  }

  readonly encoder = (payload: Outbound) => encoder.encode(JSON.stringify(payload));

  write(bytes: Uint8Array): boolean {
    this.received.push(JSON.parse(decoder.decode(bytes)));
    this.#buffered += 1;
    return this.#buffered < this.capacity;
  }

  onDrain(callback: () => void): void {
    this.#onDrain = callback;
  }

  end(error?: ChatError): void {
    this.ended = { error };
  }

  /** The reader took everything written so far. */
  drain(): void {
    this.#buffered = 0;
    const callback = this.#onDrain;
    this.#onDrain = undefined;
    callback?.();
  }

  /** Message ids received in a room, in order. */
  ids(room = "lobby"): number[] {
    return this.received.flatMap((p) =>
      p.type === "message" && p.message.room === room ? [p.message.id] : [],
    );
  }

  of<T extends Outbound["type"]>(type: T): Extract<Outbound, { type: T }>[] {
    return this.received.filter((p): p is Extract<Outbound, { type: T }> => p.type === type);
  }
}

/** Resolves once `check` holds, checking after each turn of the event loop. */
export async function until(check: () => boolean, what: string, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

/** A Chat on a real in-memory SQLite store and its own in-process bus, on a manual clock. */
export async function testChat(
  options: Partial<ChatOptions> & { store?: Store; bus?: Bus } = {},
): Promise<{ chat: Chat; store: Store; clock: ManualClock }> {
  const clock = manualClock();
  const store = options.store ?? (await openSqliteStore({ path: ":memory:", now: clock.now }));
  const chat = createChat({
    bus: new LocalHub().connect(),
    presenceTickMs: 100,
    // As startTestServer: join lines only where a test asks for them.
    joinLines: false,
    ...options,
    store,
    clock,
  });
  return { chat, store, clock };
}

export const alice = { userId: "u-alice", username: "alice" };
export const bob = { userId: "u-bob", username: "bob" };
export const carol = { userId: "u-carol", username: "carol" };
