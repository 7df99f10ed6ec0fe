import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { status } from "@grpc/grpc-js";
import { ChatClientError } from "../src/client/chat-client.ts";
import { ChatService } from "../src/gen/chat_pb.js";
import { isText, nextMatching, startTestServer, tempDir, testClient } from "./helpers.ts";
import { testCertificate } from "./test-certificate.ts";

test("TLS: a client that trusts the certificate chats; a plaintext client is not served", async () => {
  const dir = tempDir();
  const tls = testCertificate(dir.path);
  const server = await startTestServer({ tls });
  const address = { address: `localhost:${server.port}` };
  const alice = testClient(address, { username: "alice", tls: { ca: tls.cert } });
  const bob = testClient(address, { username: "bob", tls: { ca: tls.cert } });
  const plain = testClient(address, { username: "plain" });
  try {
    await alice.join();
    await bob.join();
    const listening = bob.openSession();
    const events = listening[Symbol.asyncIterator]();
    await listening.join("lobby");
    const talking = alice.openSession();
    await talking.join("lobby");
    await talking.send("over TLS");
    await nextMatching(events, isText("over TLS"), "the message over TLS");
    await assert.rejects(plain.ping(), (e) => ChatClientError.from(e).code === status.UNAVAILABLE);
  } finally {
    for (const c of [alice, bob, plain]) c.close();
    await server.stop();
    dir.remove();
  }
});

test("TLS: the HTTP port serves HTTPS with the same certificate, over HTTP/2 and HTTP/1.1", async () => {
  const dir = tempDir();
  const tls = testCertificate(dir.path);
  const server = await startTestServer({ tls, httpPort: 0 });
  const baseUrl = `https://localhost:${new URL(server.httpUrl ?? "").port}`;
  try {
    assert.match(server.httpUrl ?? "", /^https:/);
    for (const httpVersion of ["2", "1.1"] as const) {
      const transport = createConnectTransport({
        baseUrl,
        httpVersion,
        nodeOptions: { ca: tls.cert },
      });
      const pong = await createClient(ChatService, transport).ping({});
      assert.ok(pong.serverTimeMs > 0n, `Ping over HTTP/${httpVersion}`);
    }
    const plain = createConnectTransport({
      baseUrl: baseUrl.replace("https:", "http:"),
      httpVersion: "1.1",
    });
    await assert.rejects(createClient(ChatService, plain).ping({}));
  } finally {
    await server.stop();
    dir.remove();
  }
});
