// Subscribe on the HTTP port in every form a browser or a script sends it:
// Connect (binary and JSON) and gRPC-Web, over HTTP/1.1 and HTTP/2, and the
// forms the server leaves to connect-node (a compressed request, a deadline).
// Each gets the same events as the native port, and a request that is not a
// SubscribeRequest gets INVALID_ARGUMENT with a sentence, in its protocol.
import assert from "node:assert/strict";
import { connect as http2Connect } from "node:http2";
import { after, before, describe, test } from "node:test";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import {
  ChatService,
  type Event,
  EventSchema,
  SubscribeRequestSchema,
} from "../src/gen/chat_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { startTestServer, tempDir, within } from "./helpers.ts";
import { testCertificate } from "./test-certificate.ts";

const dir = tempDir();
const tls = testCertificate(dir.path);
let server: RunningChatServer;
let baseUrl = "";

before(async () => {
  server = await startTestServer({ tls, httpPort: 0 });
  baseUrl = `https://localhost:${new URL(server.httpUrl ?? "").port}`;
});

after(async () => {
  await server.stop();
  dir.remove();
});

type Form = readonly [name: string, transport: () => Transport];

const nodeOptions = () => ({ ca: tls.cert });
const FORMS: readonly Form[] = [
  ...(["1.1", "2"] as const).flatMap((httpVersion): Form[] => [
    [
      `Connect binary, HTTP/${httpVersion}`,
      () =>
        createConnectTransport({
          baseUrl,
          httpVersion,
          nodeOptions: nodeOptions(),
          useBinaryFormat: true,
        }),
    ],
    [
      `Connect JSON, HTTP/${httpVersion}`,
      () =>
        createConnectTransport({
          baseUrl,
          httpVersion,
          nodeOptions: nodeOptions(),
          useBinaryFormat: false,
        }),
    ],
    [
      `gRPC-Web, HTTP/${httpVersion}`,
      () => createGrpcWebTransport({ baseUrl, httpVersion, nodeOptions: nodeOptions() }),
    ],
  ]),
  [
    "Connect with a gzip request",
    () =>
      createConnectTransport({
        baseUrl,
        httpVersion: "2",
        nodeOptions: nodeOptions(),
        sendCompression: compressionGzip,
        compressMinBytes: 0,
      }),
  ],
];

describe("Subscribe on the HTTP port", () => {
  test("every form gets the welcome and the room's messages, the same in each", async () => {
    const sender = createClient(ChatService, FORMS[0]?.[1]() as Transport);
    const { token } = await sender.register({
      username: "poster",
      password: "correct horse battery",
    });
    const auth = { authorization: `Bearer ${token}` };
    const aborts: AbortController[] = [];
    const streams = FORMS.map(([name, transport], i) => {
      const abort = new AbortController();
      aborts.push(abort);
      const events = createClient(ChatService, transport())
        .subscribe(
          { username: `reader${i}`, rooms: [{ room: "forms" }] },
          { headers: { user_id: `reader ${i} secret` }, signal: abort.signal },
        )
        [Symbol.asyncIterator]();
      return { name, events };
    });
    try {
      for (const { name, events } of streams) {
        const first = await within(events.next(), 5_000, `${name}: the welcome`);
        assert.equal(first.value?.kind.case, "welcome", name);
        for (;;) {
          const next = await within(events.next(), 5_000, `${name}: caught up`);
          if (next.value?.kind.case === "caughtUp") break;
        }
      }
      const texts = ["plain", "**bold** and `code`", "ünïcödé ✓ 🎉"];
      for (const text of texts) await sender.send({ room: "forms", text }, { headers: auth });
      const seen = new Map<string, unknown[]>();
      for (const { name, events } of streams) {
        const messages: unknown[] = [];
        while (messages.length < texts.length) {
          const next = await within(events.next(), 5_000, `${name}: the messages`);
          assert.ok(!next.done, `${name} ended early`);
          if (next.value.kind.case === "message") messages.push(toJson(EventSchema, next.value));
        }
        seen.set(name, messages);
      }
      const [reference] = [...seen.values()];
      assert.deepEqual(
        (reference as Array<{ message: { text: string } }>).map((m) => m.message.text),
        texts,
      );
      for (const [name, messages] of seen) assert.deepEqual(messages, reference, name);
    } finally {
      for (const abort of aborts) abort.abort();
    }
  });

  async function presenceOf(
    events: AsyncIterator<Event>,
    username: string,
    way: "joined" | "left",
    what: string,
  ) {
    for (;;) {
      const next = await within(events.next(), 5_000, what);
      const { kind } = next.value ?? {};
      if (
        kind?.case === "presence" &&
        kind.value[way].some((u: { username: string }) => u.username === username)
      )
        return;
    }
  }

  test("a browser that goes away leaves the room at once, on HTTP/1.1 and HTTP/2", async () => {
    for (const [name, transport] of [FORMS[0], FORMS[3]] as Form[]) {
      const room = `gone${name.length}`;
      const subscribe = (username: string, signal: AbortSignal) =>
        createClient(ChatService, transport())
          .subscribe(
            { username, rooms: [{ room }] },
            { headers: { user_id: `${username} secret` }, signal },
          )
          [Symbol.asyncIterator]();
      const stays = new AbortController();
      const goes = new AbortController();
      const watcher = subscribe("watcher", stays.signal);
      try {
        const caughtUp = async (
          events: AsyncIterator<{ kind: { case?: string } }>,
          what: string,
        ) => {
          for (;;) {
            const next = await within(events.next(), 5_000, what);
            if (next.value?.kind.case === "caughtUp") return;
          }
        };
        await caughtUp(watcher, `${name}: the watcher caught up`);
        await caughtUp(subscribe("leaver", goes.signal), `${name}: the leaver caught up`);
        // A user who comes and goes within one presence tick is never announced: see them come first.
        await presenceOf(watcher, "leaver", "joined", `${name}: the leaver's coming`);
        goes.abort();
        await presenceOf(watcher, "leaver", "left", `${name}: the leaver's leaving`);
      } finally {
        stays.abort();
      }
    }
  });

  test("a deadline is kept: the stream ends DEADLINE_EXCEEDED", async () => {
    const client = createClient(ChatService, FORMS[0]?.[1]() as Transport);
    const events = client.subscribe(
      { username: "hasty", rooms: [{ room: "forms" }] },
      { headers: { user_id: "hasty secret" }, timeoutMs: 300 },
    );
    await assert.rejects(
      within(
        (async () => {
          for await (const _ of events) {
            // Read until the deadline ends it.
          }
        })(),
        5_000,
        "the deadline",
      ),
      (error) => ConnectError.from(error).code === Code.DeadlineExceeded,
    );
  });

  const frame = (payload: Uint8Array, flags = 0) => {
    const bytes = Buffer.alloc(payload.byteLength + 5);
    bytes[0] = flags;
    bytes.writeUInt32BE(payload.byteLength, 1);
    bytes.set(payload, 5);
    return bytes;
  };

  test("a request that is not one SubscribeRequest is INVALID_ARGUMENT with a sentence, in each protocol", async () => {
    const good = toBinary(
      SubscribeRequestSchema,
      create(SubscribeRequestSchema, { username: "x" }),
    );
    const garbage = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const cases = [
      ["application/connect+proto", frame(garbage), /could not decode a request message/],
      ["application/grpc-web+proto", frame(garbage), /could not decode a request message/],
      [
        "application/connect+json",
        frame(Buffer.from("{not json")),
        /not a chat\.SubscribeRequest in JSON/,
      ],
      [
        "application/connect+json",
        frame(Buffer.from('{"rooms": 7}')),
        /not a chat\.SubscribeRequest in JSON/,
      ],
      [
        "application/connect+proto",
        Buffer.concat([frame(good), frame(good)]),
        /one chat\.SubscribeRequest in one frame/,
      ],
      ["application/grpc-web+proto", good, /one chat\.SubscribeRequest in one frame/],
      ["application/connect+proto", frame(good, 1), /flagged compressed/],
    ] as const;
    for (const [contentType, body, sentence] of cases) {
      const { code, message } = await statusOf(contentType, body);
      assert.equal(code, "3", `${contentType}: ${message}`);
      assert.match(message, sentence, contentType);
    }
  });

  /** Posts raw bytes over HTTP/2 and reads the status from Connect's end frame or gRPC-Web's trailers. */
  async function statusOf(contentType: string, body: Uint8Array) {
    const session = http2Connect(baseUrl, { ca: tls.cert });
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/chat.ChatService/Subscribe",
        "content-type": contentType,
        user_id: "raw secret",
      });
      stream.end(body);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      // The last frame is the end: flags 2 (Connect) or 0x80 (gRPC-Web).
      let offset = 0;
      let last = { flags: 0, payload: Buffer.alloc(0) };
      while (offset + 5 <= bytes.length) {
        const length = bytes.readUInt32BE(offset + 1);
        last = {
          flags: bytes[offset] as number,
          payload: bytes.subarray(offset + 5, offset + 5 + length),
        };
        offset += 5 + length;
      }
      if (last.flags === 0x80) {
        const trailers = Object.fromEntries(
          last.payload
            .toString()
            .trim()
            .split("\r\n")
            .map((line) => [
              line.slice(0, line.indexOf(":")),
              line.slice(line.indexOf(":") + 1).trim(),
            ]),
        );
        return {
          code: trailers["grpc-status"],
          message: decodeURIComponent(trailers["grpc-message"] ?? ""),
        };
      }
      assert.equal(last.flags, 2, `${contentType}: the stream ends with its end frame`);
      const end = JSON.parse(last.payload.toString()) as {
        error?: { code: string; message: string };
      };
      const codes: Record<string, string> = { invalid_argument: "3" };
      return {
        code: codes[end.error?.code ?? ""] ?? end.error?.code,
        message: end.error?.message ?? "",
      };
    } finally {
      session.close();
    }
  }
});
