// The web client in a real browser against a real server: chatting with
// other pages and native clients, direct messages with the terminal client,
// resuming across a server restart, and text that must stay text.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { MAX_TOPIC_CHARS } from "../src/core/limits.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { DEFAULT_ROOM, roomNameRule } from "../src/wire/room-names.ts";
import {
  launchChromium,
  openChat,
  sendFromPage,
  shownIds,
  shownTexts,
  signInAsGuest,
  waitForMessage,
} from "./browser-helpers.ts";
import {
  isCaughtUp,
  isText,
  liveUser,
  nextMatching,
  spawnCli,
  startTestServer,
  tempDir,
  within,
} from "./helpers.ts";

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser.close());

const TIME = String.raw`\[\d{2}:\d{2}:\d{2}\]`;

test("two pages and a native client chat in one room, each message shown once", async () => {
  const server = await startTestServer({ httpPort: 0, presenceTickMs: 20 });
  const nat = await liveUser(server, "nat");
  try {
    await nextMatching(nat.events, isCaughtUp, "nat live");
    const ann = await openChat(browser, server.httpUrl ?? "");
    const ben = await openChat(browser, server.httpUrl ?? "");
    await signInAsGuest(ann, "ann");
    await signInAsGuest(ben, "ben");
    assert.equal(await ann.textContent("#me"), "ann");

    await sendFromPage(ann, "hello from ann");
    await waitForMessage(ben, "hello from ann");
    await waitForMessage(ann, "hello from ann");
    await nextMatching(nat.events, isText("hello from ann"), "ann's message at nat");

    await nat.session.send("hello from nat");
    await sendFromPage(ben, "hello from ben");
    for (const page of [ann, ben]) {
      await waitForMessage(page, "hello from nat");
      await waitForMessage(page, "hello from ben");
      assert.deepEqual((await shownTexts(page)).filter((t) => t.startsWith("hello from")).sort(), [
        "hello from ann",
        "hello from ben",
        "hello from nat",
      ]);
      const ids = await shownIds(page);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        "messages in id order",
      );
      assert.deepEqual((page as unknown as { errors: string[] }).errors, []);
    }
    await nextMatching(nat.events, isText("hello from ben"), "ben's message at nat");
  } finally {
    nat.client.close();
    await server.stop();
  }
});

test("a direct message between a page and the terminal client, both ways", async () => {
  const server = await startTestServer({ httpPort: 0 });
  const tess = spawnCli(["client", "--server", server.address, "--name", "tess"]);
  try {
    await tess.waitForLine("Server: Welcome to the chat, tess!");
    const ann = await openChat(browser, server.httpUrl ?? "");
    await signInAsGuest(ann, "ann");
    await ann.fill("#open-dm", "tess");
    await ann.press("#open-dm", "Enter");
    await ann.locator('#directs li[data-room^="dm:"]', { hasText: "tess" }).waitFor();
    await sendFromPage(ann, "psst, tess");
    await tess.waitForLine(new RegExp(`^${TIME} @ann ann: psst, tess$`));
    tess.child.stdin.write("/msg ann back at you\n");
    await waitForMessage(ann, "back at you");
    tess.child.stdin.write("exit\n");
    assert.equal(await within(tess.exited, 5_000, "tess to exit"), 0);
  } finally {
    tess.child.kill();
    await server.stop();
  }
});

test("after a server restart the page resumes: nothing lost, nothing doubled, its own send stored once", async () => {
  const dir = tempDir();
  const db = join(dir.path, "chat.db");
  let server: RunningChatServer = await startTestServer({ httpPort: 0, db });
  const ports = { port: server.port, httpPort: Number(new URL(server.httpUrl ?? "").port) };
  try {
    const ann = await openChat(browser, server.httpUrl ?? "");
    await signInAsGuest(ann, "ann");
    let nat = await liveUser(server, "nat");
    for (const text of ["before 1", "before 2", "before 3"]) await nat.session.send(text);
    await waitForMessage(ann, "before 3");
    nat.client.close();

    await server.stop();
    await ann.locator("#connection:not([data-state=live])").waitFor();
    // Written while the server is down: it waits, and goes once the server is back.
    await sendFromPage(ann, "while it was down");
    server = await startTestServer({ ...ports, db });
    nat = await liveUser(server, "nat");
    await nat.session.send("after the restart");
    await waitForMessage(ann, "after the restart", 20_000);
    await waitForMessage(ann, "while it was down", 20_000);
    await ann.locator("#connection[data-state=live]").waitFor();

    const texts = await shownTexts(ann);
    for (const text of [
      "before 1",
      "before 2",
      "before 3",
      "while it was down",
      "after the restart",
    ]) {
      assert.equal(texts.filter((t) => t === text).length, 1, `"${text}" shown once: ${texts}`);
    }
    const ids = await shownIds(ann);
    assert.equal(new Set(ids).size, ids.length, `no id shown twice: ${ids}`);
    const history = await nat.client.history({ room: "lobby", limit: 50 });
    assert.equal(history.messages.filter((m) => m.text === "while it was down").length, 1);
    nat.client.close();
  } finally {
    await server.stop();
    dir.remove();
  }
});

test("a message made of HTML and script is shown as text and runs nothing", async () => {
  const server = await startTestServer({ httpPort: 0 });
  const nat = await liveUser(server, "nat");
  try {
    const ann = await openChat(browser, server.httpUrl ?? "");
    await signInAsGuest(ann, "ann");
    const attack =
      `<img src=x onerror="document.body.dataset.pwned='img'">` +
      `<script>document.body.dataset.pwned='script'</script><b>bold?</b>`;
    await nat.session.send(attack);
    await waitForMessage(ann, attack);
    assert.equal(await ann.locator("#messages img, #messages script, #messages b").count(), 0);
    assert.equal(await ann.evaluate(() => document.body.dataset.pwned), undefined);
  } finally {
    nat.client.close();
    await server.stop();
  }
});

test("the page takes its limits and default room from the server and checks them before sending", async () => {
  const limits = { maxNameChars: 12, maxRoomChars: 10, maxMessageBytes: 50, maxRooms: 2 };
  const server = await startTestServer({ httpPort: 0, limits });
  try {
    const page = await openChat(browser, server.httpUrl ?? "");
    const maxLength = (id: string) =>
      page.waitForFunction(
        ([id, max]) => (document.getElementById(id) as HTMLInputElement).maxLength === max,
        [id, id === "name" ? limits.maxNameChars : MAX_TOPIC_CHARS] as const,
      );
    await maxLength("name");
    await signInAsGuest(page, "lim");
    assert.equal(await page.textContent("#room-title"), `# ${DEFAULT_ROOM}`);
    await maxLength("topic-input");

    const join = async (room: string) => {
      await page.fill("#join-room", room);
      await page.press("#join-room", "Enter");
    };
    await join("elevenchars");
    await page.locator("#sidebar-error", { hasText: roomNameRule(limits.maxRoomChars) }).waitFor();
    await join("ten-chars");
    await page.locator("#room-title", { hasText: "# ten-chars" }).waitFor();
    await page.locator("#connection[data-state=live]").waitFor();
    await join("third");
    await page
      .locator("#sidebar-error", { hasText: "You can be in at most 2 rooms at once" })
      .waitFor();

    // 30 × "é" is 60 bytes of UTF-8 (30 characters): refused before it is sent, and kept.
    const tooLong = "é".repeat(30);
    await sendFromPage(page, tooLong);
    await page
      .locator("#messages .notice", {
        hasText: "this message is 60 bytes long (UTF-8) and the server takes at most 50",
      })
      .waitFor();
    assert.equal(await page.inputValue("#text"), tooLong);
    assert.equal(await page.locator("#messages .message.own").count(), 0, "it was queued");
    await sendFromPage(page, "short enough");
    await waitForMessage(page, "short enough");
    assert.deepEqual((page as unknown as { errors: string[] }).errors, []);
  } finally {
    await server.stop();
  }
});
