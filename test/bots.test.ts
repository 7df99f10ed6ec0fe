// Bots against a real server: a user makes one, and its token posts only in
// the rooms it was given, reads them only if allowed, and stops at once when
// revoked. What it sends, and the bot itself in member lists, carry a bot
// mark. Outgoing hooks are in test/outgoing-hooks.test.ts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import {
  isText,
  liveUser,
  nextMatching,
  ROOT,
  refusal,
  spawnCli,
  spawnLines,
  startTestServer,
  testClient,
} from "./helpers.ts";
import { clientsFor, okOf, refusedWith } from "./http-clients.ts";

let server: RunningChatServer;
before(async () => {
  server = await startTestServer({ httpPort: 0, admins: ["root"] });
});
after(() => server.stop());

async function account(name: string) {
  const client = testClient(server, { username: name });
  await client.register(name, "correct horse battery");
  return client;
}

test("a bot's token posts only in its rooms, reads only if allowed, and is revoked at once", async () => {
  const owner = await account("owen");
  const made = await owner.bots.create({ name: "deploybot", rooms: ["ops"] });
  assert.match(made.userId, /^b-/);
  assert.match(made.token, /^bot_/);
  assert.equal(made.read, false);
  const bot = testClient(server, { username: "deploybot", token: made.token });
  const me = await bot.whoAmI();
  assert.deepEqual([me.userId, me.username, me.bot], [made.userId, "deploybot", true]);

  const reader = await liveUser(server, "rita", { room: "ops" });
  await bot.send("deployed v1.2", { room: "ops" });
  const heard = await nextMatching(reader.events, isText("deployed v1.2"), "the bot's message");
  assert.ok(heard.type === "message");
  assert.equal(heard.message.username, "deploybot");
  assert.equal(heard.message.bot, true);

  const elsewhere = await refusal(bot.send("hello lobby", { room: "lobby" }));
  assert.equal(elsewhere.code, status.PERMISSION_DENIED);
  assert.match(elsewhere.message, /may not post in lobby/);
  const reading = await refusal(bot.history({ room: "ops", limit: 10 }));
  assert.equal(reading.code, status.PERMISSION_DENIED);
  assert.match(reading.message, /may not read ops/);
  const searching = await refusal(bot.search({ query: "deployed" }));
  assert.equal(searching.code, status.PERMISSION_DENIED);
  const making = await refusal(bot.bots.create({ name: "child", rooms: ["ops"] }));
  assert.equal(making.code, status.PERMISSION_DENIED);

  // Someone else's bot is not theirs to revoke, nor to see.
  const stranger = await account("stella");
  assert.equal((await refusal(stranger.bots.revoke("deploybot"))).code, status.NOT_FOUND);
  assert.deepEqual(await stranger.bots.list(), []);
  assert.deepEqual(
    (await owner.bots.list()).map((b) => [b.name, b.token, b.revokedMs]),
    [["deploybot", "", 0]],
  );

  await owner.bots.revoke("deploybot");
  const revoked = await refusal(bot.send("still here?", { room: "ops" }));
  assert.equal(revoked.code, status.UNAUTHENTICATED);
  const renewed = await owner.bots.revoke("deploybot", { renew: true });
  assert.match(renewed.token, /^bot_/);
  const again = testClient(server, { username: "deploybot", token: renewed.token });
  await again.send("back again", { room: "ops" });
  await nextMatching(reader.events, isText("back again"), "the renewed bot's message");
  const page = await reader.client.history({ room: "ops", limit: 50 });
  assert.deepEqual(
    page.messages.filter((m) => m.username === "deploybot").map((m) => m.text),
    ["deployed v1.2", "back again"],
    "nothing the revoked token tried was stored",
  );
  for (const c of [owner, bot, again, stranger, reader.client]) c.close();
});

test("a reading bot joins its rooms like a person, and shows with a bot mark among the members", async () => {
  const owner = await account("odile");
  const made = await owner.bots.create({ name: "watcher", rooms: ["dev"], read: true });
  const bot = testClient(server, { username: "watcher", token: made.token });
  const session = bot.openSession();
  const events = session[Symbol.asyncIterator]();
  await nextMatching(events, (e) => e.type === "welcome", "the bot's welcome");
  await session.join("dev");
  const outside = await refusal(session.join("lobby"));
  assert.equal(outside.code, status.PERMISSION_DENIED);
  const ended = session.ended;

  const person = await liveUser(server, "pat", { room: "dev" });
  await person.session.send("hello watcher", { room: "dev" });
  await nextMatching(events, isText("hello watcher"), "the person's message at the bot");
  const { members } = await person.client.listMembers({ room: "dev" });
  assert.deepEqual(
    members.map((m) => [m.username, m.bot === true]),
    [
      ["pat", false],
      ["watcher", true],
    ],
  );
  // The terminal client's /who marks it too.
  const cli = spawnCli(["client", "--server", server.address, "--name", "quinn", "--room", "dev"]);
  try {
    await cli.waitForLine(/^(No messages yet\.|Last \d+ messages:)$/);
    cli.child.stdin.write("/who\n");
    await cli.waitForLine(/^Online in #?dev \(3\): .*watcher \[bot\]/);
  } finally {
    cli.child.stdin.end();
    await cli.exited;
  }
  // The name is the bot's: no one registers or wears it.
  const taken = testClient(server, { username: "watcher" });
  assert.equal(
    (await refusal(taken.register("watcher", "correct horse battery"))).code,
    status.ALREADY_EXISTS,
  );
  // Revoking the token ends what it opened, at once.
  await owner.bots.revoke("watcher");
  const why = await ended;
  assert.match(why?.message ?? "", /token was revoked/);
  for (const c of [owner, bot, person.client, taken]) c.close();
});

test("a bot is refused rooms its owner could not post in, direct messages, and bad hooks, with a sentence", async () => {
  const owner = await account("orla");
  const { userId } = await owner.whoAmI();
  const cases: Array<[Parameters<typeof owner.bots.create>[0], number, RegExp]> = [
    [{ name: "nobot", rooms: [] }, status.INVALID_ARGUMENT, /Name 1-20 rooms/],
    [{ name: "dmbot", rooms: [`dm:${userId}:z`] }, status.INVALID_ARGUMENT, /direct-message/],
    [
      { name: "urlbot", rooms: ["ops"], outgoingUrl: "ftp://example.org/" },
      status.INVALID_ARGUMENT,
      /http or https/,
    ],
    [
      { name: "wordbot", rooms: ["ops"], outgoingUrl: "http://127.0.0.1:9/", trigger: "words" },
      status.INVALID_ARGUMENT,
      /1-20 of them/,
    ],
    [{ name: "tamsin", rooms: ["ops"] }, status.ALREADY_EXISTS, /already taken/],
  ];
  await account("tamsin").then((c) => c.close());
  for (const [request, code, sentence] of cases) {
    const error = await refusal(owner.bots.create(request));
    assert.equal(error.code, code, `${request.name}: ${error.message}`);
    assert.match(error.message, sentence);
  }
  owner.close();
});

test("the README's example bot answers !time in its room, replying to the question", async () => {
  const owner = await account("ezra");
  const made = await owner.bots.create({ name: "clock", rooms: ["times"], read: true });
  const bot = spawnLines(process.execPath, [join(ROOT, "examples", "time-bot.ts")], {
    GRPC_CHAT_SERVER: server.address,
    BOT_TOKEN: made.token,
  });
  try {
    await bot.waitForLine("clock is answering !time in times", 10_000);
    const person = await liveUser(server, "tess", { room: "times" });
    // The bot is in the room and live: what is sent now reaches it.
    const asked = await person.session.send("!time", { room: "times" });
    const answer = await nextMatching(
      person.events,
      (e) => e.type === "message" && e.message.username === "clock",
      "the bot's answer",
      10_000,
    );
    assert.ok(answer.type === "message");
    assert.match(answer.message.text, /^It is \d{4}-\d\d-\d\dT/);
    assert.equal(answer.message.replyTo, asked.id);
    assert.equal(answer.message.bot, true);
    person.client.close();
  } finally {
    bot.child.kill();
    owner.close();
  }
});

test("the terminal client makes, lists and revokes a bot, and sets the email address", async () => {
  const owner = testClient(server, { username: "tilda" });
  const { token } = await owner.register("tilda", "correct horse battery");
  const cli = spawnCli(["client", "--server", server.address, "--token", token, "--room", "ops"]);
  const type = (line: string) => cli.child.stdin.write(`${line}\n`);
  try {
    await cli.waitForLine(/^(No messages yet\.|Last \d+ messages:)$/);
    type("/email tilda@example.org");
    await cli.waitForLine("Unread mentions and DMs will be emailed to tilda@example.org");
    assert.equal((await owner.whoAmI()).email, "tilda@example.org");
    type("/email not-an-address");
    await cli.waitForLine(/is not an email address/);
    type("/bot new pager ops read https://hooks.example.org/chat words Deploy page");
    const tokenLine = await cli.waitForLine(/^Its token, shown only now: bot_/);
    await cli.waitForLine(/^Its hook's signing secret, shown only now: \S+/);
    const botToken = tokenLine.split(": ")[1] ?? "";
    const bot = testClient(server, { username: "pager", token: botToken });
    assert.equal((await bot.whoAmI()).username, "pager");
    type("/bots");
    await cli.waitForLine(
      /^pager {2}works, reads and posts in #ops, POSTs words deploy page to https:\/\/hooks\.example\.org\/chat/,
    );
    type("/bot revoke pager");
    await cli.waitForLine('Bot "pager" revoked: its token no longer works.');
    assert.equal((await refusal(bot.whoAmI())).code, status.UNAUTHENTICATED);
    type("/bot new");
    await cli.waitForLine(/^Usage: \/bot new name room/);
    bot.close();
  } finally {
    cli.child.stdin.end();
    await cli.exited;
    owner.close();
  }
});

test("an admin deleting a bot's owner deletes the bot, and ends its streams", async () => {
  const root = testClient(server, { username: "root" });
  const { token: rootToken } = await root.register("root", "correct horse battery");
  const owner = await account("doomed");
  const made = await owner.bots.create({ name: "orphan", rooms: ["ops"], read: true });
  const bot = testClient(server, { username: "orphan", token: made.token });
  const session = bot.openSession();
  await session.join("ops");
  const cli = spawnCli([
    "admin",
    "--server",
    server.address,
    "--token",
    rootToken,
    "delete-user",
    "doomed",
  ]);
  await cli.waitForLine("doomed is deleted.");
  await cli.exited;
  const why = await session.ended;
  assert.match(why?.message ?? "", /owner was deleted/);
  assert.equal((await refusal(bot.whoAmI())).code, status.UNAUTHENTICATED);
  for (const c of [root, owner, bot]) c.close();
});

test("a bot's token is held to its rooms on every transport, the seed's wire included", async () => {
  const owner = await account("ulla");
  const made = await owner.bots.create({ name: "scoped", rooms: ["ops"] });
  const bearer = { authorization: `Bearer ${made.token}` };
  const clients = clientsFor(server);
  try {
    for (const client of clients) {
      const what = `${client.name}: `;
      okOf(await client.unary("send", { room: "ops", text: `from ${client.name}` }, bearer), what);
      refusedWith(
        await client.unary("send", { room: "lobby", text: "outside" }, bearer),
        status.PERMISSION_DENIED,
        `${what}a send outside its rooms`,
      );
      refusedWith(
        await client.unary("history", { room: "ops", limit: 5 }, bearer),
        status.PERMISSION_DENIED,
        `${what}reading without read`,
      );
      refusedWith(
        await client.unary("createBot", { name: "child", rooms: ["ops"] }, bearer),
        status.PERMISSION_DENIED,
        `${what}a bot making a bot`,
      );
      refusedWith(
        await client.unary("revokeBot", { name: "scoped" }, { user_id: "a guest's secret here" }),
        status.FAILED_PRECONDITION,
        `${what}a guest revoking a bot`,
      );
    }
    // The seed's wire names the lobby, which is not the bot's.
    const [native] = clients;
    assert.ok(native);
    refusedWith(
      await native.unary("joinChat", { userId: "", username: "scoped" }, bearer),
      status.PERMISSION_DENIED,
      "the seed's JoinChat",
    );
  } finally {
    for (const client of clients) client.close();
    owner.close();
  }
});
