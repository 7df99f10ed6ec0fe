// The direct write path (grpc-sink.ts) on the real transport: every kind of
// server stream our server has writes its frames straight to the HTTP/2
// stream, and when something takes that path away (here, a grpc-js server
// interceptor), the messages still arrive, the server says so once in its
// log, and a metric counts the writes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import { capturedLogger } from "./captured-logger.ts";
import { isText, liveUser, nextMatching, startTestServer, testClient, within } from "./helpers.ts";
import { seedUser } from "./seed-client.ts";

const FALLBACK_LINE = /written through grpc-js/;

async function metric(httpUrl: string | undefined, name: string): Promise<number> {
  const text = await (await fetch(new URL("/metrics", httpUrl))).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} is served`);
  return Number(line.split(" ")[1]);
}

/** Messages both ways between a Session and a seed ChatStream, then the seed's history. */
async function traffic(server: { address: string }) {
  const ann = await liveUser(server, "ann");
  const bob = await seedUser(server, "bob");
  try {
    await nextMatching(ann.events, (e) => e.type === "presence", "bob's arrival");
    bob.call.write({
      user_id: bob.client.userId,
      username: "bob",
      message: "from the seed",
      timestamp: "",
    });
    await nextMatching(ann.events, isText("from the seed"), "the seed's message on the Session");
    await ann.session.send("from the session");
    await nextMatching(
      bob.iterator,
      (m) => m.message === "from the session",
      "the Session's message on the seed stream",
    );
    const history = await bob.client.getChatHistory(2, false);
    assert.deepEqual(
      history.map((m) => m.message),
      ["from the session", "from the seed"],
    );
  } finally {
    ann.session.close();
    ann.client.close();
    bob.call.end();
    bob.client.close();
  }
}

test("on the real transport, live streams and the seed's history are written directly", async () => {
  const { logger, lines } = capturedLogger();
  const server = await startTestServer({ httpPort: 0, logger });
  try {
    await traffic(server);
    assert.ok((await metric(server.httpUrl, "grpc_chat_deliveries_total")) > 0);
    assert.equal(await metric(server.httpUrl, "grpc_chat_fallback_writes_total"), 0);
    assert.ok(
      !lines.some((line) => FALLBACK_LINE.test(line.msg)),
      "nothing said about the slow path",
    );
  } finally {
    await server.stop();
  }
});

test("behind a server interceptor the slow path still delivers, is counted, and is said once", async () => {
  const { logger, lines } = capturedLogger();
  const passThrough: ServerInterceptor = (_method, call) => new ServerInterceptingCall(call);
  const server = await startTestServer({ httpPort: 0, logger, interceptors: [passThrough] });
  try {
    await traffic(server);
    await traffic(server);
    assert.ok((await metric(server.httpUrl, "grpc_chat_fallback_writes_total")) >= 6);
    assert.equal(lines.filter((line) => FALLBACK_LINE.test(line.msg)).length, 1);
    // A Subscribe behind the interceptor is served too.
    const client = testClient(server, { username: "cat" });
    await client.join();
    await within(client.ping(), 5_000, "a ping through the interceptor");
    client.close();
  } finally {
    await server.stop();
  }
});
