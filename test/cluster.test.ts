import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import pg from "pg";
import { PG_URL, REDIS_URL } from "./engine-urls.ts";
import {
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
import { seedUser } from "./seed-client.ts";

const schemas: string[] = [];
after(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
});

/** A database schema and a bus prefix of their own: a cluster no other test can hear. */
function clusterFlags(): string[] {
  const name = `cluster_${randomBytes(6).toString("hex")}`;
  schemas.push(name);
  return ["--db", `${PG_URL}?schema=${name}`, "--bus", `${REDIS_URL}?prefix=${name}`];
}

test("two nodes on one PostgreSQL and one Redis: a message sent on either reaches clients of both, seed clients too, and history is the same from each", async () => {
  const flags = [...clusterFlags(), ...NO_LIMIT_FLAGS, "--port", "0"];
  const nodes = await Promise.all([startServerProcess(flags), startServerProcess(flags)]);
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const ann = await liveUser(a, "ann");
  const bob = await liveUser(b, "bob");
  const seed = await seedUser(b, "sam");
  try {
    await ann.session.send("hello from node a", { room: "lobby" });
    await nextMatching(bob.events, isText("hello from node a"), "a's message at bob on node b");
    await nextMatching(
      seed.iterator,
      (m) => m.message === "hello from node a",
      "a's message at the seed client on node b",
    );
    await bob.session.send("and back from b", { room: "lobby" });
    await nextMatching(ann.events, isText("and back from b"), "b's message at ann on node a");
    const histories = await Promise.all(
      [a, b].map(async (node) => {
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
    assert.deepEqual(histories[0], ["1 ann: hello from node a", "2 bob: and back from b"]);
    assert.deepEqual(histories[1], histories[0]);
  } finally {
    seed.client.close();
    ann.client.close();
    bob.client.close();
    await Promise.all(nodes.map((node) => stopProcess(node.server)));
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
