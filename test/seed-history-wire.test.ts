// The seed's GetChatHistory is written as one buffer of frames (encoders.ts
// seedHistoryFrames): its bytes must stay exactly what protobuf-es writes
// for each line, newest first, on the direct path and on grpc-js's own.
import assert from "node:assert/strict";
import { connect } from "node:http2";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import fc from "fast-check";
import type { ChatClient } from "../src/client/chat-client.ts";
import { ChatMessageSchema, HistoryRequestSchema } from "../src/gen/chat_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import {
  encodeChatMessage,
  encodeChatMessageFrames,
  type SeedLine,
} from "../src/wire/message-encoding.ts";
import { formatSeedTime, parseSeedTime } from "../src/wire/seed-time.ts";
import { startTestServer, testClient } from "./helpers.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function frame(bytes: Uint8Array): Buffer {
  const framed = Buffer.alloc(5 + bytes.byteLength);
  framed.writeUInt32BE(bytes.byteLength, 1);
  framed.set(bytes, 5);
  return framed;
}

const protobufEs = (line: SeedLine) =>
  toBinary(ChatMessageSchema, create(ChatMessageSchema, { ...line, id: BigInt(line.id) }));

// Any text, lone surrogates included (both encoders write U+FFFD for them).
const text = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constant(""),
  fc.string({ minLength: 100, maxLength: 300 }),
);
const line = fc.record({
  userId: text,
  username: text,
  message: text,
  timestamp: text,
  room: text,
  id: fc.oneof(
    fc.constant(0),
    fc.nat(300),
    fc.maxSafeNat(),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  ),
});

test("a page of seed lines is each line's protobuf-es bytes, framed, one after another", () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
      const expected = Buffer.concat(lines.map((one) => frame(protobufEs(one))));
      assert.equal(hex(encodeChatMessageFrames(lines)), hex(expected));
      for (const one of lines) assert.equal(hex(encodeChatMessage(one)), hex(protobufEs(one)));
    }),
    { numRuns: 2_000 },
  );
});

// The seed-time functions remember their last answer; these are them without.
function formatUncached(timeMs: number): string {
  const d = new Date(timeMs);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

test("seed times formatted and parsed in any order are what they are one at a time", () => {
  // Times close together (the same second, either side of one) and far apart, before 1970 too.
  const second = fc.integer({ min: -4e9, max: 4e9 });
  const time = fc.tuple(second, fc.integer({ min: -1, max: 1 }), fc.integer({ min: 0, max: 999 }));
  fc.assert(
    fc.property(fc.array(time, { minLength: 1, maxLength: 20 }), (times) => {
      for (const [s, step, ms] of times) {
        const timeMs = (s + step) * 1000 + ms;
        const expected = formatUncached(timeMs);
        assert.equal(formatSeedTime(timeMs), expected);
        assert.equal(parseSeedTime(expected), new Date(expected.replace(" ", "T")).getTime());
        assert.equal(parseSeedTime(`${expected}x`), undefined);
      }
    }),
    { numRuns: 500 },
  );
});

/** GetChatHistory as the seed's client asks it (no metadata), its whole response body. */
async function seedHistoryBytes(
  address: string,
  limit: number,
  includeSystem: boolean,
): Promise<Buffer> {
  const session = connect(`http://${address}`);
  try {
    const request = create(HistoryRequestSchema, {
      userId: "5f0e4c1a-seed-client",
      messageLimit: limit,
      includeSystemMessages: includeSystem,
    });
    return await new Promise<Buffer>((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/chat.ChatService/GetChatHistory",
        "content-type": "application/grpc",
        te: "trailers",
      });
      const chunks: Buffer[] = [];
      let status: unknown;
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("trailers", (trailers) => {
        status = trailers["grpc-status"];
      });
      stream.on("end", () =>
        status === "0" ? resolve(Buffer.concat(chunks)) : reject(new Error(`status ${status}`)),
      );
      stream.on("error", reject);
      stream.end(frame(toBinary(HistoryRequestSchema, request)));
    });
  } finally {
    session.close();
  }
}

function messagesIn(body: Buffer) {
  const messages = [];
  for (let at = 0; at < body.byteLength; ) {
    const end = at + 5 + body.readUInt32BE(at + 1);
    messages.push(fromBinary(ChatMessageSchema, body.subarray(at + 5, end)));
    at = end;
  }
  return messages;
}

/** The lobby as the seed's wire must show it: read through our History, each line by protobuf-es. */
async function expectedBytes(
  reader: ChatClient,
  limit: number,
  includeSystem: boolean,
): Promise<Buffer> {
  const { messages } = await reader.history({ room: "lobby", limit, includeSystem });
  const lines = messages
    .filter((m) => !m.deleted)
    .reverse()
    .map((m) => ({
      userId: m.userId,
      username: m.username,
      message: m.text,
      timestamp: formatSeedTime(m.timeMs),
      room: m.room,
      id: m.id,
    }));
  return Buffer.concat(lines.map((one) => frame(protobufEs(one))));
}

const passThrough: ServerInterceptor = (_method, call) => new ServerInterceptingCall(call);

for (const path of ["direct", "through grpc-js"] as const) {
  describe(`GetChatHistory's bytes, written ${path}`, () => {
    let server: RunningChatServer;
    let ann: ChatClient;

    before(async () => {
      server = await startTestServer(path === "direct" ? {} : { interceptors: [passThrough] });
      ann = testClient(server, { username: "zoë" });
      await ann.join();
      for (let i = 0; i < 30; i++) await ann.send(`line ${i} ${"é✓👍".repeat(i % 4)}`);
      const edited = await ann.send("before the edit");
      await ann.edit("lobby", edited.id, "after the edit ✎");
      const gone = await ann.send("soon gone");
      await ann.delete("lobby", gone.id);
      const liked = await ann.send("liked");
      await ann.react("lobby", liked.id, "👍");
      await ann.setTopic("lobby", "the seed's room");
      await ann.send("the newest");
    });
    after(async () => {
      ann.close();
      await server.stop();
    });

    test("every line as protobuf-es writes it, newest first; system lines only when asked", async () => {
      // The page holds what it must to mean anything: system lines, an edit, a tombstone left out.
      const texts = messagesIn(await seedHistoryBytes(server.address, 50, true)).map(
        (m) => m.message,
      );
      assert.equal(texts[0], "the newest");
      assert.ok(texts.some((t) => t.includes("set the topic")));
      assert.ok(texts.includes("after the edit ✎") && texts.includes("line 3 é✓👍é✓👍é✓👍"));
      assert.ok(!texts.includes("soon gone"));
      for (const includeSystem of [true, false]) {
        for (const limit of [1, 5, 50]) {
          const actual = await seedHistoryBytes(server.address, limit, includeSystem);
          assert.equal(hex(actual), hex(await expectedBytes(ann, limit, includeSystem)));
        }
      }
    });
  });
}
