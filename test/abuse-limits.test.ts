// Limits that hold against abuse the per-user ones miss: a sender who keeps
// sending after being told to wait is no longer read (so refusing it stops
// costing the server), and is ended if it persists; guests at one address
// share a send rate and a rate of new names.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { ChatClientError } from "../src/client/chat-client.ts";
import { MAX_REFUSALS } from "../src/core/refusal-guard.ts";
import { nextMatching, startTestServer, testClient } from "./helpers.ts";
import { type AnyClient, clientsFor, okOf } from "./http-clients.ts";

describe("a sender that does not wait", () => {
  test("is not read while told to wait, so its refusals stay few; persisting, it is ended saying why", async () => {
    const server = await startTestServer({ limits: { sendRate: 50, sendBurst: 5 } });
    const client = testClient(server, { username: "flooder" });
    try {
      await client.join();
      const session = client.openSession();
      const events = session[Symbol.asyncIterator]();
      await nextMatching(events, (e) => e.type === "welcome", "the welcome");
      await session.join("lobby");
      // Far more than the rate allows, written at once, never waiting for a refusal.
      const flood = 2_000;
      const started = Date.now();
      const outcomes = await Promise.allSettled(
        Array.from({ length: flood }, (_, i) => session.send(`flood ${i}`, { room: "lobby" })),
      );
      const seconds = (Date.now() - started) / 1000;
      const acked = outcomes.filter((o) => o.status === "fulfilled").length;
      const reasons = outcomes.flatMap((o) =>
        o.status === "rejected" ? [o.reason as ChatClientError] : [],
      );
      const refused = reasons.filter(
        (r) => r.code === status.RESOURCE_EXHAUSTED && r.retryAfterMs,
      ).length;
      // Read at the pace it was asked for: about one refusal per wait, not one per frame.
      assert.ok(
        refused <= (seconds * 50 + 5) * 1.5 + 32,
        `${refused} refusals in ${seconds.toFixed(1)} s: the flood was read as fast as it came`,
      );
      assert.ok(acked > 0, "sends within the rate still went through");
      assert.ok(refused > MAX_REFUSALS, `the flood earned ${refused} refusals before it stopped`);
      const ended = await session.ended;
      assert.ok(ended instanceof ChatClientError, "the stream was ended");
      assert.equal(ended.code, status.RESOURCE_EXHAUSTED);
      assert.match(ended.message, /kept sending after being told to wait/);
      assert.equal(acked + refused + reasons.length - refused, flood);
    } finally {
      client.close();
      await server.stop();
    }
  });
});

describe("unary sends that do not wait", () => {
  test("are held and let through one at a time, so many in flight earn about one refusal per wait", async () => {
    const server = await startTestServer({ limits: { sendRate: 20, sendBurst: 5 } });
    const [native] = clientsFor({ address: server.address, httpUrl: undefined }) as [AnyClient];
    try {
      const registered = okOf(
        await native.unary("register", { username: "hasty", password: "a long password here" }),
        "register",
      );
      const bearer = { authorization: `Bearer ${registered.token}` };
      // 50 calls always in flight, each sent again as soon as it is answered, for a second.
      const started = Date.now();
      let refused = 0;
      let acked = 0;
      await Promise.all(
        Array.from({ length: 50 }, async (_, worker) => {
          for (let i = 0; Date.now() - started < 1_000; i++) {
            const outcome = await native.unary(
              "send",
              { room: "lobby", text: `${worker}-${i}` },
              bearer,
            );
            if ("code" in outcome) {
              assert.equal(outcome.code, status.RESOURCE_EXHAUSTED);
              refused += 1;
            } else acked += 1;
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      // The first 50 arrive before any refusal; after that about one per wait, not thousands.
      assert.ok(
        refused <= 50 + (seconds * 20 + 5) * 2,
        `${refused} refusals in ${seconds.toFixed(1)} s`,
      );
      assert.ok(acked >= 5, `${acked} acknowledged`);
    } finally {
      native.close();
      await server.stop();
    }
  });
});

describe("guests at one address", () => {
  test("share a send rate: many identities do not multiply it; an account is not held to it", async () => {
    const server = await startTestServer({
      limits: { guestSendsPerAddress: 2, sendBurst: 5, sendRate: 5, guestNamesPerMinute: 0 },
    });
    // Raw calls: the SDK would retry a refusal after its retry-after, as a client should.
    const [native] = clientsFor({ address: server.address, httpUrl: undefined }) as [AnyClient];
    try {
      const guests = ["g1", "g2", "g3"].map((name) => ({
        name,
        headers: { user_id: `${name}'s secret` },
      }));
      for (const { name, headers } of guests) {
        assert.ok(
          "ok" in (await native.unary("joinChat", { userId: headers.user_id, username: name })),
        );
      }
      const started = Date.now();
      const outcomes = await Promise.all(
        guests.flatMap(({ headers }, g) =>
          [0, 1, 2].map((i) => native.unary("send", { room: "lobby", text: `${g}-${i}` }, headers)),
        ),
      );
      const refusals = outcomes.flatMap((o) => ("code" in o ? [o] : []));
      // The burst of one guest, and what the shared rate (2/s) refilled while the calls ran.
      const refilled = Math.ceil(((Date.now() - started) / 1000) * 2);
      const acked = outcomes.length - refusals.length;
      assert.ok(
        acked >= 5 && acked <= 5 + refilled,
        `${acked} acknowledged between them, as for one guest`,
      );
      assert.ok(acked < 9, "not each guest's own burst");
      for (const refusal of refusals) {
        assert.equal(refusal.code, status.RESOURCE_EXHAUSTED);
        assert.match(
          refusal.message,
          /Guests at your address are sending faster than 2 messages a second/,
        );
        assert.ok(Number(refusal.retryAfterMs) > 0);
      }
      const token = await native.unary("register", {
        username: "member",
        password: "a long password here",
      });
      assert.ok("ok" in token);
      const bearer = { authorization: `Bearer ${(token.ok as { token: string }).token}` };
      const sent = await native.unary(
        "send",
        { room: "lobby", text: "an account has its own rate" },
        bearer,
      );
      assert.ok("ok" in sent, JSON.stringify(sent));
    } finally {
      native.close();
      await server.stop();
    }
  });

  test("take few new names a minute, and are told when to try again", async () => {
    const server = await startTestServer({
      limits: { guestNamesPerMinute: 2, guestSendsPerAddress: 0 },
    });
    const clients = ["n1", "n2", "n3"].map((name) => testClient(server, { username: name }));
    try {
      await clients[0]?.join();
      await clients[1]?.join();
      // The same guest keeping its name is no new name.
      await clients[1]?.join();
      const refused = await clients[2]?.join().then(
        () => assert.fail("a third new name in a minute was taken"),
        (error: unknown) => error as ChatClientError,
      );
      assert.equal(refused?.code, status.RESOURCE_EXHAUSTED);
      assert.match(
        refused?.message ?? "",
        /Too many new guest names from your address; try again in .*, or register an account/,
      );
    } finally {
      for (const client of clients) client.close();
      await server.stop();
    }
  });
});
