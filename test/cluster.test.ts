import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, createConnection, createServer, type Socket } from "node:net";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import { LiveChat } from "../src/client/live-chat.ts";
import { collector, FAST_RETRY, range, sendNumbered } from "./delivery-helpers.ts";
import { PG_URL, REDIS_URL, scratchSchemas } from "./engine-urls.ts";
import {
  isPresence,
  isText,
  liveUser,
  NO_LIMIT_FLAGS,
  nextMatching,
  spawnCli,
  startServerProcess,
  stopProcess,
  testClient,
  within,
} from "./helpers.ts";
import { type AnyClient, clientsFor } from "./http-clients.ts";
import { seedUser } from "./seed-client.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

const schema = scratchSchemas("cluster");

/**
 * Starts `count` nodes together (each may take a while on a busy machine:
 * they migrate one after another); if any fails, the others are stopped.
 */
type Node = Awaited<ReturnType<typeof startServerProcess>>;

async function startNodes(count: number, flags: string[]) {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startServerProcess(flags, {}, [], 30_000)),
  );
  const nodes = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await Promise.all(nodes.map((node) => stopProcess(node.server)));
    throw failed.reason;
  }
  return nodes;
}

/** A database schema and a bus prefix of their own: a cluster no other test can hear. */
function clusterFlags(): string[] {
  const name = schema();
  return ["--db", `${PG_URL}?schema=${name}`, "--bus", `${REDIS_URL}?prefix=${name}`];
}

test("three nodes on one PostgreSQL and one Redis: a message sent on any reaches clients of all, seed clients too, and history is the same from each", async () => {
  const flags = [...clusterFlags(), ...NO_LIMIT_FLAGS, "--port", "0"];
  const nodes = await startNodes(3, flags);
  const [a, b, c] = nodes as [Node, Node, Node];
  const clients: Array<{ close(): void }> = [];
  try {
    const ann = await liveUser(a, "ann");
    clients.push(ann.client);
    const bob = await liveUser(b, "bob");
    clients.push(bob.client);
    const seed = await seedUser(c, "sam");
    clients.push(seed.client);
    // Presence is the cluster's: ann on node a sees who came on b and c. Once
    // she has, their streams are in the room, so nothing sent from now on
    // can pass them by.
    const seen = new Set<string>();
    await nextMatching(
      ann.events,
      (e) => {
        if (e.type === "presence") for (const u of e.joined) seen.add(u.username);
        return seen.has("bob") && seen.has("sam");
      },
      "bob's and sam's joins at ann on node a",
    );
    await ann.session.send("hello from node a", { room: "lobby" });
    await nextMatching(bob.events, isText("hello from node a"), "a's message at bob on node b");
    await nextMatching(
      seed.iterator,
      (m) => m.message === "hello from node a",
      "a's message at the seed client on node c",
    );
    await bob.session.send("and back from b", { room: "lobby" });
    await nextMatching(ann.events, isText("and back from b"), "b's message at ann on node a");
    seed.call.write({
      user_id: seed.client.userId,
      username: "sam",
      message: "sam here",
      timestamp: "",
    });
    await nextMatching(
      ann.events,
      isText("sam here"),
      "the seed client's message at ann on node a",
    );
    await nextMatching(
      bob.events,
      isText("sam here"),
      "the seed client's message at bob on node b",
    );
    const histories = await Promise.all(
      nodes.map(async (node) => {
        const reader = testClient(node, { username: `reader-${node.port}` });
        try {
          await reader.join();
          const page = await reader.history({ room: "lobby", limit: 50 });
          return page.messages.map((m) => `${m.id} ${m.username}: ${m.text}`);
        } finally {
          reader.close();
        }
      }),
    );
    assert.deepEqual(histories[0], [
      "1 ann: hello from node a",
      "2 bob: and back from b",
      "3 sam: sam here",
    ]);
    assert.deepEqual(histories[1], histories[0]);
    assert.deepEqual(histories[2], histories[0]);

    // A second device of bob's (on node c) is not a second bob.
    const bobAgain = await liveUser(c, "bob", { userId: bob.client.userId });
    clients.push(bobAgain.client);
    const members = await ann.client.listMembers({ room: "lobby" });
    assert.deepEqual(
      members.members.map((m) => m.username),
      ["ann", "bob", "sam"],
    );
    assert.equal(members.onlineCount, 3);

    // Changes travel the same way: an edit and a reaction made on node a
    // reach node b as entries of the log and node c's seed client as a line;
    // a read marker moved on b reaches bob's device on c; typing on b shows on a.
    await ann.client.edit("lobby", 1, "hello from node a, edited");
    await ann.client.react("lobby", 3, "👍");
    const edit = await nextMatching(
      bob.events,
      (e) => e.type === "message" && e.message.change?.kind === "edit",
      "a's edit at bob on node b",
    );
    assert.equal(edit.type === "message" && edit.message.text, "hello from node a, edited");
    await nextMatching(
      bob.events,
      (e) => e.type === "message" && e.message.change?.kind === "reaction",
      "a's reaction at bob on node b",
    );
    await nextMatching(
      seed.iterator,
      (m) => m.username === "ann" && m.message === "(edited) hello from node a, edited",
      "a's edit at the seed client on node c",
    );
    await bob.client.markRead("lobby", 3);
    await nextMatching(
      bobAgain.events,
      (e) => e.type === "read" && e.room === "lobby" && e.lastReadId === 3,
      "bob's read marker at his device on node c",
    );
    await bob.client.setTyping("lobby");
    await nextMatching(
      ann.events,
      (e) => e.type === "typing" && e.typing.some((m) => m.username === "bob"),
      "bob typing on node b, at ann on node a",
    );
    bob.session.close();
    bobAgain.session.close();
    await nextMatching(ann.events, isPresence("bob", false), "bob's leave at ann on node a");
    // The seed client on node c hears it as the seed's system line.
    await nextMatching(
      seed.iterator,
      (m) => m.user_id === "system" && m.message === "bob has left the chat",
      "bob's leave at the seed client on node c",
    );
    assert.deepEqual(
      (await ann.client.listMembers({ room: "lobby" })).members.map((m) => m.username),
      ["ann", "sam"],
    );
  } finally {
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => stopProcess(node.server)));
  }
});

test("the online-name rule and the send rate hold across nodes", async () => {
  const limits = ["--send-rate", "1", "--send-burst", "5", "--auth-attempts-per-minute", "0"];
  const nodes = await startNodes(2, [...clusterFlags(), ...limits, "--port", "0"]);
  const [a, b] = nodes as [Node, Node];
  const clients: Array<{ close(): void }> = [];
  try {
    // zoe wears her name on node a: nobody else may take it on node b,
    // neither by JoinChat nor by opening a Session.
    const zoe = await liveUser(a, "zoe");
    clients.push(zoe.client);
    const impostor = testClient(b, { username: "Zoe" });
    clients.push(impostor);
    await assert.rejects(impostor.join(), { code: status.ALREADY_EXISTS });
    await assert.rejects(liveUser(b, "zoe"), { code: status.ALREADY_EXISTS });
    // zoe herself may be on both, and once she is gone the name is free.
    const zoeOnB = await liveUser(b, "zoe", { userId: zoe.client.userId });
    clients.push(zoeOnB.client);
    zoe.session.close();
    zoeOnB.session.close();
    const successor = await untilJoins(testClient(b, { username: "zoe" }));
    clients.push(successor);

    // One user sending through both nodes has one bucket: a burst of 5, then
    // 1 a second, not 5 on each node.
    const rob = [a, b].map((node) => testClient(node, { username: "rob", userId: "rob-secret" }));
    clients.push(...rob);
    for (const client of rob) await client.join();
    const started = Date.now();
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 12; i++) {
      try {
        await (rob[i % 2] as (typeof rob)[number]).send(`rob ${i}`);
        accepted += 1;
      } catch (error) {
        assert.equal((error as { code?: number }).code, status.RESOURCE_EXHAUSTED);
        refused += 1;
      }
    }
    const refilled = Math.ceil((Date.now() - started) / 1000);
    assert.ok(accepted <= 5 + refilled, `${accepted} accepted in ${refilled} s`);
    assert.equal(accepted + refused, 12);
  } finally {
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => stopProcess(node.server)));
  }
});

/** A name just given up is free once its holder's node has said so: JoinChat until it is. */
async function untilJoins(client: ReturnType<typeof testClient>) {
  for (let i = 0; ; i++) {
    try {
      await client.join();
      return client;
    } catch (error) {
      if ((error as { code?: number }).code !== status.ALREADY_EXISTS || i >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

test("kill -9 of a client's node: through the balancer it resumes on another node, nothing lost or repeated, its unacknowledged sends stored once", async () => {
  const flags = [...clusterFlags(), ...NO_LIMIT_FLAGS, "--port", "0"];
  const [a, b] = (await startNodes(2, flags)) as [Node, Node];
  // The load balancer: every client dials it; it sends new connections to a live node.
  const balancer = await startTcpProxy(a.address);
  const room = "failover";
  const receiver = testClient({ address: balancer.address }, { username: "receiver" });
  const watching = new LiveChat(receiver, { rooms: [{ room }], backoff: FAST_RETRY });
  const got = collector(watching);
  const senders = range(2).map((s) =>
    testClient({ address: balancer.address }, { username: `s${s}` }),
  );
  const acked = new Set<string>();
  const halfAcked = Promise.withResolvers<void>();
  try {
    await got.live("the receiver live");
    const sending = senders.map((client, s) =>
      sendNumbered(client, s, room, 1000, (text) => {
        acked.add(text);
        if (acked.size === 500) halfAcked.resolve();
      }),
    );
    await within(halfAcked.promise, 30_000, "500 acknowledged sends");
    a.server.child.kill("SIGKILL");
    await within(a.server.exited, 5_000, "the killed node to be gone");
    balancer.retarget(b.address);
    const ackedBeforeCrash = new Set(acked);
    await within(Promise.all(sending), 60_000, "every send acknowledged by the other node");
    await got.reach(2000, 60_000, "the receiver's messages");
    const reader = testClient(b, { username: "reader" });
    const stored: string[] = [];
    for (let afterId = 0; ; ) {
      const page = await reader.history({ room, limit: 1000, afterId });
      stored.push(...page.messages.map((m) => m.text));
      afterId = page.messages.at(-1)?.id ?? afterId;
      if (!page.hasMore) break;
    }
    reader.close();
    assert.equal(new Set(stored).size, stored.length, "no message is stored twice");
    for (const text of ackedBeforeCrash) assert.ok(stored.includes(text), `lost: ${text}`);
    assert.equal(stored.length, 2000, "every send is stored, once");
    for (let s = 0; s < 2; s++) assert.deepEqual(got.bySender.get(`s${s}`), range(1000));
    assert.equal(watching.stats.duplicatesDropped, 0);
    assert.ok(watching.stats.reconnects > 0, "the receiver never had to reconnect");
  } finally {
    await watching.close();
    receiver.close();
    for (const s of senders) s.close();
    await balancer.close();
    await stopProcess(b.server);
    if (a.server.child.exitCode === null) await stopProcess(a.server);
  }
});

test("kill -9 of a node: its users go offline on the others within the expiry (5 s) and a heartbeat", async () => {
  const nodes = await startNodes(2, [...clusterFlags(), ...NO_LIMIT_FLAGS, "--port", "0"]);
  const [a, b] = nodes as [Node, Node];
  const clients: Array<{ close(): void }> = [];
  try {
    const ann = await liveUser(a, "ann");
    const dan = await liveUser(b, "dan");
    clients.push(ann.client, dan.client);
    await nextMatching(ann.events, isPresence("dan"), "dan's join at ann");
    assert.match(await metrics(a), /^grpc_chat_cluster_nodes 1$/m);
    const killed = Date.now();
    b.server.child.kill("SIGKILL");
    await nextMatching(ann.events, isPresence("dan", false), "dan's leave at ann", 15_000);
    const tookMs = Date.now() - killed;
    // Expiry 5 s, checked once a second, announced at the next tick (250 ms):
    // 4-6.25 s, with room for a busy machine's timers.
    assert.ok(tookMs <= 8_000, `dan went offline ${tookMs} ms after his node died`);
    assert.ok(tookMs >= 3_500, `dan went offline after ${tookMs} ms, before the expiry`);
    assert.match(await metrics(a), /^grpc_chat_cluster_nodes 0$/m);
  } finally {
    for (const client of clients) client.close();
    await stopProcess(a.server);
    if (b.server.child.exitCode === null) await stopProcess(b.server);
  }
});

/** A Redis server of this test's own, on a free port, that it can kill and start again. */
async function privateRedis() {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const start = async () => {
    const child = spawn("redis-server", args, { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((resolve) =>
        createConnection(port, "127.0.0.1")
          .on("connect", function (this: Socket) {
            this.destroy();
            resolve(true);
          })
          .on("error", () => resolve(false)),
      );
      if (up) return child;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("redis-server did not start");
  };
  let child = await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
    async start() {
      child = await start();
    },
    stop: () => child.kill("SIGKILL"),
  };
}

/** A node's /metrics, as text. */
async function metrics(node: { server: { lines: string[] } }): Promise<string> {
  return (await fetch(httpUrl(node, "metrics"))).text();
}

/** A URL on a node's HTTP port, from its start line. */
function httpUrl(node: { server: { lines: string[] } }, path: string): string {
  const line = node.server.lines.find((l) => l.includes("/healthz at ")) ?? "";
  return `${/at (http\S+)/.exec(line)?.[1]}${path}`;
}

/** Asks a node's /readyz until its answer is 200 and matches `body` (the state changes on the node's own time). */
async function untilReadyz(node: { server: { lines: string[] } }, body: RegExp) {
  const url = httpUrl(node, "readyz");
  let last = "";
  for (let i = 0; i < 200; i++) {
    const response = await fetch(url);
    last = `${response.status} ${(await response.text()).trim()}`;
    if (response.status === 200 && body.test(last.slice(4))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`/readyz never matched ${body}: last ${last}`);
}

test("Redis killed and restarted mid-run: every client still gets every message once, in order, a quiet room's too", async () => {
  const redis = await privateRedis();
  const [db, dbUrl] = clusterFlags();
  const flags = [
    db as string,
    dbUrl as string,
    "--bus",
    redis.url,
    ...NO_LIMIT_FLAGS,
    "--port",
    "0",
  ];
  const nodes = await startNodes(2, flags).catch((error: unknown) => {
    redis.stop();
    throw error;
  });
  const [a, b] = nodes as [Node, Node];
  const room = "outage";
  const clients = [a, b].map((node, i) => testClient(node, { username: `r${i}` }));
  const receivers = clients.map((client) => {
    const live = new LiveChat(client, { rooms: [{ room }], backoff: FAST_RETRY });
    return { live, got: collector(live) };
  });
  const sender = testClient(a, { username: "s0" });
  const sending = new LiveChat(sender, { rooms: [], backoff: FAST_RETRY });
  try {
    await Promise.all(receivers.map((r, i) => r.got.live(`receiver ${i} live`)));
    const sendUpTo = async (end: number) => {
      for (let n = sent; n < end; n++) await sending.send(`s0 ${n}`, room);
      sent = end;
    };
    let sent = 0;
    await sendUpTo(200);
    await redis.kill();
    // Node a still serves its clients, and says what it is missing.
    await untilReadyz(a, /ready, but the bus \(Redis\) is unreachable/);
    await sendUpTo(400);
    await receivers[0]?.got.reach(
      400,
      30_000,
      "receiver 0, on the sending node, during the outage",
    );
    // The room then goes quiet: node b learns of 200-399 from the store when
    // Redis is back, not from a later message.
    await redis.start();
    await untilReadyz(a, /^ready$/);
    await receivers[1]?.got.reach(400, 30_000, "receiver 1 (on node b) after the outage");
    await sendUpTo(600);
    for (const [i, r] of receivers.entries()) {
      await r.got.reach(600, 30_000, `receiver ${i} (on node ${i === 0 ? "a" : "b"})`);
      assert.deepEqual(r.got.bySender.get("s0"), range(600), `receiver ${i}`);
      assert.equal(r.live.stats.duplicatesDropped, 0, `receiver ${i} was sent repeats`);
    }
    // The outage happened, and each node said so, and said when it was over.
    for (const node of [a, b]) {
      assert.match(node.server.stderr(), /the bus \(Redis\) is unreachable/);
      assert.match(node.server.stderr(), /the bus \(Redis\) is back/);
    }
  } finally {
    await sending.close();
    sender.close();
    await Promise.all(receivers.map((r) => r.live.close()));
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => stopProcess(node.server)));
    redis.stop();
  }
});

test("a node started while Redis is down serves its own clients, and joins the others when Redis is up", async () => {
  const redis = await privateRedis();
  const [db, dbUrl] = clusterFlags();
  // The default limits: names and rates fall back to each node's own while Redis is away.
  const flags = [db as string, dbUrl as string, "--bus", redis.url, "--port", "0"];
  const nodes: Node[] = [];
  const clients: Array<{ close(): void }> = [];
  try {
    nodes.push(...(await startNodes(1, flags)));
    await redis.kill();
    nodes.push(...(await startNodes(1, flags)));
    const [a, b] = nodes as [Node, Node];
    assert.match(b.server.stderr(), /the bus \(Redis\) is unreachable/);
    await untilReadyz(b, /ready, but the bus \(Redis\) is unreachable/);
    const ann = await liveUser(a, "ann");
    clients.push(ann.client);
    const bob = await liveUser(b, "bob");
    const bea = await liveUser(b, "bea");
    clients.push(bob.client, bea.client);
    // Node b serves its own clients without Redis.
    await bob.session.send("sent while b is on its own", { room: "lobby" });
    await nextMatching(
      bea.events,
      isText("sent while b is on its own"),
      "the message at bea, on b",
    );
    await redis.start();
    await untilReadyz(b, /^ready$/);
    // Once Redis answers, node a catches up from the store, and learns who is on b.
    const joined = new Set<string>();
    let caughtUp = false;
    await nextMatching(
      ann.events,
      (e) => {
        if (e.type === "presence") for (const u of e.joined) joined.add(u.username);
        caughtUp ||= isText("sent while b is on its own")(e);
        return caughtUp && joined.has("bob") && joined.has("bea");
      },
      "b's message, and bob's and bea's joins, at ann on a",
    );
    const members = await ann.client.listMembers({ room: "lobby" });
    assert.deepEqual(
      members.members.map((m) => m.username),
      ["ann", "bea", "bob"],
    );
    assert.match(b.server.stderr(), /the bus \(Redis\) is back/);
  } finally {
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => stopProcess(node.server)));
    redis.stop();
  }
});

test("PostgreSQL without Redis, or Redis without PostgreSQL, is refused with the reason", async () => {
  const [db, dbUrl, bus, busUrl] = clusterFlags();
  for (const [args, reason] of [
    [[db as string, dbUrl as string], /needs --bus redis:\/\/.*hear each other/],
    [[bus as string, busUrl as string], /--bus needs a shared database/],
  ] as const) {
    const server = spawnCli(["server", "--port", "0", "--http-port", "0", ...args]);
    assert.equal(await within(server.exited, 10_000, "the refused server to exit"), 1);
    assert.match(server.stderr(), reason);
  }
});

test("a ban made on one node ends the banned user's streams on both within a second, and holds on both", async () => {
  const flags = [...clusterFlags(), ...NO_LIMIT_FLAGS, "--port", "0"];
  const [a, b] = (await startNodes(2, flags)) as [Node, Node];
  const room = "crew";
  const clients: Array<{ close(): void }> = [];
  try {
    const alice = await liveUser(a, "alice", { room, userId: "alice-secret" });
    const onA = await liveUser(a, "bob", { room, userId: "bob-secret" });
    const onB = await liveUser(b, "bob", { room, userId: "bob-secret" });
    clients.push(alice.client, onA.client, onB.client);
    const [native] = clientsFor({ address: a.address, httpUrl: undefined }) as [AnyClient];
    clients.push(native);
    const banned = await native.unary(
      "ban",
      { room, user: "bob", reason: "spam" },
      { user_id: "alice-secret" },
    );
    assert.ok("ok" in banned, JSON.stringify(banned));
    for (const [node, bob] of [
      ["A", onA],
      ["B", onB],
    ] as const) {
      const left = await within(
        nextMatching(bob.events, (e) => e.type === "left", `bob's stream on ${node} leaves`),
        1_500,
        `the ban to reach bob's stream on node ${node}`,
      );
      assert.ok(left.type === "left");
      assert.equal(left.code, status.PERMISSION_DENIED);
      assert.match(left.reason, /banned from crew/);
    }
    await assert.rejects(onB.session.join(room), (error: { code?: number }) => {
      assert.equal(error.code, status.PERMISSION_DENIED, "node B refuses the rejoin");
      return true;
    });
  } finally {
    for (const client of clients) client.close();
    await Promise.all([a, b].map((node) => stopProcess(node.server)));
  }
});
