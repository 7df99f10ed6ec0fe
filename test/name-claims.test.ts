// The cross-node name claim in the core's stream opening: two Chats (two
// nodes) sharing names through RedisClaims on a real Redis, each on its own
// SQLite store in memory and a manual clock.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { connectRedisClaims } from "../src/bus/redis-claims.ts";
import { ChatError } from "../src/core/chat-error.ts";
import { TestSink, testChat } from "./core-helpers.ts";
import { REDIS_URL } from "./engine-urls.ts";

async function twoNodes() {
  const prefix = `test-stream-claims-${randomBytes(6).toString("hex")}`;
  const claims = {
    a: await connectRedisClaims({ url: REDIS_URL, prefix, nodeId: "a" }),
    b: await connectRedisClaims({ url: REDIS_URL, prefix, nodeId: "b" }),
  };
  const limits = { maxSessionsPerUser: 1 };
  const a = (await testChat({ claims: claims.a, limits })).chat;
  const b = (await testChat({ claims: claims.b, limits })).chat;
  return { a, b, claims, close: () => Promise.all([a.close(), b.close()]) };
}

const refusedWith = (code: string) => (error: unknown) =>
  error instanceof ChatError && error.code === code;

test("opening a stream claims its name across nodes, and a stream that does not open gives the claim back", async () => {
  const { a, b, claims, close } = await twoNodes();
  try {
    const u1 = "u-one";
    await a.openStream({ userId: u1, username: "Xena" }, new TestSink());
    // Worn on node a: refused to another user on node b, look-alikes too.
    await assert.rejects(
      b.openStream({ userId: "u-two", username: "xena" }, new TestSink()),
      refusedWith("already_exists"),
    );
    // u1 has the one stream its limit allows: a second, under another name,
    // is claimed across the nodes, then refused here, and the claim goes back.
    await assert.rejects(
      a.openStream({ userId: u1, username: "Yuri" }, new TestSink()),
      refusedWith("resource_exhausted"),
    );
    // Node a's calls to Redis are answered in order: once this one is, the
    // release before it has been done.
    await claims.a.releaseName("nobody's", "u-nobody");
    const yuri = await b.openStream({ userId: "u-two", username: "Yuri" }, new TestSink());
    assert.equal(yuri.identity.username, "Yuri");
  } finally {
    await close();
  }
});
