/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Driving the web client in Debian's Chromium with playwright-core (which
// downloads no browser of its own); `npm test`'s set-up installs Chromium.
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI needs --no-sandbox; the rest keep Chromium off the network it cannot reach.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A page in a context of its own: its own storage, so its own user. */
export async function openChat(
  browser: Browser,
  url: string,
  viewport = { width: 1100, height: 760 },
): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(url);
  return page;
}

export async function signInAsGuest(page: Page, name: string): Promise<void> {
  await page.fill("#name", name);
  await page.click("#guest");
  await page.locator("#connection[data-state=live]").waitFor({ timeout: 10_000 });
}

/** Registers (or logs in) an account on the sign-in form. */
export async function signInWithAccount(
  page: Page,
  name: string,
  password: string,
  how: "register" | "login",
): Promise<void> {
  await page.fill("#name", name);
  await page.fill("#password", password);
  await page.click(`#${how}`);
  await page.locator("#connection[data-state=live]").waitFor({ timeout: 10_000 });
}

/** Uncaught errors the page has thrown since it opened. */
export function pageErrors(page: Page): string[] {
  return (page as Page & { errors: string[] }).errors;
}

export async function sendFromPage(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

/** Waits until the shown room has a delivered (not pending) message with exactly `text`. */
export async function waitForMessage(page: Page, text: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (wanted) =>
      [...document.querySelectorAll("#messages .message[data-id]")].some(
        (m) =>
          m.getAttribute("data-pending") !== "true" &&
          m.querySelector(".text")?.textContent === wanted,
      ),
    text,
    { timeout },
  );
}

/** The texts of the shown room's messages, in order. */
export function shownTexts(page: Page): Promise<string[]> {
  return page.$$eval("#messages .message .text", (nodes) => nodes.map((n) => n.textContent ?? ""));
}

/** The ids of the shown room's delivered messages, in order. */
export function shownIds(page: Page): Promise<number[]> {
  return page.$$eval("#messages .message[data-id]", (nodes) =>
    nodes.map((n) => Number(n.getAttribute("data-id"))),
  );
}

/** Joins (or switches to) a room from the sidebar's input, and waits until it is shown. */
export async function joinFromPage(page: Page, room: string): Promise<void> {
  await page.fill("#join-room", room);
  await page.press("#join-room", "Enter");
  await page.locator("#room-title", { hasText: `# ${room}` }).waitFor();
}
