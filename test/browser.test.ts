// The web client in a real browser against a real server: chatting with
// other pages and native clients, direct messages with the terminal client,
// resuming across a server restart, and Markdown: the subset as elements,
// everything else as text that runs and loads nothing.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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

test("Markdown renders as elements, and script, javascript: links, raw HTML and images stay text and load nothing", async () => {
  // A server of our own: any request reaching it means the page loaded something a message named.
  const trapHits: string[] = [];
  const trap = createServer((request, response) => {
    trapHits.push(request.url ?? "");
    response.end();
  });
  await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
  const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
  const server = await startTestServer({ httpPort: 0 });
  const nat = await liveUser(server, "nat");
  try {
    const ann = await openChat(browser, server.httpUrl ?? "");
    const requests: string[] = [];
    const dialogs: string[] = [];
    ann.on("request", (request) => requests.push(request.url()));
    ann.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await signInAsGuest(ann, "ann");
    const pwn = (how: string) => `document.body.dataset.pwned='${how}'`;
    const attacks = [
      `<script>${pwn("script")}</script>`,
      `[click me](javascript:${pwn("link")})`,
      `<img src=x onerror="${pwn("img")}">`,
      `<iframe src="${trapUrl}/iframe"></iframe>`,
      `![img](${server.httpUrl}/tracker)`,
      `![local](${trapUrl}/pixel.png)`,
      `<style>body { background: url(${trapUrl}/css) }</style>`,
      `<a href="${trapUrl}/a" onmouseover="alert(1)">raw link</a>`,
    ];
    for (const text of attacks) await nat.session.send(text);
    await nat.session.send("**bold** and `code` and [a link](https://example.com/x)");
    await waitForMessage(ann, "bold and code and a link");
    for (const text of attacks) await waitForMessage(ann, text);

    const formatted = ann.locator("#messages .message", { hasText: "bold and code" });
    assert.equal(await formatted.locator(".text strong").textContent(), "bold");
    assert.equal(await formatted.locator(".text code").textContent(), "code");
    const link = formatted.locator(".text a");
    assert.equal(await link.getAttribute("href"), "https://example.com/x");
    assert.equal(await link.getAttribute("rel"), "noopener noreferrer nofollow");
    assert.equal(await link.getAttribute("target"), "_blank");

    // Only the safe link above became an element; nothing else a message held did.
    const made = await ann.$$eval("#messages .text *", (nodes) =>
      nodes.map((n) => n.tagName.toLowerCase()),
    );
    assert.deepEqual([...new Set(made)].sort(), ["a", "code", "p", "strong"]);
    // Bare URLs in the raw HTML are links too, but only as safe links, opened apart.
    const links = await ann.$$eval("#messages a", (nodes) =>
      nodes.map(
        (n) => `${n.getAttribute("href")} ${n.getAttribute("rel")} ${n.getAttribute("target")}`,
      ),
    );
    for (const shown of links)
      assert.match(shown, /^https?:\S+ noopener noreferrer nofollow _blank$/);
    const handlers = await ann.$$eval("#messages *", (nodes) =>
      nodes.flatMap((n) => [...n.attributes].map((a) => a.name).filter((a) => a.startsWith("on"))),
    );
    assert.deepEqual(handlers, []);
    // A click on the javascript: "link" is a click on text.
    await ann.locator("#messages .text", { hasText: "click me" }).click();
    assert.equal(await ann.evaluate(() => document.body.dataset.pwned), undefined);
    assert.deepEqual(dialogs, []);
    const named = requests.filter((url) => url.includes("/tracker") || url.startsWith(trapUrl));
    assert.deepEqual(named, [], "no request for anything a message named");
    assert.deepEqual(trapHits, []);
    assert.deepEqual((ann as unknown as { errors: string[] }).errors, []);
  } finally {
    nat.client.close();
    await server.stop();
    trap.close();
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
