/// <reference lib="dom" />
// Rooms a team governs, in a real browser against a real server: the owner
// makes a room invite-only from its settings and shares an invite link;
// a member reports a message and the owner resolves it from the queue; a
// ban and a mute as the people concerned see them, and a read-only room.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  joinFromPage,
  launchChromium,
  openChat,
  pageErrors,
  sendFromPage,
  signInAsGuest,
  waitForMessage,
} from "./browser-helpers.ts";
import { startTestServer } from "./helpers.ts";

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

const HOUR = 3_600_000;

/** The shown message whose text is exactly `text`. */
const message = (page: Page, text: string) =>
  page.locator("#messages .message[data-id]", {
    has: page.locator(":scope > .text", { hasText: new RegExp(`^${text}$`) }),
  });

const notice = (page: Page, text: string | RegExp) =>
  page.locator("#messages .notice", { hasText: text });

const dialog = (page: Page) => page.locator("dialog[open]");

async function openSettings(page: Page): Promise<void> {
  await page.click("#room-settings");
  await dialog(page).locator("h2", { hasText: "Settings for # team" }).waitFor();
}

async function closeDialog(page: Page): Promise<void> {
  await page.keyboard.press("Escape");
  await dialog(page).waitFor({ state: "detached" });
}

/** Chooses `item` in the menu of the message with `text`. */
async function fromMenu(page: Page, text: string, item: string): Promise<void> {
  await message(page, text).hover();
  await message(page, text).locator(".actions").click();
  await page.locator(".message-menu [role=menuitem]", { hasText: item }).click();
}

test("an owner governs a room from the page: invite-only, an invite link, reports, a ban, a mute, read-only", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20 });
  try {
    const url = server.httpUrl ?? "";
    const alice = await openChat(browser, url);
    await signInAsGuest(alice, "alice");
    await joinFromPage(alice, "town");
    await sendFromPage(alice, "a public room");
    await waitForMessage(alice, "a public room");

    // The first to join a new room owns it, and makes it invite-only.
    await joinFromPage(alice, "team");
    await sendFromPage(alice, "welcome to the team");
    await waitForMessage(alice, "welcome to the team");
    await openSettings(alice);
    const inviteOnly = dialog(alice).getByLabel("Invite only");
    assert.equal(await inviteOnly.isEnabled(), true, "the owner may change privacy");
    await inviteOnly.check();
    await dialog(alice).locator(".result", { hasText: "Invite only: on." }).waitFor();

    // Someone else is not offered it, and cannot join it by name.
    const bob = await openChat(browser, url);
    await signInAsGuest(bob, "bob");
    await bob.locator('#room-options option[value="town"]').waitFor({ state: "attached" });
    assert.equal(await bob.locator('#room-options option[value="team"]').count(), 0);
    await bob.fill("#join-room", "team");
    await bob.press("#join-room", "Enter");
    await notice(bob, /Could not join team: There is no room "team"/).waitFor();

    // An invite link lets bob in (already signed in) and carol (after signing in).
    await dialog(alice).getByRole("button", { name: "Create invite link" }).click();
    const linkBox = dialog(alice).getByLabel("Invite link", { exact: true });
    await linkBox.waitFor();
    const link = await linkBox.inputValue();
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/#invite=\S+$/);
    await closeDialog(alice);
    await bob.goto(link);
    await bob.locator("#room-title", { hasText: "# team" }).waitFor();
    await notice(bob, "You joined team with an invite.").waitFor();
    await waitForMessage(bob, "welcome to the team");
    assert.equal(await bob.evaluate(() => location.hash), "", "the code leaves the address");
    const carol = await openChat(browser, link);
    await signInAsGuest(carol, "carol");
    await carol.locator("#room-title", { hasText: "# team" }).waitFor();
    await waitForMessage(carol, "welcome to the team");

    // Bob sees the settings but may not change them.
    await openSettings(bob);
    assert.equal(await dialog(bob).getByLabel("Invite only").isChecked(), true);
    assert.equal(await dialog(bob).getByLabel("Invite only").isDisabled(), true);
    await dialog(bob).getByText("Only the room's owner changes these.").waitFor();
    assert.equal(await dialog(bob).getByRole("button", { name: "Create invite link" }).count(), 0);
    await closeDialog(bob);

    // Bob reports alice's message; alice is told, and resolves it from the queue.
    await fromMenu(bob, "welcome to the team", "Report…");
    await dialog(bob)
      .getByLabel(/What is wrong with it/)
      .fill("not welcoming enough");
    await dialog(bob).getByRole("button", { name: "Report", exact: true }).click();
    await notice(bob, "You reported alice's message to the moderators of team.").waitFor();
    await notice(alice, "bob reported a message by alice: “not welcoming enough”").waitFor();
    await alice.locator("#reports-badge", { hasText: /^1$/ }).waitFor();
    assert.equal(
      await alice.getAttribute("#room-settings", "aria-label"),
      "Room settings, 1 open report",
    );
    await openSettings(alice);
    const queued = dialog(alice).locator(".report");
    await queued.locator(".report-reason", { hasText: "not welcoming enough" }).waitFor();
    assert.equal(await queued.locator(".reported").textContent(), "alice welcome to the team");
    await queued.getByRole("button", { name: /^Resolve bob's report/ }).click();
    await dialog(alice).getByText("No open reports.").waitFor();
    assert.equal(await alice.textContent("#reports-badge"), "");
    await closeDialog(alice);

    // Alice bans bob for an hour from the member list: bob is told until when, and is out.
    await alice.getByRole("button", { name: "Moderate bob" }).click();
    await dialog(alice).getByLabel("Reason").fill("spamming");
    assert.equal(await dialog(alice).getByLabel("For (ban or mute)").inputValue(), String(HOUR));
    const banned = Date.now();
    await dialog(alice).getByRole("button", { name: "Ban bob", exact: true }).click();
    await dialog(alice)
      .locator(".result", { hasText: /^bob is banned until / })
      .waitFor();
    await closeDialog(alice);
    const status = bob.locator("#composer-status");
    await status.filter({ hasText: "You are banned from team until" }).waitFor();
    assert.match((await status.textContent()) ?? "", /Reason: spamming$/);
    const until = Date.parse((await status.locator("time").getAttribute("datetime")) ?? "");
    assert.ok(Math.abs(until - (banned + HOUR)) < 60_000, `banned until ${new Date(until)}`);
    await notice(bob, "alice banned you from team until").waitFor();
    assert.equal(await bob.locator("#text").isDisabled(), true);
    const bobsTeam = bob.locator('#rooms li[data-room="team"]');
    await bobsTeam.and(bob.locator(".closed")).waitFor();
    assert.equal(await bobsTeam.locator(".state").textContent(), "not joined");
    await alice
      .locator("#members li[data-user]", { hasText: "bob" })
      .waitFor({ state: "detached" });
    // Nor does a new connection take him back in.
    await bob.reload();
    await bob.locator("#connection[data-state=live]").waitFor();
    await bob.locator('#rooms li[data-room="team"].closed').waitFor();
    assert.equal(await alice.locator("#members li", { hasText: "bob" }).count(), 0);
    assert.equal(await bob.locator("#messages .notice", { hasText: "Could not join" }).count(), 0);

    // A mute closes carol's composer until alice lifts it.
    await sendFromPage(carol, "carol here");
    await waitForMessage(alice, "carol here");
    await fromMenu(alice, "carol here", "Moderate carol…");
    await dialog(alice).getByRole("button", { name: "Mute carol", exact: true }).click();
    await dialog(alice)
      .locator(".standing", { hasText: /^carol is muted until / })
      .waitFor();
    const carolStatus = carol.locator("#composer-status");
    await carolStatus
      .filter({ hasText: /^You are muted in team until .+: you can read/ })
      .waitFor();
    assert.equal(await carol.locator("#text").isDisabled(), true);
    await dialog(alice).getByRole("button", { name: "Unmute carol" }).click();
    await notice(carol, "alice lifted your mute: you can post in team again.").waitFor();
    await carolStatus.filter({ hasText: /^$/ }).waitFor({ state: "attached" });
    await closeDialog(alice);
    await sendFromPage(carol, "thanks");
    await waitForMessage(alice, "thanks");

    // Read-only: only staff post, so carol's composer closes until she is made a moderator.
    await openSettings(alice);
    await dialog(alice).getByLabel("Read only").check();
    await carolStatus.filter({ hasText: "team is read-only: only its moderators post." }).waitFor();
    assert.equal(await carol.locator("#text").isDisabled(), true);
    await dialog(alice).getByLabel("Member").fill("carol");
    await dialog(alice).getByRole("button", { name: "Make moderator" }).click();
    await dialog(alice).locator(".staff li", { hasText: "carol (moderator)" }).waitFor();
    await notice(carol, "You are a moderator of team now.").waitFor();
    await carolStatus.filter({ hasText: /^$/ }).waitFor({ state: "attached" });
    assert.equal(await carol.locator("#text").isEnabled(), true);
    await closeDialog(alice);

    for (const page of [alice, bob, carol]) assert.deepEqual(pageErrors(page), []);
  } finally {
    await server.stop();
  }
});
