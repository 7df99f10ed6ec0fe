// Outgoing hooks may not reach this machine or a private network unless the
// server allows it: any account can make a bot and choose its URL, so
// without this a hook could read a cloud's metadata address or a local admin
// page and post the answer back to a room.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hookPoster, isPrivateAddress } from "../src/server/hook-poster.ts";
import { liveUser, startTestServer, testClient, within } from "./helpers.ts";
import { Receiver } from "./hook-receiver.ts";

test("loopback, private, link-local and mapped addresses are private; public ones are not", () => {
  const private_ = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
  ];
  const public_ = ["8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "2606:4700::1111"];
  for (const address of private_) assert.equal(isPrivateAddress(address), true, address);
  for (const address of public_) assert.equal(isPrivateAddress(address), false, address);
});

test("a hook to loopback, by address or by a name that resolves to it, is refused unless allowed", async () => {
  const receiver = new Receiver();
  await receiver.start();
  try {
    const post = hookPoster(false);
    for (const url of [receiver.url("/a"), receiver.url("/b").replace("127.0.0.1", "localhost")]) {
      await assert.rejects(post(url, "{}", {}), /loopback or private address/, url);
    }
    assert.equal(receiver.deliveries.length, 0);
    const allowed = await hookPoster(true)(receiver.url("/c"), '{"text":"hi"}', {});
    assert.equal(allowed.status, 200);
    assert.deepEqual(
      receiver.deliveries.map((d) => d.path),
      ["/c"],
    );
  } finally {
    await receiver.stop();
  }
});

test("on a server that does not allow it, a bot's hook to loopback fails with the reason in ListBots", async () => {
  const server = await startTestServer({ hooks: { firstRetryMs: 50, pollMs: 200 } });
  const receiver = new Receiver();
  await receiver.start();
  const owner = testClient(server, { username: "petra" });
  try {
    await owner.register("petra", "correct horse battery");
    await owner.bots.create({
      name: "snoop",
      rooms: ["ops"],
      outgoingUrl: receiver.url("/metadata"),
      trigger: "all",
    });
    const user = await liveUser(server, "uma", { room: "ops" });
    await user.session.send("anything", { room: "ops" });
    const state = await within(
      (async () => {
        for (;;) {
          const [bot] = await owner.bots.list();
          if (bot?.lastError) return bot;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })(),
      10_000,
      "the refusal in ListBots",
    );
    assert.match(state.lastError, /127\.0\.0\.1 is a loopback or private address/);
    assert.equal(receiver.deliveries.length, 0);
    user.client.close();
  } finally {
    owner.close();
    await receiver.stop();
    await server.stop();
  }
});
