// Fan-out: C clients in one room on the seed's wire, each on its own HTTP/2
// connection; S of them send, at R messages/s each or as fast as a window of
// W unconfirmed messages allows (confirmed: seen by an observing client).
// Measures deliveries/s, loss, duplicates and latency (HDR histogram).
import { build } from "hdr-histogram-js";
import { connectSeed, type SeedConnection } from "./seed-load.ts";

export interface FanoutParams {
  readonly clients: number;
  readonly senders: number;
  /** Messages per second per sender; 0: as fast as the window allows. */
  readonly rate: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly window: number;
}

export interface FanoutResult {
  readonly sent: number;
  readonly deliveries: number;
  readonly deliveriesPerSecond: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** From the first send to the last delivery. */
  readonly elapsedSeconds: number;
}

const TEXT = /^b (\d+) (\d+) (\d+\.\d+) /;

/** How a client joins the room: the seed's ChatStream unless said otherwise. */
export type ConnectClient<Address> = (
  address: Address,
  name: string,
  onMessage: (text: string) => void,
) => Promise<SeedConnection>;

/** `connected` is called once every client is in the room, before sending starts. */
export async function runFanout<Address = string>(
  /** One address, or several nodes of a cluster: clients take them in turn. */
  address: Address | readonly Address[],
  params: FanoutParams,
  connected: () => void = () => {},
  connectClient: ConnectClient<Address> = connectSeed as unknown as ConnectClient<Address>,
): Promise<FanoutResult> {
  const { clients, senders, window } = params;
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  const padding = "x".repeat(Math.max(0, params.bytes - 32));
  const sent = new Array<number>(senders).fill(0);
  // Per client, per sender: the last number seen, and how many arrived.
  const last = Array.from({ length: clients }, () => new Array<number>(senders).fill(-1));
  const got = Array.from({ length: clients }, () => new Array<number>(senders).fill(0));
  let duplicated = 0;
  let lastDeliveryAt = 0;
  let probesSeen = 0;
  const probed = new Array<boolean>(clients).fill(false);
  // The observer confirms a sender's messages; a sender waits on it when its window is full.
  const observer = senders < clients ? senders : 1;
  const observerFor = (s: number) => (s === observer ? 0 : observer);
  const progress: Array<(() => void) | undefined> = new Array(senders).fill(undefined);

  const connections: SeedConnection[] = [];
  for (let i = 0; i < clients; i++) {
    connections.push(
      await connectClient(addressOf(address, i), `c${i}`, (text) => {
        if (text.startsWith("probe")) {
          if (!probed[i]) probesSeen += 1;
          probed[i] = true;
          return;
        }
        const match = TEXT.exec(text);
        if (!match) return;
        const s = Number(match[1]);
        const n = Number(match[2]);
        const seen = last[i] as number[];
        if (n <= (seen[s] as number)) {
          duplicated += 1;
          return;
        }
        seen[s] = n;
        (got[i] as number[])[s] = ((got[i] as number[])[s] as number) + 1;
        const now = performance.now();
        lastDeliveryAt = now;
        histogram.recordValue(Math.max(1, Math.round((now - Number(match[3])) * 1000)));
        if (i === observerFor(s)) {
          const wake = progress[s];
          progress[s] = undefined;
          wake?.();
        }
      }),
    );
  }
  // Everyone is in the room once a probe from one of them reaches all the others.
  const prober = connections[0] as SeedConnection;
  probed[0] = true;
  probesSeen = 1;
  for (let k = 0; probesSeen < clients; k++) {
    if (k > 300) throw new Error(`only ${probesSeen} of ${clients} clients heard the probe`);
    prober.write(`probe ${k}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  connected();
  const started = performance.now();
  const until = started + params.seconds * 1000;
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      const connection = connections[s] as SeedConnection;
      const confirmed = () => (got[observerFor(s)] as number[])[s] as number;
      const perTick = params.rate > 0 ? params.rate / 100 : 0;
      let allowance = 0;
      let tick = performance.now();
      while (performance.now() < until) {
        if (perTick > 0) {
          // Paced: a 10 ms tick's share at a time.
          if (allowance < 1) {
            tick += 10;
            await new Promise((resolve) =>
              setTimeout(resolve, Math.max(0, tick - performance.now())),
            );
            allowance += perTick;
            continue;
          }
          allowance -= 1;
        } else if ((sent[s] as number) - confirmed() >= window) {
          await new Promise<void>((resolve) => {
            progress[s] = resolve;
            setTimeout(resolve, 50);
          });
          continue;
        }
        const n = sent[s] as number;
        sent[s] = n + 1;
        const ok = connection.write(`b ${s} ${n} ${performance.now().toFixed(3)} ${padding}`);
        if (!ok) await connection.drained();
      }
    }),
  );
  // Drain: wait until every client has every message it should, or nothing moved for 5 s.
  const expected = (i: number) => sent.reduce((sum, count, s) => sum + (s === i ? 0 : count), 0);
  const received = (i: number) => (got[i] as number[]).reduce((a, b) => a + b, 0);
  for (;;) {
    const missing = connections.some((_, i) => received(i) < expected(i));
    if (!missing || performance.now() - Math.max(lastDeliveryAt, until) > 5_000) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const connection of connections) connection.close();
  let deliveries = 0;
  let lost = 0;
  for (let i = 0; i < clients; i++) {
    deliveries += received(i);
    lost += Math.max(0, expected(i) - received(i));
  }
  const elapsedSeconds = (lastDeliveryAt - started) / 1000;
  const ms = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  return {
    sent: sent.reduce((a, b) => a + b, 0),
    deliveries,
    deliveriesPerSecond: deliveries / elapsedSeconds,
    lost,
    duplicated,
    latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: histogram.maxValue / 1000 },
    elapsedSeconds,
  };
}

function addressOf<Address>(address: Address | readonly Address[], i: number): Address {
  return Array.isArray(address) ? (address[i % address.length] as Address) : (address as Address);
}
