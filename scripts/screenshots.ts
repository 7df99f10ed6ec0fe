// `npm run screenshots`: pictures of the web client (desktop and phone) and
// of the full-screen terminal client, from a real run: a real server, real
// clients, Debian's Chromium and tmux. They go to docs/, where the README
// shows them.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AnsiUp } from "ansi_up";
import type { Page } from "playwright-core";
import { type ChatClient, createChatClient } from "../src/client/chat-client.ts";
import { startChatServer } from "../src/server/chat-server.ts";
import {
  launchChromium,
  openChat,
  sendFromPage,
  signInAsGuest,
  waitForMessage,
} from "../test/browser-helpers.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const docs = (name: string) => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));

const server = await startChatServer({
  host: "127.0.0.1",
  port: 0,
  httpPort: 0,
  db: ":memory:",
  presenceTickMs: 50,
});
const clients: ChatClient[] = [];
const tmuxSocket = `grpc-chat-shots-${randomBytes(4).toString("hex")}`;
const tmux = (...args: string[]) => run("tmux", ["-L", tmuxSocket, ...args]);
const screen = async () => (await tmux("capture-pane", "-p", "-e", "-t", "chat")).stdout;
const browser = await launchChromium();

/** Someone on a native client, in the rooms given, online while the script runs. */
async function person(name: string, rooms: string[]): Promise<ChatClient> {
  const client = createChatClient({ address: server.address, username: name });
  clients.push(client);
  await client.join();
  const session = client.openSession();
  for (const room of rooms) await session.join(room);
  return client;
}

async function waitForScreen(text: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await screen()).includes(text)) return;
    await sleep(50);
  }
  throw new Error(`the terminal client never showed ${text}; its screen:\n${await screen()}`);
}

/** The terminal as it looks: tmux's screen with its colours, drawn by Chromium. */
async function terminalPicture(page: Page, ansi: string, path: string): Promise<void> {
  const html = new AnsiUp().ansi_to_html(ansi);
  await page.setContent(
    `<html><body style="margin:0;background:#1e1e2e"><pre style="margin:0;padding:12px;` +
      `font:14px/1.25 'DejaVu Sans Mono',monospace;color:#e6e6e6;background:#1e1e2e">${html}</pre></body></html>`,
  );
  await page.locator("pre").screenshot({ path });
}

try {
  const maria = await person("maria", ["lobby", "dev"]);
  const tom = await person("tom", ["lobby"]);
  await maria.setTopic("lobby", "Welcome! Be kind; the deploy is at 3pm");
  const coffee = await maria.send("morning all, coffee is on", { room: "lobby" });
  await tom.react("lobby", coffee.id, "☕");
  await maria.react("lobby", coffee.id, "☕");
  await tom.send("thanks maria! anyone seen the **new build**?", {
    room: "lobby",
    replyTo: coffee.id,
  });
  const green = await maria.send("green on main, shipping after lunch", { room: "dev" });
  await maria.edit("dev", green.id, "green on `main`, shipping after lunch");

  const page = await openChat(browser, server.httpUrl ?? "");
  await signInAsGuest(page, "sam");
  await sendFromPage(page, "hi both, sam here from the browser");
  await waitForMessage(page, "hi both, sam here from the browser");
  await tom.send("welcome sam, @sam see #dev for the release notes", { room: "lobby" });
  await waitForMessage(page, "welcome sam, @sam see #dev for the release notes");
  await page.fill("#join-room", "dev");
  await page.press("#join-room", "Enter");
  await waitForMessage(page, "green on main, shipping after lunch");
  await page.locator('#rooms li[data-room="lobby"]').click();
  await maria.send("@sam the notes are pinned in the topic of #dev", { room: "dev" });
  await page.locator('#rooms li[data-room="dev"] .unread:not(:empty)').waitFor();
  await tom.setTyping("lobby");
  await page.locator("#typing", { hasText: "tom is typing…" }).waitFor();
  await page.screenshot({ path: docs("web-client.png") });

  const phone = await openChat(browser, server.httpUrl ?? "", { width: 390, height: 760 });
  await signInAsGuest(phone, "lee");
  await waitForMessage(phone, "welcome sam, @sam see #dev for the release notes");
  await phone.screenshot({ path: docs("web-client-phone.png") });

  await tmux(
    ...["-f", "/dev/null", "new-session", "-d", "-s", "chat", "-x", "100", "-y", "16"],
    ...["-c", ROOT, "--", process.execPath, CLI, "client"],
    ...["--server", server.address, "--name", "lena"],
  );
  await waitForScreen("live");
  const type = async (line: string) => {
    await tmux("send-keys", "-t", "chat", "-l", line);
    await tmux("send-keys", "-t", "chat", "Enter");
  };
  await type("/join dev");
  await waitForScreen("2:#dev");
  await type("/switch lobby");
  await type("hello from the terminal");
  await waitForScreen("hello from the terminal");
  await maria.send("@lena welcome aboard", { room: "dev" });
  await waitForScreen("(1!)");
  const terminal = await openChat(browser, "about:blank", { width: 960, height: 600 });
  await terminalPicture(terminal, await screen(), docs("terminal-client.png"));
  process.stdout.write(
    "wrote docs/web-client.png, docs/web-client-phone.png and docs/terminal-client.png\n",
  );
} finally {
  await tmux("kill-server").catch(() => {});
  await browser.close();
  for (const client of clients) client.close();
  await server.stop(500);
}
