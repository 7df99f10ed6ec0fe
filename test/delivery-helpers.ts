// What the delivery fault tests share: a reader that files messages by
// sender, and quick reconnects.
import type { ChatClient } from "../src/client/chat-client.ts";
import { LiveChat } from "../src/client/live-chat.ts";
import { within } from "./helpers.ts";

export const FAST_RETRY = { initialMs: 20, maxMs: 200 };

/**
 * Reads a LiveChat's messages into per-sender lists of numbers ("s<sender>
 * <n>" texts); `live` resolves when it first reports itself live.
 */
export function collector(live: LiveChat, options: { slowWhile?: () => boolean } = {}) {
  const bySender = new Map<string, number[]>();
  let total = 0;
  let caughtUps = 0;
  const waiters = new Set<() => void>();
  const isLive = Promise.withResolvers<void>();
  const done = (async () => {
    for await (const event of live) {
      if (event.type === "state") {
        if (event.state.kind === "live") isLive.resolve();
        for (const wake of waiters) wake();
      }
      if (event.type === "caught_up") caughtUps += 1;
      if (event.type !== "message") continue;
      const match = /^(s\d+) (\d+)/.exec(event.message.text);
      if (!match) continue;
      const list = bySender.get(match[1] as string) ?? [];
      list.push(Number(match[2]));
      bySender.set(match[1] as string, list);
      total += 1;
      for (const wake of waiters) wake();
      // A slow reader (a busy device): about 40 messages a second, far fewer
      // than the senders manage even on a busy machine, so it falls behind
      // by more than every buffer on the way holds.
      if (options.slowWhile?.() && total % 2 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  return {
    bySender,
    done,
    live: (what: string) => within(isLive.promise, 10_000, what),
    get total() {
      return total;
    },
    get caughtUps() {
      return caughtUps;
    },
    /** Resolves once `count` messages have arrived. */
    reach(count: number, ms: number, what: string) {
      return this.until(
        () => total >= count,
        ms,
        () => `${what} (have ${total} of ${count})`,
      );
    },
    /** Resolves once `ok` holds, checked at each message and each change of state. */
    until(ok: () => boolean, ms: number, what: () => string) {
      const held = new Promise<void>((resolve) => {
        const check = () => {
          if (ok()) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      });
      return within(held, ms, what());
    },
  };
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Sends "s<sender> <n>" for n below `count` to `room` through a LiveChat of
 * `client` (20 in flight, retried with the same key across reconnects);
 * `acked` gets each text once the server acknowledges it.
 */
export async function sendNumbered(
  client: ChatClient,
  sender: number,
  room: string,
  count: number,
  acked: (text: string) => void,
): Promise<void> {
  const live = new LiveChat(client, { rooms: [], backoff: FAST_RETRY });
  const inFlight = new Set<Promise<unknown>>();
  for (let n = 0; n < count; n++) {
    const text = `s${sender} ${n}`;
    const p = live
      .send(text, room)
      .then(() => acked(text))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 20) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await live.close();
}
