/// <reference lib="dom" />
// The account settings in a real browser against a real server: an account
// sets its digest address (kept by the server, refused with the server's
// sentence when bad), makes a bot whose token is shown once on the page, the
// token posts through the SDK and shows with a bot mark, and revoking it from
// the page stops it at once; a new token brings it back. A guest is told these
// need an account, and the page asks the server nothing for them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { Browser } from "playwright-core";
import {
  joinFromPage,
  launchChromium,
  openChat,
  pageErrors,
  signInAsGuest,
  signInWithAccount,
} from "./browser-helpers.ts";
import { refusal, startTestServer, testClient } from "./helpers.ts";

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

const PASSWORD = "correct horse battery";

test("an account sets its email and makes, uses, revokes and renews a bot from the page", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20 });
  const sdk = testClient(server, { username: "ada" });
  try {
    const page = await openChat(browser, server.httpUrl ?? "");
    const errors = pageErrors(page);
    await signInWithAccount(page, "ada", PASSWORD, "register");
    await joinFromPage(page, "hall");

    await page.click("#account");
    const dialog = page.locator("dialog[open]");
    await dialog.getByText("No address: nothing is emailed.").waitFor();
    await dialog.getByText(/if this server sends email/).waitFor();
    const email = dialog.getByLabel("Email address", { exact: true });
    await email.fill("ada@example.org");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.locator(".result", { hasText: "Saved: digests go to ada@example.org." }).waitFor();
    await sdk.login("ada", PASSWORD);
    assert.equal((await sdk.whoAmI()).email, "ada@example.org", "the server keeps the address");

    await email.fill("not-an-address");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog
      .locator(".result.error", {
        hasText: '"not-an-address" is not an email address like name@example.org.',
      })
      .waitFor();
    assert.equal(
      (await sdk.whoAmI()).email,
      "ada@example.org",
      "a refused address changes nothing",
    );

    await dialog.getByLabel("Bot name").fill("greeter");
    await dialog.getByLabel("Rooms (comma-separated)").fill("#hall");
    await dialog.getByLabel("May read its rooms").check();
    await dialog.getByRole("button", { name: "Create bot" }).click();
    const tokenField = dialog.getByLabel("Token (shown only now)");
    await tokenField.waitFor();
    const token = await tokenField.inputValue();
    assert.match(token, /^bot_/);
    assert.equal(await dialog.getByLabel("Signing secret (shown only now)").isVisible(), false);
    await dialog.getByText(/greeter's token is shown only now/).waitFor();
    const listed = dialog.getByRole("list", { name: "Your bots" }).locator("li[data-bot=greeter]");
    await listed.getByText("working").waitFor();
    await listed.getByText("Reads and posts in #hall").waitFor();
    await page.keyboard.press("Escape");

    const bot = testClient(server, { username: "greeter", token });
    await bot.send("hello from the bot", { room: "hall" });
    const shown = page.locator("#messages .message[data-id]", { hasText: "hello from the bot" });
    await shown.waitFor();
    assert.equal(await shown.locator(".author").textContent(), "greeter");
    assert.equal(await shown.locator(".bot").textContent(), "bot");

    await page.click("#account");
    await dialog.getByRole("button", { name: "Revoke the bot greeter" }).click();
    await dialog.locator(".result", { hasText: "greeter revoked" }).waitFor();
    await listed.getByText("revoked").waitFor();
    const refused = await refusal(bot.send("still here?", { room: "hall" }));
    assert.equal(refused.code, status.UNAUTHENTICATED);
    bot.close();

    await dialog.getByRole("button", { name: "New token for greeter" }).click();
    await dialog.getByText(/greeter's token is shown only now/).waitFor();
    const renewed = await tokenField.inputValue();
    assert.match(renewed, /^bot_/);
    assert.notEqual(renewed, token);
    await listed.getByText("working").waitFor();
    const again = testClient(server, { username: "greeter", token: renewed });
    await again.send("back again", { room: "hall" });
    again.close();

    await dialog.getByRole("button", { name: "Clear the email address" }).click();
    await dialog.getByText("No address: nothing is emailed.").waitFor();
    assert.equal((await sdk.whoAmI()).email, undefined, "Clear stops the emails");
    assert.deepEqual(errors, []);
  } finally {
    sdk.close();
    await server.stop();
  }
});

test("a guest is told that email and bots need an account, and nothing is asked", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20 });
  try {
    const page = await openChat(browser, server.httpUrl ?? "");
    const errors = pageErrors(page);
    await signInAsGuest(page, "gus");
    const asked: string[] = [];
    page.on("request", (request) => {
      if (/\/(WhoAmI|SetEmail|ListBots|CreateBot|RevokeBot)$/.test(request.url())) {
        asked.push(request.url());
      }
    });
    await page.click("#account");
    const dialog = page.locator("dialog[open]");
    await dialog.getByText(/email address for digests and bots need an account/).waitFor();
    assert.equal(await dialog.getByLabel("Email address", { exact: true }).count(), 0);
    assert.equal(await dialog.getByRole("button", { name: "Create bot" }).count(), 0);
    assert.deepEqual(asked, []);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.deepEqual(errors, []);
  } finally {
    await server.stop();
  }
});

test("a bot with an outgoing URL shows its signing secret once, and its last failure in the list", async () => {
  // Loopback is allowed so that a closed local port gives a quick, certain failure.
  const server = await startTestServer({
    httpPort: 0,
    presenceTickMs: 20,
    outgoingHooksPrivate: true,
    hooks: { firstRetryMs: 50, pollMs: 200 },
  });
  try {
    const page = await openChat(browser, server.httpUrl ?? "");
    const errors = pageErrors(page);
    await signInWithAccount(page, "olga", PASSWORD, "register");
    await joinFromPage(page, "ops");

    await page.click("#account");
    const dialog = page.locator("dialog[open]");
    await dialog.getByLabel("Bot name").fill("deployer");
    await dialog.getByLabel("Rooms (comma-separated)").fill("ops");
    const words = dialog.getByLabel("Trigger words (comma-separated)");
    assert.equal(await words.isVisible(), false, "no trigger words before an address and 'words'");
    await dialog.getByLabel("Outgoing URL").fill("http://127.0.0.1:9/hook");
    await dialog.getByLabel("What it is sent").selectOption("words");
    await words.fill("deploy, ship");
    await dialog.getByRole("button", { name: "Create bot" }).click();
    await dialog.getByText(/deployer's token and signing secret are shown only now/).waitFor();
    assert.match(await dialog.getByLabel("Token (shown only now)").inputValue(), /^bot_/);
    assert.ok((await dialog.getByLabel("Signing secret (shown only now)").inputValue()).length > 0);
    const listed = dialog.getByRole("list", { name: "Your bots" }).locator("li[data-bot=deployer]");
    await listed.getByText("Posts only in #ops").waitFor();
    await listed.getByText("POSTs messages with deploy, ship to http://127.0.0.1:9/hook").waitFor();
    await page.keyboard.press("Escape");

    await page.fill("#text", "please deploy");
    await page.press("#text", "Enter");
    // The list is read as the dialog opens: reopen it until the failure is there.
    for (let attempt = 0; ; attempt += 1) {
      await page.click("#account");
      await listed.waitFor();
      if ((await listed.locator(".bot-error").count()) > 0) break;
      assert.ok(attempt < 50, "the failed delivery shows in the list");
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      await page.waitForTimeout(200);
    }
    assert.match((await listed.locator(".bot-error").textContent()) ?? "", /^Last error \(.+\): /);
    await listed.getByText(/0 delivered, [1-9]\d* failed/).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await server.stop();
  }
});
