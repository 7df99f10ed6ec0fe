/// <reference lib="dom" />
// Notifications on the web page in a real Chromium against a real server: the
// unread count in the tab's title and as a badge drawn on the favicon, the
// browser's notifications while the page is hidden (following the room's
// level: all, mentions, off), and permission asked only from the user's click.
//
// Chromium is started here and attached to over the DevTools protocol without
// Playwright's default overrides: those emulate focus, which keeps every page
// "visible". Without them a page behind another tab is hidden for real
// (document.visibilityState "hidden", a visibilitychange event).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { CHROMIUM, joinFromPage, signInAsGuest } from "./browser-helpers.ts";
import { startTestServer, tempDir, testClient } from "./helpers.ts";

interface Shown {
  readonly title: string;
  readonly body: string;
  readonly tag: string;
}

interface Recorded {
  notes: { title: string; body: string; tag: string; instance: Notification }[];
  asked: number;
}

/** Records every Notification made and every permission asked, then lets the real ones run. */
function recordNotifications(): void {
  const Real = window.Notification;
  const recorded: Recorded = { notes: [], asked: 0 };
  (window as unknown as { recorded: Recorded }).recorded = recorded;
  const Wrapped = function (this: unknown, title: string, options: NotificationOptions = {}) {
    const instance = new Real(title, options);
    recorded.notes.push({ title, body: options.body ?? "", tag: options.tag ?? "", instance });
    return instance;
  } as unknown as typeof Notification;
  Object.defineProperty(Wrapped, "permission", { get: () => Real.permission });
  Wrapped.requestPermission = (...args: Parameters<typeof Real.requestPermission>) => {
    recorded.asked += 1;
    return Real.requestPermission(...args);
  };
  Wrapped.prototype = Real.prototype;
  window.Notification = Wrapped;
}

let chromiumProcess: ChildProcess;
let profile: { path: string; remove: () => void };
let browser: Browser;

before(async () => {
  profile = tempDir();
  chromiumProcess = spawn(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile.path}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let text = "";
    chromiumProcess.stderr?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (match?.[1]) resolve(match[1]);
    });
    chromiumProcess.once("exit", (code) => reject(new Error(`Chromium ended (${code}): ${text}`)));
  });
  browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
});

after(async () => {
  await browser?.close().catch(() => {});
  // Chromium writes its profile until it has gone: the directory goes after it.
  if (chromiumProcess && chromiumProcess.exitCode === null && chromiumProcess.signalCode === null) {
    const ended = new Promise((resolve) => chromiumProcess.once("exit", resolve));
    chromiumProcess.kill();
    await ended;
  }
  profile?.remove();
});

const recorded = (page: Page) =>
  page.evaluate(() => {
    const { notes, asked } = (window as unknown as { recorded: Recorded }).recorded;
    return { notes: notes.map(({ title, body, tag }) => ({ title, body, tag })), asked };
  });

const shown = async (page: Page): Promise<Shown[]> => (await recorded(page)).notes;

/**
 * Waits for `condition` in the page, polling on a timer: a hidden page runs
 * no animation frames, which Playwright's default polling waits for.
 */
async function until(page: Page, condition: (arg: string) => boolean, arg = ""): Promise<void> {
  await page.waitForFunction(condition, arg, { polling: 50, timeout: 10_000 });
}

/** Waits until the room shown has a message with exactly `text` (hidden or not). */
function showsMessage(page: Page, text: string): Promise<void> {
  return until(
    page,
    (wanted) =>
      [...document.querySelectorAll("#messages .message[data-id] .text")].some(
        (node) => node.textContent === wanted,
      ),
    text,
  );
}

async function hide(page: Page, cover: Page): Promise<void> {
  await cover.bringToFront();
  await until(page, () => document.visibilityState === "hidden");
}

async function show(page: Page): Promise<void> {
  await page.bringToFront();
  await until(page, () => document.visibilityState === "visible");
}

async function setLevel(page: Page, label: string, said: string): Promise<void> {
  await page.click("#room-settings");
  const dialog = page.locator("dialog[open]");
  await dialog.getByLabel(label, { exact: true }).check();
  await dialog.locator(".result", { hasText: `Notifications here: ${said}.` }).waitFor();
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
}

const favicon = (page: Page) =>
  page.evaluate(() => document.querySelector("link[rel~='icon']")?.getAttribute("href") ?? "");

test("the tab's count and favicon badge, notifications while hidden by the room's level, permission only on a click", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20 });
  const omar = testClient(server, { username: "omar" });
  let context: BrowserContext | undefined;
  try {
    const origin = new URL(server.httpUrl ?? "").origin;
    context = browser.contexts()[0];
    assert.ok(context, "the browser's own context");
    await context.addInitScript(recordNotifications);
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(origin);
    const plainIcon = await favicon(page);
    assert.match(plainIcon, /^favicon\.[^/]+\.svg$/);
    await signInAsGuest(page, "nina");
    await joinFromPage(page, "ops");
    await omar.join();

    // Nothing asks at load: the control offers it, and only its click asks.
    const control = page.getByRole("button", { name: "Enable notifications" });
    await control.waitFor();
    await page.waitForTimeout(300);
    assert.equal((await recorded(page)).asked, 0, "no permission asked at load");
    // Headless Chromium answers the question "denied" at once: the control says so.
    await control.click();
    await page.locator("#notifications-state", { hasText: "Notifications are blocked" }).waitFor();
    assert.equal((await recorded(page)).asked, 1);
    assert.equal(await control.isHidden(), true);
    // Allowed in the site's settings (here, by the test): the control follows without a reload.
    await context.grantPermissions(["notifications"], { origin });
    await page.locator("#notifications-state", { hasText: "Notifications are on" }).waitFor();

    const cover = await context.newPage();
    await hide(page, cover);

    // A mention while hidden: one notification, and the tab counts it.
    await omar.send("@nina the deploy is stuck", { room: "ops" });
    await showsMessage(page, "@nina the deploy is stuck");
    assert.deepEqual(await shown(page), [
      { title: "#ops", body: "omar: @nina the deploy is stuck", tag: "ops" },
    ]);
    await until(page, () => document.title === "(1) grpc-chat");
    await until(
      page,
      () =>
        document
          .querySelector("link[rel~='icon']")
          ?.getAttribute("href")
          ?.startsWith("data:image/png") === true,
    );

    // A plain message in a room at "mentions" (the default): none.
    await omar.send("routine log line", { room: "ops" });
    await showsMessage(page, "routine log line");
    assert.equal((await shown(page)).length, 1, "a plain message does not notify");

    // Back in view: the room in front is read, the count and the badge go.
    await show(page);
    await until(page, () => document.title === "grpc-chat");
    await until(
      page,
      (plain) => document.querySelector("link[rel~='icon']")?.getAttribute("href") === plain,
      plainIcon,
    );

    // At "all", a plain message notifies too.
    await setLevel(page, "All messages", "every message");
    await hide(page, cover);
    await omar.send("coffee is ready", { room: "ops" });
    await showsMessage(page, "coffee is ready");
    assert.deepEqual((await shown(page)).at(-1), {
      title: "#ops",
      body: "omar: coffee is ready",
      tag: "ops",
    });
    assert.equal((await shown(page)).length, 2);

    // At "off", not even a mention, and the tab does not count it.
    await show(page);
    await setLevel(page, "Off", "nothing");
    await hide(page, cover);
    await omar.send("@nina ping while muted", { room: "ops" });
    await showsMessage(page, "@nina ping while muted");
    assert.equal((await shown(page)).length, 2, "an off room does not notify");
    assert.equal(await page.title(), "grpc-chat");

    // In view, nothing notifies (a DM, which always would when hidden).
    await show(page);
    const { room: dm } = await omar.openDirect("nina");
    await omar.send("are you around?", { room: dm });
    await page.locator("#directs li", { hasText: "omar" }).waitFor();
    await until(page, () => document.title === "(1) grpc-chat");
    assert.equal((await shown(page)).length, 2, "a visible page does not notify");

    // Hidden, a DM notifies under the peer's name; its click opens the DM.
    await hide(page, cover);
    await omar.send("ping me back when you can", { room: dm });
    await until(page, () => document.title === "(2) grpc-chat");
    assert.deepEqual((await shown(page)).at(-1), {
      title: "omar",
      body: "omar: ping me back when you can",
      tag: dm,
    });
    await page.evaluate(() => {
      const { notes } = (window as unknown as { recorded: Recorded }).recorded;
      notes.at(-1)?.instance.dispatchEvent(new Event("click"));
    });
    await show(page);
    await page.locator("#room-title", { hasText: "@ omar" }).waitFor();
    await until(page, () => document.title === "grpc-chat");
    assert.equal(await favicon(page), plainIcon);
    assert.equal((await recorded(page)).asked, 1, "asked once, from the click");

    // The level is the server's: a reload reads it back from the room list.
    await page.reload();
    await page.locator("#connection[data-state=live]").waitFor();
    await page.click('#rooms li[data-room="ops"] .open-room');
    await page.click("#room-settings");
    await until(page, () => (document.getElementById("notify-off") as HTMLInputElement)?.checked);
    await page.keyboard.press("Escape");
    assert.deepEqual(errors, []);
  } finally {
    omar.close();
    await server.stop();
  }
});
