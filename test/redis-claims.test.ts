import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "redis";
import { connectRedisClaims, type RedisClaimsOptions } from "../src/bus/redis-claims.ts";
import { REDIS_URL } from "./engine-urls.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

// A client of the test's own, to look at what the claims leave in Redis.
const redis = createClient({ url: REDIS_URL });
before(() => redis.connect());
after(() => redis.close());

/** A prefix of its own per test, so that runs (and other suites) never collide. */
function freshPrefix(): string {
  return `test-claims-${randomBytes(6).toString("hex")}`;
}

type Claims = Awaited<ReturnType<typeof connectRedisClaims>>;

/** Connects nodes that are all closed when `body` ends, however it ends. */
async function withNodes(
  prefix: string,
  nodes: ReadonlyArray<Omit<RedisClaimsOptions, "url" | "prefix">>,
  body: (claims: Claims[]) => Promise<void>,
): Promise<void> {
  const claims: Claims[] = [];
  try {
    for (const node of nodes) {
      claims.push(await connectRedisClaims({ url: REDIS_URL, prefix, ...node }));
    }
    await body(claims);
  } finally {
    await Promise.all(claims.map((c) => c.close()));
  }
}

/** Polls `check` until it holds, failing after `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

async function keysOf(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) {
    keys.push(...batch);
  }
  return keys;
}

test("a name held by one user is refused to another, on any node", async () => {
  await withNodes(freshPrefix(), [{ nodeId: "A" }, { nodeId: "B" }], async ([a, b]) => {
    assert.ok(a && b);
    assert.equal(a.connected, true);
    assert.equal(await a.claimName("alice", "u1"), true);
    assert.equal(await b.claimName("alice", "u2"), false);
    assert.equal(await b.claimName("alice", "u1"), true);
    assert.equal(await a.claimName("alice", "u1"), true, "claiming again is harmless");
    assert.equal(await a.claimName("bob", "u2"), true);
  });
});

test("a name stays held until every node holding it releases it", async () => {
  await withNodes(freshPrefix(), [{ nodeId: "A" }, { nodeId: "B" }], async ([a, b]) => {
    assert.ok(a && b);
    assert.equal(await a.claimName("alice", "u1"), true);
    assert.equal(await b.claimName("alice", "u1"), true);
    await a.releaseName("alice", "u1");
    assert.equal(await a.claimName("alice", "u2"), false);
    await b.releaseName("alice", "u2"); // not the holder: changes nothing
    assert.equal(await a.claimName("alice", "u2"), false);
    await b.releaseName("alice", "u1");
    assert.equal(await b.claimName("alice", "u2"), true);
  });
});

test("a dead node's names lapse with its lease, and are cleared away", async () => {
  const prefix = freshPrefix();
  // The dead node registers once and never renews: as good as a crashed one.
  const nodes = [
    { nodeId: "dead", leaseMs: 500, renewMs: 3_600_000 },
    { nodeId: "A", leaseMs: 300 },
  ];
  await withNodes(prefix, nodes, async ([dead, a]) => {
    assert.ok(dead && a);
    assert.equal(await dead.claimName("alice", "u1"), true);
    assert.equal(await dead.claimName("bob", "u1"), true);
    assert.equal(await a.claimName("alice", "u2"), false, "while its lease holds");
    await eventually("u2 gets alice", () => a.claimName("alice", "u2"));
    await eventually("the janitor clears the dead node", async () => {
      const names = await redis.hGetAll(`${prefix}:names`);
      const score = await redis.zScore(`${prefix}:nodes`, "dead");
      return score === null && !("bob" in names) && names.alice !== undefined;
    });
    assert.equal(await a.claimName("bob", "u3"), true);
  });
});

test("a node that closes gives up its names at once", async () => {
  const prefix = freshPrefix();
  await withNodes(prefix, [{ nodeId: "A" }, { nodeId: "B" }], async ([a, b]) => {
    assert.ok(a && b);
    assert.equal(await a.claimName("alice", "u1"), true);
    await a.close();
    await a.close(); // twice is harmless
    assert.equal(a.connected, false);
    assert.equal(await b.claimName("alice", "u2"), true);
    assert.equal(await redis.zScore(`${prefix}:nodes`, "A"), null);
    await assert.rejects(a.claimName("bob", "u1"), "a closed node claims nothing");
  });
});

test("nodes share one rate bucket", async () => {
  await withNodes(freshPrefix(), [{ nodeId: "A" }, { nodeId: "B" }], async ([a, b]) => {
    assert.ok(a && b);
    const perSecond = 10;
    for (let i = 0; i < 5; i++) {
      assert.equal(await (i % 2 ? b : a).take("u1", perSecond, 5, 1), 0, `take ${i + 1}`);
    }
    const wait = await b.take("u1", perSecond, 5, 1);
    assert.ok(wait > 0 && wait <= 1000 / perSecond, `wait ${wait}`);
    assert.equal(await a.take("u2", perSecond, 5, 1), 0, "another key, another bucket");
    await sleep(wait);
    assert.equal(await a.take("u1", perSecond, 5, 1), 0, "after the wait");
    assert.equal(await a.take("u1", perSecond, 5, 6), Number.POSITIVE_INFINITY);
    for (let i = 0; i < 10; i++) assert.equal(await a.take("u1", 0, 5, 6), 0, "no limit");
  });
});

test("nothing is left in Redis once the nodes are gone", async () => {
  const prefix = freshPrefix();
  await withNodes(prefix, [{ nodeId: "A" }, { nodeId: "B" }], async ([a, b]) => {
    assert.ok(a && b);
    assert.equal(await a.claimName("alice", "u1"), true);
    assert.equal(await b.claimName("alice", "u1"), true);
    assert.equal(await b.claimName("bob", "u2"), true);
    assert.equal(await a.take("u1", 1_000, 2, 1), 0);
    assert.notDeepEqual(await keysOf(prefix), []);
  });
  assert.deepEqual(await redis.hGetAll(`${prefix}:names`), {});
  // The bucket refills in 2 ms, and vanishes soon after.
  await eventually("every key is gone", async () => (await keysOf(prefix)).length === 0);
});

test("calls fail while Redis is away, and the lease is renewed as soon as it is back", async () => {
  const prefix = freshPrefix();
  const proxy = await startTcpProxy(new URL(REDIS_URL).host);
  // Renewed by its timer only once an hour: a fresh lease can come from the reconnection alone.
  const claims = await connectRedisClaims({
    url: `redis://${proxy.address}`,
    prefix,
    nodeId: "A",
    leaseMs: 300,
    renewMs: 3_600_000,
  });
  try {
    const registered = await redis.zScore(`${prefix}:nodes`, "A");
    assert.ok(registered !== null);
    proxy.retarget("127.0.0.1:1"); // nothing listens there
    proxy.cut();
    await eventually("the node sees it is cut off", async () => !claims.connected);
    await assert.rejects(claims.claimName("alice", "u1"));
    await assert.rejects(claims.releaseName("alice", "u1"));
    await assert.rejects(claims.take("u1", 10, 5, 1));
    assert.equal(await claims.take("u1", 0, 5, 1), 0, "no limit needs no Redis");
    assert.equal(await claims.take("u1", 10, 5, 6), Number.POSITIVE_INFINITY);
    proxy.retarget(new URL(REDIS_URL).host);
    await eventually("the node is back", async () => claims.connected);
    await eventually("the lease is renewed", async () => {
      const score = await redis.zScore(`${prefix}:nodes`, "A");
      return score !== null && score > registered;
    });
    assert.equal(await claims.claimName("alice", "u1"), true);
    proxy.retarget("127.0.0.1:1");
    proxy.cut();
    await eventually("cut off again", async () => !claims.connected);
    await claims.close(); // does not wait for Redis to come back
  } finally {
    await claims.close();
    await proxy.close();
    await redis.del([`${prefix}:names`, `${prefix}:nodes`]);
  }
});
