// The page on a link that drops often: every time it is back in its rooms it
// counts as healthy, so the next drop costs one short wait, not a longer one.
// What is checked is what the user sees: the connection indicator leaving
// "Live" after each cut and showing it again within a second, and at the end
// every message, once, in order.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { LiveChat } from "../src/client/live-chat.ts";
import { NO_ABUSE_LIMITS } from "../src/core/limits.ts";
import { DEFAULT_ROOM } from "../src/wire/room-names.ts";
import {
  launchChromium,
  openChat,
  pageErrors,
  shownIds,
  shownTexts,
  signInAsGuest,
  waitForMessage,
} from "./browser-helpers.ts";
import { range } from "./delivery-helpers.ts";
import { startTestServer, testClient, within } from "./helpers.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

const CUTS = 20;
const CUT_EVERY_MS = 1_000;
const BACK_WITHIN_MS = 1_000;
/**
 * Between sends: about 5 a second, so every gap has one or two to catch up
 * on. Not more: the page redraws its message list for each message that
 * arrives, and on a loaded machine a catch-up into a long list alone can
 * take a few hundred ms of the 1 s.
 */
const SEND_EVERY_MS = 200;

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

/** What the connection indicator showed, and when (the page's clock, which is this machine's). */
interface Shown {
  readonly state: string;
  readonly atMs: number;
}

test("a page whose link is cut 20 times in 20 s is live again within 1 s of each cut, every message shown once", async (t) => {
  const server = await startTestServer({ httpPort: 0, limits: NO_ABUSE_LIMITS });
  const proxy = await startTcpProxy(new URL(server.httpUrl ?? "").host);
  const steady = testClient(server, { username: "steady" });
  const sender = new LiveChat(steady, { rooms: [] });
  let sending = false;
  let sends = Promise.resolve();
  try {
    const page = await openChat(browser, `http://${proxy.address}/`);
    await signInAsGuest(page, "flaky");

    // Every change of the indicator, as the page draws it, reported here.
    const shown: Shown[] = [];
    let wake = () => {};
    await page.exposeFunction("connectionShown", (state: string, atMs: number) => {
      shown.push({ state, atMs });
      wake();
    });
    await page.evaluate(() => {
      const report = (window as unknown as { connectionShown(s: string, at: number): void })
        .connectionShown;
      const box = document.getElementById("connection") as HTMLElement;
      new MutationObserver(() => report(box.dataset.state ?? "", Date.now())).observe(box, {
        attributes: true,
        attributeFilter: ["data-state"],
      });
      report(box.dataset.state ?? "", Date.now());
    });
    /** Resolves once the indicator has left "Live" after `sinceMs` and shows it again, with when it did each. */
    const backAfter = (sinceMs: number) =>
      new Promise<{ downMs: number; liveMs: number }>((resolve) => {
        wake = () => {
          const down = shown.find((s) => s.atMs >= sinceMs && s.state !== "live");
          const live = down && shown.find((s) => s.atMs >= down.atMs && s.state === "live");
          if (down && live) resolve({ downMs: down.atMs - sinceMs, liveMs: live.atMs - sinceMs });
        };
        wake();
      });
    await within(
      new Promise<void>((resolve) => {
        wake = () => {
          if (shown.at(-1)?.state === "live") resolve();
        };
        wake();
      }),
      5_000,
      "the indicator reported live",
    );

    sending = true;
    let sent = 0;
    /** When each send was made and acknowledged. */
    const sentAt: { fromMs: number; toMs: number }[] = [];
    sends = (async () => {
      while (sending) {
        const fromMs = Date.now();
        await sender.send(`line ${sent}`, DEFAULT_ROOM);
        sentAt.push({ fromMs, toMs: Date.now() });
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS));
      }
    })();

    const backIn: number[] = [];
    const downs: { fromMs: number; toMs: number }[] = [];
    for (let i = 1; i <= CUTS; i++) {
      const cutAt = Date.now();
      assert.ok(proxy.cut() > 0, `cut ${i} found no connection`);
      // Long enough to see a wait that has grown, short enough to fail fast.
      const { downMs, liveMs } = await within(
        backAfter(cutAt),
        6_000,
        `the page live again after cut ${i}`,
      );
      backIn.push(liveMs);
      downs.push({ fromMs: cutAt + downMs, toMs: cutAt + liveMs });
      assert.ok(downMs < BACK_WITHIN_MS, `cut ${i}: the page showed it only after ${downMs} ms`);
      assert.ok(
        liveMs <= BACK_WITHIN_MS,
        `cut ${i}: live again after ${liveMs} ms (so far: ${backIn.join(", ")} ms)`,
      );
      const rest = CUT_EVERY_MS - (Date.now() - cutAt);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
    sending = false;
    await sends;

    // One drop shown per cut: none missed, none doubled by a failed retry.
    const drops = shown.filter(
      (s, i) => i > 0 && s.state !== "live" && shown[i - 1]?.state === "live",
    );
    assert.equal(drops.length, CUTS, `one drop a cut: ${JSON.stringify(shown)}`);
    // Messages stored while the page was away, which only the resume can bring.
    const whileDown = sentAt.filter((m) =>
      downs.some((d) => m.fromMs >= d.fromMs && m.toMs <= d.toMs),
    ).length;
    t.diagnostic(
      `live again after ${backIn.join(", ")} ms; ${sent} messages, ${whileDown} while down`,
    );
    assert.ok(
      whileDown >= CUTS / 4,
      `only ${whileDown} messages were sent while the page was down`,
    );

    await waitForMessage(page, `line ${sent - 1}`);
    const texts = (await shownTexts(page)).filter((text) => text.startsWith("line "));
    assert.deepEqual(
      texts,
      range(sent).map((n) => `line ${n}`),
      "every message once, in order",
    );
    const ids = await shownIds(page);
    assert.equal(new Set(ids).size, ids.length, "no id shown twice");
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      "messages in id order",
    );
    assert.deepEqual(pageErrors(page), []);
  } finally {
    sending = false;
    await sends.catch(() => {});
    await sender.close();
    steady.close();
    await proxy.close();
    await server.stop();
  }
});
