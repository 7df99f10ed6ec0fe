// Webhooks and bots in a cluster: two server processes on one PostgreSQL and
// one Redis. A post to an incoming hook on one node reaches a client of the
// other; a bot's outgoing hook gets each message once, in order, whichever
// node it was sent to, though both nodes run the hook.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PG_URL, REDIS_URL, scratchSchemas } from "./engine-urls.ts";
import {
  isText,
  liveUser,
  NO_LIMIT_FLAGS,
  nextMatching,
  startServerProcess,
  stopProcess,
  testClient,
} from "./helpers.ts";
import { Receiver } from "./hook-receiver.ts";

const schema = scratchSchemas("hooks");

/** A URL on a node's HTTP port, from its start line. */
function httpUrl(node: { server: { lines: string[] } }, path: string): string {
  const line = node.server.lines.find((l) => l.includes("/healthz at ")) ?? "";
  return `${/at (http\S+)/.exec(line)?.[1]}${path}`;
}

test("in a cluster a hook post on one node reaches the other, and an outgoing hook gets each message once, in order", async () => {
  const name = schema();
  const flags = [
    "--db",
    `${PG_URL}?schema=${name}`,
    "--bus",
    `${REDIS_URL}?prefix=${name}`,
    ...NO_LIMIT_FLAGS,
    "--outgoing-hooks-private",
    "on",
    // One post at once, then one each 20 s: the second post, on the other node, must wait.
    "--webhook-posts-per-minute",
    "3",
    "--port",
    "0",
  ];
  const a = await startServerProcess(flags, {}, [], 30_000);
  const receiver = new Receiver();
  await receiver.start();
  const clients: Array<{ close(): void }> = [];
  let b: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  try {
    const owner = testClient(a, { username: "nora" });
    clients.push(owner);
    await owner.register("nora", "correct horse battery");
    await owner.governance.createRoom("ci");
    await owner.bots.create({
      name: "mirror",
      rooms: ["ci"],
      outgoingUrl: receiver.url("/mirror"),
      trigger: "all",
    });
    // Started after the bot exists, node b runs its hook from the start too:
    // both nodes try to deliver, and only the lease holder may.
    b = await startServerProcess(flags, {}, [], 30_000);
    const onA = await liveUser(a, "amy", { room: "ci" });
    const onB = await liveUser(b, "ben", { room: "ci" });
    clients.push(onA.client, onB.client);

    // The hook is made on node a and posted to on node b; amy on a hears it.
    const hook = await owner.webhooks.create("ci", "builds");
    const posted = await fetch(httpUrl(b, hook.path.slice(1)), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "pipeline 42 green" }),
    });
    assert.equal(posted.status, 200, await posted.text());
    const heard = await nextMatching(
      onA.events,
      isText("pipeline 42 green"),
      "the hook's post on a",
    );
    assert.ok(heard.type === "message" && heard.message.bot);
    // The hook's rate is the cluster's, not each node's.
    const tooSoon = await fetch(httpUrl(a, hook.path.slice(1)), {
      method: "POST",
      body: "pipeline 43 green",
    });
    assert.equal(tooSoon.status, 429, await tooSoon.text());
    assert.ok(Number(tooSoon.headers.get("retry-after")) > 0);

    const sent: string[] = ["pipeline 42 green"];
    for (let i = 1; i <= 10; i += 1) {
      const [user, node] = i % 2 ? [onA, "a"] : [onB, "b"];
      const text = `step ${i} from node ${node}`;
      await user.session.send(text, { room: "ci" });
      sent.push(text);
    }
    const got = await receiver.until(sent.length, "every message at the receiver");
    assert.deepEqual(
      got.map((d) => d.json.text),
      sent,
    );
    // Had a second node delivered too, a copy would arrive before this last one.
    await onB.session.send("the end", { room: "ci" });
    const all = await receiver.until(sent.length + 1, "the last message");
    assert.deepEqual(
      all.map((d) => d.json.text),
      [...sent, "the end"],
      "each message once, in the order stored",
    );
  } finally {
    for (const client of clients) client.close();
    await receiver.stop();
    await Promise.all([a, b].map((node) => node && stopProcess(node.server)));
  }
});
