import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  ChatMessageSchema,
  EventSchema,
  HistoryPageSchema,
  type Message,
  MessageSchema,
  SendAckSchema,
} from "../src/gen/chat_pb.js";
import {
  encodeAckEvent,
  encodeChatMessage,
  encodeHistoryPage,
  encodeMessage,
  encodeMessageEvent,
} from "../src/wire/message-encoding.ts";

// Any text, lone surrogates included (both encoders write U+FFFD for them).
const text = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constant(""),
  fc.string({ minLength: 100, maxLength: 300 }),
);
const uint64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 1n, max: 300n }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);
const message = fc.record({
  room: text,
  id: uint64,
  serverTimeMs: fc.oneof(
    uint64.map((v) => v >> 1n),
    fc.bigInt({ min: -(1n << 63n), max: -1n }),
  ),
  userId: text,
  username: text,
  text,
  kind: fc.constantFrom(0, 1, 2),
  clientMsgId: text,
});
/** Equal bytes, whichever Uint8Array subclass holds them. */
const same = (actual: Uint8Array, expected: Uint8Array) =>
  assert.equal(Buffer.from(actual).toString("hex"), Buffer.from(expected).toString("hex"));
const toMessage = (fields: Omit<Message, "$typeName">) => create(MessageSchema, fields);

test("hand-encoded Message, Event and HistoryPage are byte for byte protobuf-es's", () => {
  fc.assert(
    fc.property(fc.array(message, { maxLength: 6 }), fc.boolean(), (fields, hasMore) => {
      const messages = fields.map(toMessage);
      for (const one of messages) {
        same(encodeMessage(one), toBinary(MessageSchema, one));
        same(
          encodeMessageEvent(one),
          toBinary(EventSchema, create(EventSchema, { kind: { case: "message", value: one } })),
        );
      }
      const page = create(HistoryPageSchema, { messages, hasMore });
      same(encodeHistoryPage(page), toBinary(HistoryPageSchema, page));
    }),
    { numRuns: 2_000 },
  );
});

test("a hand-encoded ack Event is byte for byte protobuf-es's", () => {
  fc.assert(
    fc.property(text, text, uint64, uint64, (clientMsgId, room, id, time) => {
      const ack = create(SendAckSchema, { clientMsgId, room, id, serverTimeMs: time >> 1n });
      same(
        encodeAckEvent(ack),
        toBinary(EventSchema, create(EventSchema, { kind: { case: "ack", value: ack } })),
      );
    }),
    { numRuns: 2_000 },
  );
});

test("a hand-encoded ChatMessage (the seed's) is byte for byte protobuf-es's", () => {
  fc.assert(
    fc.property(text, text, text, text, text, uint64, (userId, username, body, time, room, id) => {
      const chatMessage = create(ChatMessageSchema, {
        userId,
        username,
        message: body,
        timestamp: time,
        room,
        id,
      });
      same(encodeChatMessage(chatMessage), toBinary(ChatMessageSchema, chatMessage));
    }),
    { numRuns: 2_000 },
  );
});
