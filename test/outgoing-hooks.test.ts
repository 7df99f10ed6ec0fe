// Bots' outgoing hooks against a real server and a real HTTP receiver on
// loopback: what triggers a hook is POSTed signed; a receiver that is down
// for a while gets everything once, in order, when it is back; a JSON reply
// posts back as the bot.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { isText, liveUser, nextMatching, startTestServer, testClient, within } from "./helpers.ts";
import { Receiver } from "./hook-receiver.ts";

let server: RunningChatServer;
before(async () => {
  // Short waits so an outage of a second is retried within the test.
  // The receivers are on loopback, which hooks may reach only when allowed.
  server = await startTestServer({
    httpPort: 0,
    outgoingHooksPrivate: true,
    hooks: { firstRetryMs: 50, pollMs: 200 },
  });
});
after(() => server.stop());

async function owner(name: string) {
  const client = testClient(server, { username: name });
  await client.register(name, "correct horse battery");
  return client;
}

test("what triggers a hook is POSTed signed, and a receiver that was down gets the rest once, in order", async () => {
  const receiver = new Receiver();
  await receiver.start();
  const olga = await owner("olga");
  const bot = await olga.bots.create({
    name: "relay",
    rooms: ["builds"],
    outgoingUrl: receiver.url("/all"),
    trigger: "all",
  });
  const sender = await liveUser(server, "sam", { room: "builds" });
  const first = await sender.session.send("build 1 passed", { room: "builds" });

  const [delivery] = await receiver.until(1, "the first delivery");
  assert.ok(delivery);
  const timestamp = String(delivery.headers["x-chat-timestamp"]);
  const expected = `sha256=${createHmac("sha256", bot.signingSecret).update(`${timestamp}.${delivery.body}`).digest("hex")}`;
  assert.equal(delivery.headers["x-chat-signature"], expected, "the signature verifies");
  assert.equal(delivery.headers["x-chat-message-id"], `builds/${first.id}`);
  assert.deepEqual(
    [delivery.json.room, delivery.json.id, delivery.json.sender, delivery.json.text],
    ["builds", first.id, "sam", "build 1 passed"],
  );

  // Down for a while: three messages wait, and the owner sees why.
  await receiver.stop();
  const texts = ["build 2 failed", "build 3 passed", "build 4 passed"];
  for (const text of texts) await sender.session.send(text, { room: "builds" });
  const failing = await within(
    (async () => {
      for (;;) {
        const [state] = await olga.bots.list();
        if (state && state.failed > 0) return state;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })(),
    10_000,
    "a failed attempt in ListBots",
  );
  assert.match(failing.lastError, /could not reach/);
  assert.ok(failing.lastErrorMs > 0);
  const metrics = await (await fetch(`${server.httpUrl}metrics`)).text();
  const failed = /^grpc_chat_outgoing_hook_posts_total\{outcome="failed"\} (\d+)$/m.exec(metrics);
  assert.ok(Number(failed?.[1]) > 0, "the failures are in the metrics");

  await receiver.start();
  const all = await receiver.until(4, "the messages held back while it was down");
  assert.deepEqual(
    all.map((d) => d.json.text),
    ["build 1 passed", ...texts],
    "in order, none lost",
  );
  // One more after them: had any been sent twice, it would sit before this one.
  await sender.session.send("build 5 passed", { room: "builds" });
  const final = await receiver.until(5, "the message after the outage");
  assert.deepEqual(
    final.map((d) => d.json.id),
    [...new Set(final.map((d) => d.json.id))],
    "each message once",
  );
  assert.equal(final.at(-1)?.json.text, "build 5 passed");
  await receiver.stop();
  olga.close();
  sender.client.close();
});

test("a hook fires on a mention or a trigger word only, and its JSON reply posts back as the bot", async () => {
  const receiver = new Receiver();
  receiver.answer = (d) =>
    d.json.text.includes("ping")
      ? { status: 200, json: { text: `pong for ${d.json.sender}` } }
      : { status: 200 };
  await receiver.start();
  const oscar = await owner("oscar");
  await oscar.bots.create({
    name: "helper",
    rooms: ["support"],
    outgoingUrl: receiver.url("/mentions"),
  });
  await oscar.bots.create({
    name: "deployer",
    rooms: ["support"],
    outgoingUrl: receiver.url("/words"),
    trigger: "words",
    triggerWords: ["Deploy"],
  });
  const user = await liveUser(server, "una", { room: "support" });
  await user.session.send("nothing for bots here", { room: "support" });
  await user.session.send("time to DEPLOY the site", { room: "support" });
  const ping = await user.session.send("@helper ping", { room: "support" });

  const reply = await nextMatching(user.events, isText("pong for una"), "the bot's reply");
  assert.ok(reply.type === "message");
  assert.equal(reply.message.username, "helper");
  assert.equal(reply.message.bot, true);
  assert.equal(reply.message.replyTo, ping.id);
  const got = await receiver.until(2, "a word and a mention");
  assert.deepEqual(
    got.map((d) => [d.path, d.json.text]).sort(),
    [
      ["/mentions", "@helper ping"],
      ["/words", "time to DEPLOY the site"],
    ],
    "the plain message triggered neither",
  );
  await receiver.stop();
  oscar.close();
  user.client.close();
});
