/// <reference lib="dom" />
// Issue 19 in a real browser against a real server: changing messages from
// the per-message menu by keyboard as another user's page sees it, typing,
// and read markers with the "New" divider across two pages of one account.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  launchChromium,
  openChat,
  pageErrors,
  sendFromPage,
  signInAsGuest,
  signInWithAccount,
  waitForMessage,
} from "./browser-helpers.ts";
import { liveUser, startTestServer } from "./helpers.ts";

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

/** The shown message whose text is exactly `text`. */
const message = (page: Page, text: string) =>
  page.locator("#messages .message[data-id]", {
    has: page.locator(":scope > .text", { hasText: new RegExp(`^${text}$`) }),
  });

/** The message list as read: each message's text, "New" for the divider. */
const shownOrder = (page: Page) =>
  page.$$eval("#messages > *", (nodes) =>
    nodes.map((n) =>
      n.classList.contains("new-divider")
        ? "New"
        : (n.querySelector(".text")?.textContent ?? n.textContent),
    ),
  );

/** Opens a message's menu from the keyboard: focus its button, Enter. */
async function openMenu(page: Page, text: string): Promise<void> {
  await message(page, text).locator(".actions").focus();
  await page.keyboard.press("Enter");
  await page.locator(".message-menu [role=menuitem]:focus").waitFor();
}

test("reply, react, edit and delete from the message menu by keyboard, seen on another user's page; typing shows there and expires", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20, typingExpiryMs: 1_000 });
  try {
    const ann = await openChat(browser, server.httpUrl ?? "");
    const ben = await openChat(browser, server.httpUrl ?? "");
    await signInAsGuest(ann, "ann");
    await signInAsGuest(ben, "ben");

    // Typing: shown to ben while ann types, gone once the server lets it expire.
    await ann.locator("#text").pressSequentially("first");
    await ben.locator("#typing", { hasText: "ann is typing…" }).waitFor();
    await ben.locator("#typing", { hasText: /^$/ }).waitFor({ timeout: 5_000 });
    assert.equal(await ann.textContent("#typing"), "", "nobody else typing at ann's");
    await ann.fill("#text", "");

    await sendFromPage(ann, "first **draft**");
    await waitForMessage(ben, "first draft");
    assert.equal(await message(ben, "first draft").locator(".text strong").textContent(), "draft");

    // React from ben's keyboard: menu, down to React…, the picker's first emoji.
    await openMenu(ben, "first draft");
    assert.deepEqual(
      await ben.locator(".message-menu [role=menuitem]").allTextContents(),
      ["Reply", "React…", "Report…"],
      "no Edit or Delete on someone else's message",
    );
    await ben.keyboard.press("ArrowDown");
    await ben.keyboard.press("Enter");
    await ben.locator(".reaction-picker .emoji-choice:focus").waitFor();
    await ben.keyboard.press("Enter");
    const chip = (page: Page) => message(page, "first draft").locator(".chip", { hasText: "👍" });
    await chip(ann).filter({ hasText: "1" }).waitFor();
    assert.equal(await chip(ann).getAttribute("aria-pressed"), "false");
    assert.equal(await chip(ben).getAttribute("aria-pressed"), "true");
    // Ann adds hers by clicking the chip.
    await chip(ann).click();
    for (const page of [ann, ben]) await chip(page).filter({ hasText: "2" }).waitFor();
    assert.equal(await chip(ann).getAttribute("aria-pressed"), "true");
    assert.match((await chip(ben).getAttribute("aria-label")) ?? "", /2 people, you included/);

    // Reply from ben's keyboard: the composer says what it answers.
    await openMenu(ben, "first draft");
    await ben.keyboard.press("Enter");
    await ben.locator("#reply-bar", { hasText: "Replying to ann: first draft" }).waitFor();
    assert.equal(await ben.evaluate(() => document.activeElement?.id), "text");
    await ben.keyboard.type("agreed");
    await ben.keyboard.press("Enter");
    await waitForMessage(ann, "agreed");
    assert.equal(await ben.isHidden("#reply-bar"), true, "the reply bar goes once sent");
    const quote = message(ann, "agreed").locator(".reply-quote");
    assert.match((await quote.textContent()) ?? "", /ann: first draft/);
    await quote.click();
    await message(ann, "first draft").and(ann.locator(".highlight")).waitFor();

    // Edit: Up in ann's empty composer opens her last message in the editor.
    await ann.locator("#text").focus();
    await ann.keyboard.press("ArrowUp");
    const editor = ann.locator("#messages .edit-box");
    await editor.and(ann.locator(":focus")).waitFor();
    assert.equal(await editor.inputValue(), "first **draft**");
    await editor.fill("final **text**");
    await ann.keyboard.press("Enter");
    for (const page of [ann, ben]) await waitForMessage(page, "final text");
    assert.equal(await ann.evaluate(() => document.activeElement?.id), "text", "focus back");
    const edited = message(ben, "final text").locator(".edited");
    assert.equal(await edited.textContent(), "(edited)");
    assert.match((await edited.getAttribute("title")) ?? "", /^Edited /);
    await message(ben, "agreed").locator(".reply-quote", { hasText: "ann: final text" }).waitFor();

    // A reload draws everything from History in its current state.
    await ben.reload();
    await waitForMessage(ben, "final text");
    assert.equal(await message(ben, "final text").locator(".edited").count(), 1);
    assert.equal(await chip(ben).count(), 0, "the chip is on the edited message now");
    const chipAfter = message(ben, "final text").locator(".chip", { hasText: "👍" });
    assert.equal(await chipAfter.textContent(), "👍2");
    assert.equal(await chipAfter.getAttribute("aria-pressed"), "true");

    // Delete from ann's keyboard, confirmed.
    await openMenu(ann, "final text");
    await ann.keyboard.press("End");
    assert.equal(await ann.evaluate(() => document.activeElement?.textContent), "Delete");
    await ann.keyboard.press("Enter");
    await ann.locator(".confirm .confirm-cancel:focus").waitFor();
    await ann.keyboard.press("Shift+Tab");
    await ann.keyboard.press("Enter");
    for (const page of [ann, ben]) {
      await waitForMessage(page, "message deleted");
      const tombstone = message(page, "message deleted");
      assert.equal(await tombstone.locator(".chip, .actions").count(), 0);
      await message(page, "agreed")
        .locator(".reply-quote", { hasText: "ann: message deleted" })
        .waitFor();
    }

    // A reply to a message older than the page shown: its quote is fetched,
    // and pressing it loads history back to the original.
    const agreedId = Number(await message(ann, "agreed").getAttribute("data-id"));
    const nat = await liveUser(server, "nat");
    for (let i = 1; i <= 55; i += 1) await nat.session.send(`filler ${i}`);
    await nat.client.send("back to that", { room: "lobby", replyTo: agreedId });
    nat.client.close();
    await ben.reload();
    await waitForMessage(ben, "back to that");
    assert.equal(await message(ben, "agreed").count(), 0, "the original is not on the first page");
    const farQuote = message(ben, "back to that").locator(".reply-quote");
    await farQuote.filter({ hasText: "ben: agreed" }).waitFor();
    await farQuote.click();
    await message(ben, "agreed").and(ben.locator(".highlight")).waitFor();
    assert.deepEqual(pageErrors(ann), []);
    assert.deepEqual(pageErrors(ben), []);
  } finally {
    await server.stop();
  }
});

test("the New divider and the read marker follow one account across two pages", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20 });
  const bob = await liveUser(server, "bob");
  try {
    const first = await openChat(browser, server.httpUrl ?? "");
    await signInWithAccount(first, "ann", "correct horse battery", "register");
    const second = await openChat(browser, server.httpUrl ?? "");
    await signInWithAccount(second, "ann", "correct horse battery", "login");
    await bob.session.send("read before");
    for (const page of [first, second]) {
      await waitForMessage(page, "read before");
      await page.fill("#join-room", "side");
      await page.press("#join-room", "Enter");
      await page.locator("#room-title", { hasText: "# side" }).waitFor();
    }
    // Both pages were on lobby and saw "read before": the marker is there.
    await bob.session.send("new one");
    await bob.session.send("new two");
    const badge = (page: Page) => page.locator('#rooms li[data-room="lobby"] .unread');
    for (const page of [first, second]) await badge(page).filter({ hasText: /^2$/ }).waitFor();

    // The second page opens lobby: New above the first unread, and reading it
    // there clears the badge on the first page.
    await second.click('#rooms li[data-room="lobby"] .open-room');
    await waitForMessage(second, "new two");
    const order = await shownOrder(second);
    const at = order.indexOf("New");
    assert.ok(at > 0, `a New divider: ${order}`);
    assert.equal(order[at + 1], "new one");
    assert.equal(order[at - 1], "read before");
    await badge(first).filter({ hasText: /^$/ }).waitFor({ state: "attached" });

    // The first page opens lobby after the marker moved: nothing is new there.
    await first.click('#rooms li[data-room="lobby"] .open-room');
    await waitForMessage(first, "new two");
    assert.equal(await first.locator(".new-divider").count(), 0);

    // A page that loads with lobby in front places New from the marker its join brings.
    await first.click('#rooms li[data-room="side"] .open-room');
    await second.click('#rooms li[data-room="side"] .open-room');
    await bob.session.send("while away");
    const third = await openChat(browser, server.httpUrl ?? "");
    await signInWithAccount(third, "ann", "correct horse battery", "login");
    await waitForMessage(third, "while away");
    assert.deepEqual(await shownOrder(third).then((o) => o.slice(-3)), [
      "new two",
      "New",
      "while away",
    ]);
    for (const page of [first, second, third]) assert.deepEqual(pageErrors(page), []);
  } finally {
    bob.client.close();
    await server.stop();
  }
});
