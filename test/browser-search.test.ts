/// <reference lib="dom" />
// Issue 21 in a real browser against a real server: one user's messages in
// two public rooms, a private room and a DM; another user searches them from
// the page's header, and opens a result in its room at that message.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  launchChromium,
  openChat,
  pageErrors,
  signInAsGuest,
  waitForMessage,
} from "./browser-helpers.ts";
import { startTestServer } from "./helpers.ts";
import { clientsFor, type Headers, okOf } from "./http-clients.ts";

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

const PASSWORD = "correct horse battery";
/** Messages before and after the one a result opens: more than a History page each way. */
const EARLIER = 30;
const LATER = 80;

/** The shown message whose text is exactly `text`. */
const message = (page: Page, text: string) =>
  page.locator("#messages .message[data-id]", {
    has: page.locator(":scope > .text", { hasText: new RegExp(`^${text}$`) }),
  });

const results = (page: Page) => page.locator("#search-results [role=option]");

/** Replaces what the search box holds by typing, key by key, as a person does. */
async function typeSearch(page: Page, text: string): Promise<void> {
  await page.locator("#search-input").fill("");
  await page.locator("#search-input").pressSequentially(text);
}

/** Each result as read: room, sender, text, and the runs marked in it. */
const readResults = (page: Page) =>
  results(page).evaluateAll((options) =>
    options.map((option) => ({
      room: option.querySelector(".search-hit-room")?.textContent,
      sender: option.querySelector(".search-hit-author")?.textContent,
      text: option.querySelector(".search-hit-text")?.textContent,
      marked: [...option.querySelectorAll("mark")].map((mark) => mark.textContent),
    })),
  );

/** Scrolls the message list to one end again and again until `text` is shown. */
async function scrollUntilShown(page: Page, end: "top" | "bottom", text: string): Promise<void> {
  await page.waitForFunction(
    ([end, text]) => {
      const box = document.getElementById("messages");
      if (box === null) return false;
      box.scrollTop = end === "top" ? 0 : box.scrollHeight;
      return [...box.querySelectorAll(".message[data-id] > .text")].some(
        (node) => node.textContent === text,
      );
    },
    [end, text] as const,
    { timeout: 15_000, polling: 100 },
  );
}

test("search from the header: Ctrl+K, highlights in code points, nothing private, a result opens its room at the message", async () => {
  const server = await startTestServer({ httpPort: 0, limits: { sendRate: 0 } });
  const clients = clientsFor(server);
  try {
    // Over Connect, as a browser speaks: ann writes everywhere, carl only has a DM with her.
    const api = clients[1];
    assert.ok(api);
    const account = async (username: string): Promise<Headers> => {
      const token = okOf(await api.unary("register", { username, password: PASSWORD }), username);
      return { authorization: `Bearer ${token.token}` };
    };
    const ann = await account("ann");
    await account("carl");
    const send = async (room: string, text: string) =>
      okOf(await api.unary("send", { room, text }, ann), `send ${text}`);
    for (let i = 1; i <= EARLIER; i++) await send("general", `earlier ${i}`);
    await send("general", "see foo.png");
    for (let i = 1; i <= LATER; i++) await send("general", `later ${i}`);
    await send("paris", "🎉 Café ouvert ce soir");
    okOf(await api.unary("createRoom", { room: "vault", inviteOnly: true }, ann), "createRoom");
    await send("vault", "café secret and foo.png plans");
    const dm = okOf(await api.unary("openDirect", { username: "carl" }, ann), "dm");
    await send(String(dm.room), "a dm about foo.png");
    // Ann can find all of them: what bob does not see below is kept from him, not missing.
    const found = async (query: string) =>
      (okOf(await api.unary("search", { query }, ann), `search ${query}`).hits as unknown[]).length;
    assert.equal(await found("foo.png"), 3);
    assert.equal(await found("cafe"), 2);

    const bob = await openChat(browser, server.httpUrl ?? "");
    await signInAsGuest(bob, "bob");
    let searches = 0;
    bob.on("request", (request) => {
      if (request.url().endsWith("/chat.ChatService/Search")) searches += 1;
    });
    const input = bob.locator("#search-input");
    const focused = () => bob.evaluate(() => document.activeElement?.id);

    // Ctrl+K from the composer, `/` from outside a text field; `/` typed in the composer is text.
    await bob.locator("#text").focus();
    await bob.keyboard.press("Control+k");
    assert.equal(await focused(), "search-input");
    await bob.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await bob.keyboard.press("/");
    assert.equal(await focused(), "search-input");
    assert.equal(await input.inputValue(), "", "the / that focused the box is not typed in it");
    await bob.locator("#text").focus();
    await bob.keyboard.press("/");
    assert.equal(await focused(), "text");
    assert.equal(await bob.locator("#text").inputValue(), "/");
    await bob.locator("#text").fill("");

    // A substring with punctuation, typed key by key: one search once typing pauses, not one per key.
    await bob.keyboard.press("Control+k");
    await typeSearch(bob, "foo.png");
    await results(bob).first().waitFor();
    await bob.locator("#search-status", { hasText: "1 result, newest first." }).waitFor();
    assert.deepEqual(await readResults(bob), [
      { room: "# general", sender: "ann", text: "see foo.png", marked: ["foo.png"] },
    ]);
    assert.ok(searches <= 2, `typing "foo.png" ran ${searches} searches`);
    assert.equal(await input.getAttribute("aria-expanded"), "true");

    // Accents folded, and the range counted in code points: the emoji before it is one, not two.
    await typeSearch(bob, "cafe");
    await results(bob).filter({ hasText: "ouvert" }).waitFor();
    await bob.locator("#search-status", { hasText: "1 result, newest first." }).waitFor();
    assert.deepEqual(await readResults(bob), [
      { room: "# paris", sender: "ann", text: "🎉 Café ouvert ce soir", marked: ["Café"] },
    ]);

    // The server's sentence for a query it cannot read; nothing found, said plainly.
    await typeSearch(bob, '"unclosed');
    await bob.locator("#search-error", { hasText: 'has a " that is not closed' }).waitFor();
    assert.equal(await results(bob).count(), 0);
    await typeSearch(bob, "zebra");
    await bob.locator("#search-status", { hasText: "No results for “zebra”." }).waitFor();
    assert.equal(await bob.locator("#search-error").textContent(), "");

    // Newest first, a page at a time: More (or ArrowDown past the last) asks for the next.
    await typeSearch(bob, "later");
    await bob.locator("#search-status", { hasText: "20+ results, newest first." }).waitFor();
    assert.deepEqual(
      (await readResults(bob)).slice(0, 2).map((result) => result.text),
      [`later ${LATER}`, `later ${LATER - 1}`],
    );
    await bob.getByRole("button", { name: "More results" }).click();
    await bob.locator("#search-status", { hasText: "40+ results, newest first." }).waitFor();
    assert.equal((await readResults(bob))[39]?.text, `later ${LATER - 39}`);
    assert.equal(await focused(), "search-input", "a click on More leaves the focus in the box");
    await typeSearch(bob, "zebra");
    await bob.locator("#search-status", { hasText: "No results for “zebra”." }).waitFor();

    // Escape closes the results and leaves the query.
    await bob.keyboard.press("Escape");
    await bob.locator("#search-panel").waitFor({ state: "hidden" });
    assert.equal(await input.getAttribute("aria-expanded"), "false");
    assert.equal(await input.inputValue(), "zebra");

    // Arrow keys and Enter open the room at the message, far from its newest, highlighted.
    await typeSearch(bob, "foo.png");
    await results(bob).filter({ hasText: "see foo.png" }).waitFor();
    await bob.keyboard.press("ArrowDown");
    assert.equal(await results(bob).first().getAttribute("aria-selected"), "true");
    assert.equal(await input.getAttribute("aria-activedescendant"), "search-hit-0");
    await bob.keyboard.press("Enter");
    await bob.locator("#room-title", { hasText: "# general" }).waitFor();
    const hit = message(bob, "see foo.png");
    await hit.and(bob.locator(".highlight")).waitFor();
    // Joining the room redraws its messages once it is live: the message keeps the focus.
    await bob.locator("#connection[data-state=live]").waitFor();
    assert.equal(await hit.evaluate((node) => node === document.activeElement), true);
    assert.equal(await bob.locator("#search-panel").isHidden(), true);
    await waitForMessage(bob, `earlier ${EARLIER}`);
    await waitForMessage(bob, "later 1");
    assert.equal(await message(bob, `later ${LATER}`).count(), 0, "opened at the hit, not the end");
    const bar = bob.locator(".older-stretch", { hasText: "You are reading older messages." });
    await bar.waitFor();

    // On in both directions: older pages scrolling up, newer ones scrolling down, to the newest.
    await scrollUntilShown(bob, "top", "earlier 1");
    await scrollUntilShown(bob, "bottom", `later ${LATER}`);
    await bar.waitFor({ state: "hidden" });
    const texts = await bob.$$eval("#messages .message[data-id] > .text", (nodes) =>
      nodes.map((node) => node.textContent),
    );
    const expected = [
      ...Array.from({ length: EARLIER }, (_, i) => `earlier ${i + 1}`),
      "see foo.png",
      ...Array.from({ length: LATER }, (_, i) => `later ${i + 1}`),
    ];
    assert.deepEqual(texts, expected, "every message once, in order, no gap");
    // The room is whole again: what is said now arrives live at its end.
    await send("general", "live again");
    await waitForMessage(bob, "live again");

    // A click opens a result in another room.
    await bob.keyboard.press("Control+k");
    await typeSearch(bob, "cafe");
    const cafe = results(bob).filter({ hasText: "ouvert" });
    await cafe.waitFor();
    await cafe.click();
    await bob.locator("#room-title", { hasText: "# paris" }).waitFor();
    await message(bob, "🎉 Café ouvert ce soir").and(bob.locator(".highlight")).waitFor();

    // Opened at an older message again: sending there goes back to the newest, and so does the button.
    const openFooPng = async () => {
      await bob.keyboard.press("Control+k");
      await typeSearch(bob, "foo.png");
      await results(bob).filter({ hasText: "see foo.png" }).waitFor();
      await bob.keyboard.press("ArrowDown");
      await bob.keyboard.press("Enter");
      await message(bob, "see foo.png").and(bob.locator(".highlight")).waitFor();
      await bar.waitFor();
    };
    // A reload loads each room from its newest page: the hit is not among them.
    await bob.reload();
    await bob.locator("#connection[data-state=live]").waitFor();
    await openFooPng();
    await bob.locator("#text").fill("back to the present");
    await bob.locator("#text").press("Enter");
    await bar.waitFor({ state: "hidden" });
    await waitForMessage(bob, "back to the present");
    await waitForMessage(bob, "live again");
    assert.equal(await message(bob, "see foo.png").count(), 0, "the newest page, not the hit's");
    await openFooPng();
    await bar.getByRole("button", { name: "Jump to the newest" }).click();
    await bar.waitFor({ state: "hidden" });
    await waitForMessage(bob, "back to the present");
    assert.equal(await message(bob, "see foo.png").count(), 0);
    assert.equal(await focused(), "text");

    assert.ok(searches < 20, `${searches} searches for a handful of queries`);
    assert.deepEqual(pageErrors(bob), []);
  } finally {
    for (const client of clients) client.close();
    await server.stop();
  }
});
