// The ordinary load of `npm run bench -- refusals`: users who keep to their
// send rate, each a Session on a connection of its own in one of a few rooms,
// readers in each room, and a Ping loop. It runs all along; a phase records
// each send's time from send to ack and each Ping's round trip, by when they
// started.
import { build } from "hdr-histogram-js";
import {
  type ChatClient,
  ChatClientError,
  type ChatSession,
  createChatClient,
} from "../src/client/chat-client.ts";

export interface LoadParams {
  readonly users: number;
  readonly rooms: number;
  /** Readers per room, who only read. */
  readonly readers: number;
  /** Messages per second per user. */
  readonly userRate: number;
  /** Pause between one Ping's answer and the next Ping, in ms. */
  readonly pingEveryMs: number;
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface PhaseFigures {
  readonly sendMs: Percentiles;
  readonly pingMs: Percentiles;
  /** Ordinary sends refused or failed. */
  readonly sendErrors: number;
  readonly pingErrors: number;
  /** The slowest sends (1%, at least 3): when each started, in s from the phase's start, and its ms. */
  readonly slowestSends: ReadonlyArray<{ atS: number; ms: number }>;
}

const PASSWORD = "bench-password";
const histogram = () => build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000 });
type Histogram = ReturnType<typeof histogram>;

/** Measurements of one phase, by start time. */
class Phase {
  readonly sends: Histogram = histogram();
  readonly pings: Histogram = histogram();
  sendErrors = 0;
  pingErrors = 0;
  pending = 0;
  readonly startedAt = performance.now();
  readonly #sendTimes: Array<{ atS: number; ms: number }> = [];

  /** A send that started at `started` (performance.now()) took `ms`. */
  sent(started: number, ms: number): void {
    record(this.sends, ms);
    this.#sendTimes.push({ atS: (started - this.startedAt) / 1000, ms });
  }

  figures(): PhaseFigures {
    const of = (h: Histogram): Percentiles => ({
      count: h.totalCount,
      p50: h.getValueAtPercentile(50) / 1000,
      p99: h.getValueAtPercentile(99) / 1000,
      max: h.maxValue / 1000,
    });
    return {
      sendMs: of(this.sends),
      pingMs: of(this.pings),
      sendErrors: this.sendErrors,
      pingErrors: this.pingErrors,
      slowestSends: [...this.#sendTimes]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, Math.max(3, Math.ceil(this.#sendTimes.length / 100))),
    };
  }
}

const record = (h: Histogram, ms: number) => h.recordValue(Math.max(1, Math.round(ms * 1000)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers `name` (sign-ins from one address are limited per minute, so a
 * refusal that says when is waited out) and returns its client, on a
 * connection of its own.
 */
export async function accountClient(address: string, name: string): Promise<ChatClient> {
  const client = createChatClient({
    address,
    username: name,
    channelOptions: { "grpc.use_local_subchannel_pool": 1 },
  });
  for (;;) {
    try {
      await client.register(name, PASSWORD);
      return client;
    } catch (error) {
      const wait = error instanceof ChatClientError ? error.retryAfterMs : undefined;
      if (wait === undefined) throw error;
      await sleep(wait);
    }
  }
}

export const roomName = (i: number) => `room${i}`;

export class OrdinaryLoad {
  readonly #params: LoadParams;
  readonly #clients: ChatClient[] = [];
  readonly #sessions: ChatSession[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #pinger: ChatClient | undefined;
  #phase: Phase | undefined;
  #running = false;
  #pingLoop: Promise<void> = Promise.resolve();

  constructor(params: LoadParams) {
    this.#params = params;
  }

  /** Registers everyone, opens their sessions in their rooms. */
  async connect(address: string): Promise<void> {
    const { users, rooms, readers } = this.#params;
    const people = [
      ...Array.from({ length: users }, (_, i) => ({ name: `user${i}`, room: roomName(i % rooms) })),
      ...Array.from({ length: rooms * readers }, (_, i) => ({
        name: `reader${i}`,
        room: roomName(i % rooms),
      })),
    ];
    for (const { name, room } of people) {
      const client = await accountClient(address, name);
      const session = client.openSession();
      // Everything that arrives is read, so the stream is never paused.
      void (async () => {
        for await (const _ of session) {
          // read and dropped
        }
      })();
      await session.join(room);
      this.#clients.push(client);
      this.#sessions.push(session);
    }
    this.#pinger = createChatClient({
      address,
      username: "pinger",
      channelOptions: { "grpc.use_local_subchannel_pool": 1 },
    });
  }

  /** Starts the users' sends and the Ping loop. */
  start(): void {
    this.#running = true;
    const periodMs = 1000 / this.#params.userRate;
    for (let i = 0; i < this.#params.users; i++) {
      const session = this.#sessions[i] as ChatSession;
      const room = roomName(i % this.#params.rooms);
      let n = 0;
      const tick = () => this.#send(session, room, `user ${i} says ${n++}`);
      this.#timers.push(
        setTimeout(() => {
          tick();
          this.#timers.push(setInterval(tick, periodMs));
        }, Math.random() * periodMs),
      );
    }
    this.#pingLoop = this.#pings();
  }

  #send(session: ChatSession, room: string, text: string): void {
    const phase = this.#phase;
    if (phase) phase.pending += 1;
    const started = performance.now();
    session
      .send(text, { room })
      .then(
        () => {
          if (phase) phase.sent(started, performance.now() - started);
        },
        () => {
          if (phase) phase.sendErrors += 1;
        },
      )
      .finally(() => {
        if (phase) phase.pending -= 1;
      });
  }

  async #pings(): Promise<void> {
    const pinger = this.#pinger as ChatClient;
    while (this.#running) {
      const phase = this.#phase;
      if (phase) phase.pending += 1;
      try {
        const ms = await pinger.ping();
        if (phase) record(phase.pings, ms);
      } catch {
        if (phase) phase.pingErrors += 1;
      } finally {
        if (phase) phase.pending -= 1;
      }
      await sleep(this.#params.pingEveryMs);
    }
  }

  /** From now on, sends and Pings that start are recorded for a new phase. */
  begin(): Phase {
    const phase = new Phase();
    this.#phase = phase;
    return phase;
  }

  /** Stops recording; waits (at most 30 s) for what the phase started to finish. */
  async end(phase: Phase): Promise<PhaseFigures> {
    if (this.#phase === phase) this.#phase = undefined;
    const until = performance.now() + 30_000;
    while (phase.pending > 0 && performance.now() < until) await sleep(10);
    return phase.figures();
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#pingLoop;
    for (const session of this.#sessions) session.close();
    for (const client of this.#clients) client.close();
    this.#pinger?.close();
  }
}
