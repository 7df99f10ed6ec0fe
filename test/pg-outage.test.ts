// PostgreSQL going away under a running server: sends answer UNAVAILABLE,
// /readyz says not ready, and when it is back a retried send is stored once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import { openPgStore } from "../src/store/pg-store.ts";
import { PG_URL, scratchSchemas } from "./engine-urls.ts";
import { isCaughtUp, isText, liveUser, nextMatching, startTestServer, within } from "./helpers.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

const schema = scratchSchemas("outage")();

test("PostgreSQL unreachable: sends answer UNAVAILABLE and /readyz 503; once it is back the same send is stored once", async () => {
  const pgAddress = `${new URL(PG_URL).hostname}:${new URL(PG_URL).port || 5432}`;
  const proxy = await startTcpProxy(pgAddress);
  const url = new URL(PG_URL);
  url.host = proxy.address;
  const store = await openPgStore({ url: url.toString(), schema });
  const server = await startTestServer({ store, httpPort: 0 });
  const watcher = await liveUser(server, "watcher");
  const sender = await liveUser(server, "sender");
  const readyz = () => fetch(`${server.httpUrl}readyz`);
  try {
    await nextMatching(watcher.events, isCaughtUp, "watcher live");
    await sender.session.send("before", { clientMsgId: "k-before" });
    // The database goes away: open connections are reset, new ones go nowhere.
    proxy.retarget("127.0.0.1:1");
    proxy.cut();
    await assert.rejects(sender.session.send("during", { clientMsgId: "k-during" }), {
      code: status.UNAVAILABLE,
    });
    assert.equal((await readyz()).status, 503);
    proxy.retarget(pgAddress);
    // The client retries with the same key; it was not stored before, so it is now, once.
    const ack = await within(
      sender.session.send("during", { clientMsgId: "k-during" }),
      15_000,
      "the retried send",
    );
    await nextMatching(watcher.events, isText("during"), "the message at the watcher");
    assert.equal((await readyz()).status, 200);
    const again = await sender.session.send("during", { clientMsgId: "k-during" });
    assert.equal(again.id, ack.id, "a third try is the same message");
    const history = await watcher.client.history({ limit: 10 });
    assert.deepEqual(
      history.messages.map((m) => m.text),
      ["before", "during"],
    );
  } finally {
    watcher.client.close();
    sender.client.close();
    await server.stop();
    await proxy.close();
  }
});
