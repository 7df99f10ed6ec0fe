// Incoming webhooks against a real server: a room's moderators make one over
// gRPC, and a post to its address on the HTTP port (curl, as a CI script
// would) reaches a seed client and a session, once per idempotency key, from
// the hook with a bot mark. Bad posts get a 4xx with a sentence and store
// nothing; a revoked hook's address stops working at once.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { status } from "@grpc/grpc-js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { manualClock } from "./core-helpers.ts";
import {
  liveUser,
  nextMatching,
  refusal,
  spawnCli,
  startTestServer,
  testClient,
  within,
} from "./helpers.ts";
import { type SeedChatMessage, seedUser } from "./seed-client.ts";

const run = promisify(execFile);

let server: RunningChatServer;
// Stands still unless a test moves it, so a hook's rate (6 a minute, 2 at
// once) gives the same answers however slow the machine.
const clock = manualClock();
/** Long enough for a hook's rate to give it back both of its posts at once. */
const refill = () => clock.advance(20_000);
before(async () => {
  server = await startTestServer({
    httpPort: 0,
    admins: ["root"],
    clock,
    limits: { webhookPostsPerMinute: 6 },
  });
});
after(() => server.stop());

/** curl's answer to a POST of `body` to `path` on the HTTP port: status and body. */
async function curl(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; retryAfter: string | undefined }> {
  const args = ["-s", "-D", "-", "-w", "\n%{http_code}", "-X", "POST", "--data-binary", body];
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
  const { stdout } = await run("curl", [...args, `${server.httpUrl}${path.slice(1)}`]);
  const cut = stdout.lastIndexOf("\n");
  const [head = "", ...rest] = stdout.slice(0, cut).split("\r\n\r\n");
  return {
    status: Number(stdout.slice(cut + 1)),
    body: rest.join("\r\n\r\n"),
    retryAfter: /^retry-after: *(\S+)/im.exec(head)?.[1],
  };
}

async function admin() {
  const root = testClient(server, { username: "root" });
  await root.register("root", "correct horse battery");
  return root;
}

async function nextSeedLine(
  iterator: AsyncIterator<SeedChatMessage>,
  text: string,
): Promise<SeedChatMessage> {
  return within(
    (async () => {
      for (;;) {
        const { value, done } = await iterator.next();
        if (done) assert.fail(`the seed stream ended before "${text}"`);
        if (value.message === text) return value;
      }
    })(),
    5_000,
    `"${text}" at the seed client`,
  );
}

test("a post by curl reaches a seed client and a session from the hook, marked as a bot's; its idempotency key stores it once", async () => {
  const root = await admin();
  const hook = await root.webhooks.create("lobby", "CI");
  assert.match(hook.path, /^\/hooks\/[A-Za-z0-9_-]{32}$/);
  assert.match(hook.userId, /^h-/);
  const seed = await seedUser(server, "sam");
  const reader = await liveUser(server, "rita");

  const json = await curl(hook.path, JSON.stringify({ text: "build 41 passed" }), {
    "content-type": "application/json",
    "idempotency-key": "build-41",
  });
  assert.equal(json.status, 200, json.body);
  const answer = JSON.parse(json.body) as { ok: boolean; room: string; id: number };
  assert.deepEqual([answer.ok, answer.room], [true, "lobby"]);
  const line = await nextSeedLine(seed.iterator, "build 41 passed");
  assert.deepEqual([line.username, line.user_id], ["CI", hook.userId]);
  const heard = await nextMatching(
    reader.events,
    (e) => e.type === "message" && e.message.text === "build 41 passed",
    "the post at rita",
  );
  assert.ok(heard.type === "message");
  assert.equal(heard.message.id, answer.id);
  assert.equal(heard.message.bot, true);

  // The same key again: the first message's id, nothing stored or sent again.
  const again = await curl(hook.path, JSON.stringify({ text: "build 41 passed" }), {
    "content-type": "application/json",
    "idempotency-key": "build-41",
  });
  assert.equal(again.status, 200, again.body);
  assert.equal((JSON.parse(again.body) as { id: number }).id, answer.id);

  refill();
  const plain = await curl(hook.path, "deploy done", { "content-type": "text/plain" });
  assert.equal(plain.status, 200, plain.body);
  const slack = await curl(
    hook.path,
    JSON.stringify({ text: "alert cleared", username: "Pager" }),
    {
      "content-type": "application/json",
    },
  );
  assert.equal(slack.status, 200, slack.body);
  assert.equal((await nextSeedLine(seed.iterator, "deploy done")).username, "CI");
  assert.equal((await nextSeedLine(seed.iterator, "alert cleared")).username, "Pager");

  const history = await reader.client.history({ room: "lobby", limit: 10 });
  const posted = history.messages.filter((m) => m.userId === hook.userId).map((m) => m.text);
  assert.deepEqual(posted, ["build 41 passed", "deploy done", "alert cleared"]);
  seed.call.cancel();
  reader.session.close();
});

test("bad posts get a 4xx with a sentence and store nothing; a revoked hook stops at once", async () => {
  const owner = await liveUser(server, "olive", { room: "hooks-room" });
  const hook = await owner.client.webhooks.create("hooks-room", "deploys");
  const taken = await refusal(owner.client.webhooks.create("hooks-room", "deploys"));
  assert.equal(taken.code, status.ALREADY_EXISTS);
  const stranger = await liveUser(server, "sid", { room: "hooks-room" });
  const denied = await refusal(stranger.client.webhooks.create("hooks-room", "mine"));
  assert.equal(denied.code, status.PERMISSION_DENIED);

  const cases: Array<[string, string, Record<string, string>, number, RegExp]> = [
    ["empty", "   ", { "content-type": "text/plain" }, 400, /empty/],
    ["no text", "{}", { "content-type": "application/json" }, 400, /"text"/],
    ["not JSON", "{text", { "content-type": "application/json" }, 400, /not valid JSON/],
    ["other type", "<x/>", { "content-type": "application/xml" }, 400, /application\/xml/],
    ["too large", "x".repeat(70_000), { "content-type": "text/plain" }, 413, /at most/],
  ];
  for (const [what, body, headers, code, sentence] of cases) {
    const answer = await curl(hook.path, body, headers);
    assert.equal(answer.status, code, what);
    assert.match(answer.body, sentence, what);
  }
  const unknown = await curl("/hooks/not-a-hook", "hi");
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /revoked|No webhook/);

  const listed = await owner.client.webhooks.list("hooks-room");
  assert.deepEqual(
    listed.map((h) => [h.name, h.path, h.revokedMs]),
    [["deploys", "", 0]],
  );
  const revoked = await owner.client.webhooks.revoke("hooks-room", "deploys");
  assert.ok(revoked.revokedMs > 0);
  const after = await curl(hook.path, "still here?");
  assert.equal(after.status, 404);
  const { entries } = await owner.client.governance.listAudit("hooks-room");
  assert.deepEqual(
    entries.filter((e) => e.action.endsWith("_webhook")).map((e) => [e.action, e.target]),
    [
      ["revoke_webhook", "deploys"],
      ["create_webhook", "deploys"],
    ],
  );
  const history = await owner.client.history({ room: "hooks-room", limit: 20 });
  assert.deepEqual(
    history.messages.filter((m) => m.userId === hook.userId),
    [],
    "no bad post was stored",
  );
  owner.session.close();
  stranger.session.close();
});

test("a hook posting faster than its rate gets 429 with Retry-After, and its other posts are stored", async () => {
  const owner = await liveUser(server, "rhea", { room: "rate-room" });
  const hook = await owner.client.webhooks.create("rate-room", "chatty");
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await curl(hook.path, `tick ${i}`));
  // 6 a minute comes as 2 at once.
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 429, 429],
  );
  clock.advance(10_000);
  assert.equal((await curl(hook.path, "tick 4")).status, 200, "one post back after 10 s");
  assert.match(answers[2]?.body ?? "", /too fast; try again in/);
  assert.ok(Number(answers[2]?.retryAfter) >= 1, "a Retry-After header in seconds");
  const history = await owner.client.history({ room: "rate-room", limit: 20 });
  assert.deepEqual(
    history.messages.filter((m) => m.userId === hook.userId).map((m) => m.text),
    ["tick 0", "tick 1", "tick 4"],
  );
  owner.session.close();
});

test("the terminal client makes, lists and revokes a room's webhook, and shows its posts with a bot mark", async () => {
  const cli = spawnCli([
    "client",
    "--server",
    server.address,
    "--name",
    "tess",
    "--room",
    "#tools",
  ]);
  const type = (line: string) => cli.child.stdin.write(`${line}\n`);
  try {
    await cli.waitForLine(/^(No messages yet\.|Last \d+ messages:)$/);
    type("/webhook new CI");
    await cli.waitForLine(/shown only now:$/);
    // The curl line is whole: the server's address as people reach it, and the hook's path.
    const made = await cli.waitForLine(/^ {2}curl -d 'build passed' \S+$/);
    const url = made.split(" ").at(-1) ?? "";
    assert.equal(url.startsWith(`${server.httpUrl}hooks/`), true, url);
    const path = new URL(url).pathname;
    refill();
    assert.equal((await curl(path, "build 42 passed")).status, 200);
    // The server's clock stands still in 2023, so the client shows the date too.
    await cli.waitForLine(/^\[[-\d :]+\] CI \[bot\]: build 42 passed$/);
    type("/webhooks");
    await cli.waitForLine(/^CI {2}works, made \d{4}-\d{2}-\d{2}$/);
    type("/webhook revoke CI");
    await cli.waitForLine('Webhook "CI" revoked: its address no longer posts to #tools.');
    assert.equal((await curl(path, "after revoking")).status, 404);
    type("/webhook");
    await cli.waitForLine("Usage: /webhook new [name], /webhook revoke name, or /webhooks");
    type("exit");
    assert.equal(await cli.exited, 0);
  } finally {
    cli.child.kill();
  }
});
