/// <reference lib="dom" />
// Incoming webhooks in a real browser against a real server: the room's owner
// makes one in the room's settings, a tool posts to its address with curl,
// the post shows with the hook's name and a bot mark, and revoking it from
// the settings stops the address at once.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import {
  joinFromPage,
  launchChromium,
  openChat,
  pageErrors,
  sendFromPage,
  signInAsGuest,
  waitForMessage,
} from "./browser-helpers.ts";
import { startTestServer, testClient } from "./helpers.ts";

const run = promisify(execFile);

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

/** The HTTP status of curl's POST of `text` (curl's default form type, taken as plain text). */
async function post(url: string, text: string): Promise<number> {
  const { stdout } = await run("curl", [
    "-s",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
    "-d",
    text,
    url,
  ]);
  return Number(stdout);
}

test("a moderator makes a webhook in the room's settings; its posts show with a bot mark; revoking it stops them", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20 });
  try {
    const page = await openChat(browser, server.httpUrl ?? "");
    const errors = pageErrors(page);
    await signInAsGuest(page, "wendy");
    await joinFromPage(page, "builds");
    await sendFromPage(page, "hooking up CI");
    await waitForMessage(page, "hooking up CI");

    await page.click("#room-settings");
    const dialog = page.locator("dialog[open]");
    await dialog.getByLabel("Webhook name").fill("CI");
    await dialog.getByRole("button", { name: "Create webhook" }).click();
    const address = dialog.getByLabel("Its address (shown only now)");
    await address.waitFor();
    const url = await address.inputValue();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/hooks\/[A-Za-z0-9_-]{32}$/);
    await dialog
      .getByRole("list", { name: "This room's webhooks" })
      .getByText(/^CI: works/)
      .waitFor();
    await page.keyboard.press("Escape");

    assert.equal(await post(url, "build 7 passed"), 200);
    const shown = page.locator("#messages .message[data-id]", { hasText: "build 7 passed" });
    await shown.waitFor();
    assert.equal(await shown.locator(".author").textContent(), "CI");
    assert.equal(await shown.locator(".bot").textContent(), "bot");
    const human = page.locator("#messages .message[data-id]", { hasText: "hooking up CI" });
    assert.equal(await human.locator(".bot").count(), 0, "a person's message has no bot mark");

    await page.click("#room-settings");
    await dialog.getByRole("button", { name: "Revoke the webhook CI" }).click();
    await dialog.locator(".result", { hasText: "CI revoked" }).waitFor();
    await dialog.getByText(/^CI: revoked/).waitFor();
    assert.equal(await post(url, "too late"), 404);
    assert.deepEqual(errors, []);
  } finally {
    await server.stop();
  }
});

test("a bot reading the room shows among its members with a bot mark", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20 });
  const owner = testClient(server, { username: "bea" });
  try {
    await owner.register("bea", "correct horse battery");
    const made = await owner.bots.create({ name: "greeter", rooms: ["hall"], read: true });
    const bot = testClient(server, { username: "greeter", token: made.token });
    const session = bot.openSession();
    await session.join("hall");
    const page = await openChat(browser, server.httpUrl ?? "");
    const errors = pageErrors(page);
    await signInAsGuest(page, "vera");
    await joinFromPage(page, "hall");
    const member = page.locator('#members li[data-user^="b-"]');
    await member.waitFor();
    assert.equal(await member.locator("button").first().textContent(), "greeter");
    assert.equal(await member.locator(".bot").textContent(), "bot");
    // A person has no mark.
    assert.equal(await page.locator('#members li:not([data-user^="b-"]) .bot').count(), 0);
    assert.deepEqual(errors, []);
    session.close();
    bot.close();
    await page.close();
  } finally {
    owner.close();
    await server.stop();
  }
});
