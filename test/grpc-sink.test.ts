import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type StatusObject,
} from "@grpc/grpc-js";
import { pino } from "pino";
import { ChatError } from "../src/core/chat-error.ts";
import { type Encoder, Envelope } from "../src/core/envelope.ts";
import {
  type ChatMessage,
  ChatMessageSchema,
  type Event,
  EventSchema,
} from "../src/gen/chat_pb.js";
import { eventEncoder } from "../src/server/encoders.ts";
import { grpcSink, type WritableCall } from "../src/server/grpc-sink.ts";
import { ConnectLiveCall } from "../src/server/http/connect-call.ts";
import { chatServiceDefinition } from "../src/wire/grpc-service.ts";
import { within } from "./helpers.ts";

// Writes each notice as a ChatMessage whose text is the notice's.
const noticeEncoder: Encoder = (payload) =>
  payload.type === "notice"
    ? toBinary(ChatMessageSchema, create(ChatMessageSchema, { message: payload.text }))
    : null;

/**
 * A real grpc-js server whose ChatStream writes `count` notices through a
 * sink, all in one tick (so they share writes), then ends with `error`.
 */
async function sinkServer(count: number, error: ChatError | undefined, direct?: boolean) {
  const server = new Server();
  const seen: { direct: boolean | undefined } = { direct: undefined };
  server.addService(chatServiceDefinition, {
    chatStream(call: ServerDuplexStream<ChatMessage, Uint8Array>) {
      const sink = grpcSink(
        call as unknown as WritableCall,
        noticeEncoder,
        pino({ level: "silent" }),
        {
          direct,
        },
      );
      seen.direct = sink.direct;
      for (let i = 0; i < count; i++) {
        const bytes = sink.encoder({ type: "notice", text: `n${i}`, timeMs: 0 });
        if (bytes) sink.write(bytes);
      }
      sink.end(error);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const Client = makeGenericClientConstructor(chatServiceDefinition, "ChatService");
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = (
    client as unknown as { chatStream(): ClientDuplexStream<Uint8Array, ChatMessage> }
  ).chatStream();
  const texts: string[] = [];
  call.on("data", (m: ChatMessage | Uint8Array) =>
    texts.push((m instanceof Uint8Array ? fromBinary(ChatMessageSchema, m) : m).message),
  );
  // An error status also comes as an "error" event; the status event has both kinds.
  call.on("error", () => {});
  try {
    const status = await within(
      new Promise<StatusObject>((resolve) => call.on("status", resolve)),
      10_000,
      "the call's status",
    );
    return { texts, status, direct: seen.direct };
  } finally {
    client.close();
    server.forceShutdown();
  }
}

test("the sink writes framed bytes straight to the HTTP/2 stream, in order, then the status", async () => {
  const { texts, status, direct } = await sinkServer(500, undefined);
  // If grpc-js's insides change, the sink falls back; this says it did.
  assert.equal(direct, true, "writes go through grpc-js: grpc-sink.ts no longer knows its insides");
  assert.deepEqual(
    texts,
    Array.from({ length: 500 }, (_, i) => `n${i}`),
  );
  assert.equal(status.code, 0);
});

test("an error status follows everything written before it, on both paths", async () => {
  for (const direct of [true, false]) {
    const error = new ChatError("resource_exhausted", "Too many messages; slow down.");
    const { texts, status } = await sinkServer(3, error, direct);
    assert.deepEqual(texts, ["n0", "n1", "n2"], `direct: ${direct}`);
    assert.equal(status.code, 8, `direct: ${direct}`);
    assert.equal(status.details, "Too many messages; slow down.");
  }
});

test("through grpc-js (the fallback), the same messages arrive", async () => {
  const { texts, status, direct } = await sinkServer(200, undefined, false);
  assert.equal(direct, false);
  assert.deepEqual(
    texts,
    Array.from({ length: 200 }, (_, i) => `n${i}`),
  );
  assert.equal(status.code, 0);
});

test("a message going to a gRPC stream and a Connect stream is encoded once, and both read it whole", async () => {
  let encodes = 0;
  const counting: Encoder = (payload) => {
    encodes += 1;
    return eventEncoder(payload);
  };
  const grpcWrites: Uint8Array[] = [];
  const grpcCall = {
    cancelled: false,
    writableEnded: false,
    write: (bytes: Uint8Array) => grpcWrites.push(bytes) > 0,
  } as unknown as WritableCall;
  const grpc = grpcSink(grpcCall, counting, pino({ level: "silent" }), { direct: false });
  const connect = new ConnectLiveCall(counting, new AbortController().signal, "::1", "peer");
  const message = {
    room: "general",
    id: 7,
    timeMs: 1_700_000_000_000,
    userId: "u1",
    username: "ann",
    text: "héllo",
    kind: "chat" as const,
    clientMsgId: "c1",
  };
  const envelope = new Envelope({ type: "message", message });
  for (const sink of [grpc, connect.sink]) {
    const bytes = envelope.encode(sink.encoder);
    assert.ok(bytes);
    sink.write(bytes);
  }
  connect.sink.end(undefined);
  const viaConnect: Event[] = [];
  for await (const event of connect.events((error) => new Error(error.message))) {
    viaConnect.push(event);
  }

  assert.equal(encodes, 1);
  const viaGrpc = grpcWrites.map((bytes) => fromBinary(EventSchema, bytes));
  assert.equal(viaGrpc.length, 1);
  assert.deepEqual(viaConnect, viaGrpc);
  const event = viaGrpc[0]?.kind;
  assert.equal(event?.case, "message");
  assert.equal(event.value.text, "héllo");
  assert.equal(event.value.id, 7n);
});
