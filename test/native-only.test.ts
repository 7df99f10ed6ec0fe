// What the method table keeps off the HTTP port is refused there with
// UNIMPLEMENTED and where to go instead, in whatever protocol the client
// spoke, over HTTP/1.1 and HTTP/2, streams included (connect-node by itself
// answers a bidirectional stream on HTTP/1.1 with a bare 505).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ChatService } from "../src/gen/chat_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { ruleOf } from "../src/server/methods.ts";
import { capturedLogger, WARN } from "./captured-logger.ts";
import { startTestServer, tempDir, within } from "./helpers.ts";
import { testCertificate } from "./test-certificate.ts";

const REFUSAL =
  "This call is served on the native gRPC port only; on this port use Subscribe and Send.";

const nativeOnly = ChatService.methods.filter(
  (method) => !ruleOf(method.localName)?.transports.includes("http"),
);

/** Calls `method` as its kind demands, with one empty request; resolves to its error. */
async function refusalOf(transport: Transport, method: DescMethod): Promise<ConnectError> {
  // biome-ignore lint/suspicious/noExplicitAny: one call site for methods of every kind
  const client = createClient(ChatService, transport) as any;
  const requests = async function* () {
    yield {};
  };
  const call = async () => {
    switch (method.methodKind) {
      case "unary":
        return client[method.localName]({});
      case "client_streaming":
        return client[method.localName](requests());
      case "server_streaming":
      case "bidi_streaming": {
        const stream =
          method.methodKind === "server_streaming"
            ? client[method.localName]({})
            : client[method.localName](requests());
        for await (const _ of stream) {
          // Drained: the refusal is the stream's end.
        }
      }
    }
  };
  try {
    await within(call(), 5_000, `${method.name} to be answered`);
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail(`${method.name} was served`);
}

describe("methods served on the native port only", () => {
  const dir = tempDir();
  const tls = testCertificate(dir.path);
  const { logger, lines } = capturedLogger();
  let plain: RunningChatServer;
  let secure: RunningChatServer;
  before(async () => {
    [plain, secure] = await Promise.all([
      startTestServer({ httpPort: 0, logger }),
      startTestServer({ httpPort: 0, logger, tls }),
    ]);
  });
  after(async () => {
    await Promise.all([plain.stop(), secure.stop()]);
    dir.remove();
  });

  test("the method table keeps the streams browsers cannot carry off HTTP", () => {
    const names = nativeOnly.map((method) => method.localName);
    for (const name of ["session", "chatStream", "sendMessages", "joinChat", "getChatHistory"]) {
      assert.ok(names.includes(name), `${name} is native only`);
    }
    assert.ok(!names.includes("ping") && !names.includes("subscribe"));
  });

  const ways = [
    { label: "HTTP/1.1", httpVersion: "1.1", secure: false },
    { label: "HTTPS HTTP/1.1", httpVersion: "1.1", secure: true },
    { label: "HTTPS HTTP/2", httpVersion: "2", secure: true },
  ] as const;
  const protocols = [
    { label: "Connect", make: createConnectTransport, useBinaryFormat: true },
    { label: "Connect JSON", make: createConnectTransport, useBinaryFormat: false },
    { label: "gRPC-Web", make: createGrpcWebTransport, useBinaryFormat: true },
  ] as const;

  for (const way of ways) {
    for (const protocol of protocols) {
      test(`each answers UNIMPLEMENTED over ${protocol.label}, ${way.label}`, async () => {
        const server = way.secure ? secure : plain;
        const port = new URL(server.httpUrl ?? "").port;
        const transport = protocol.make({
          baseUrl: `${way.secure ? "https" : "http"}://localhost:${port}`,
          httpVersion: way.httpVersion,
          useBinaryFormat: protocol.useBinaryFormat,
          ...(way.secure ? { nodeOptions: { ca: tls.cert } } : {}),
        });
        const from = lines.length;
        for (const method of nativeOnly) {
          const error = await refusalOf(transport, method);
          assert.deepEqual(
            [error.code, error.rawMessage],
            [Code.Unimplemented, REFUSAL],
            method.name,
          );
        }
        // The same client, on the same port, is served what the port serves.
        const pong = await createClient(ChatService, transport).ping({});
        assert.ok(pong.serverTimeMs > 0n);
        assert.deepEqual(
          lines.slice(from).filter((line) => line.level >= WARN),
          [],
        );
      });
    }
  }

  test("a plain POST (curl) gets HTTP 501 and the sentence as Connect's JSON error", async () => {
    for (const method of nativeOnly) {
      const response = await fetch(`${plain.httpUrl}chat.ChatService/${method.name}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(response.status, 501, method.name);
      assert.deepEqual(await response.json(), { code: "unimplemented", message: REFUSAL });
    }
  });
});
