import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  ChatMessageSchema,
  EventSchema,
  HistoryPageSchema,
  type Message,
  MessageSchema,
  type Reaction,
  ReactionChangeSchema,
  ReactionSchema,
  SendAckSchema,
} from "../src/gen/chat_pb.js";
import { decodeHistoryPage } from "../src/wire/message-decoding.ts";
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
  kind: fc.constantFrom(0, 1, 2, 3, 4, 5),
  clientMsgId: text,
  // Most messages use none of the later fields; the rest are encoded by protobuf-es and embedded.
  replyTo: fc.oneof(fc.constant(0n), fc.constant(0n), uint64),
  targetId: fc.oneof(fc.constant(0n), fc.constant(0n), uint64),
  editedAtMs: fc.oneof(
    fc.constant(0n),
    fc.constant(0n),
    uint64.map((v) => v >> 1n),
  ),
  deleted: fc.oneof(fc.constant(false), fc.constant(false), fc.boolean()),
  reactions: fc.oneof(
    fc.constant<Reaction[]>([]),
    fc.array(
      fc
        .record({ emoji: text, count: fc.nat(), mine: fc.boolean() })
        .map((r) => create(ReactionSchema, r)),
      { maxLength: 3 },
    ),
  ),
  reaction: fc.option(
    fc
      .record({ emoji: text, added: fc.boolean(), count: fc.nat() })
      .map((r) => create(ReactionChangeSchema, r)),
    { nil: undefined, freq: 3 },
  ),
  bot: fc.oneof(fc.constant(false), fc.constant(false), fc.boolean()),
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

test("a hand-decoded HistoryPage is what protobuf-es decodes, whatever the bytes", () => {
  const outcome = (decode: () => unknown) => {
    try {
      return { value: decode() };
    } catch {
      return { error: true };
    }
  };
  fc.assert(
    fc.property(
      fc.array(message, { maxLength: 6 }),
      fc.boolean(),
      // A few bytes changed, or cut short, or an unknown field added: also decoded alike.
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.nat(),
      fc.boolean(),
      (fields, hasMore, flips, cut, extra) => {
        const page = create(HistoryPageSchema, { messages: fields.map(toMessage), hasMore });
        const exact = toBinary(HistoryPageSchema, page);
        assert.deepEqual(decodeHistoryPage(exact), fromBinary(HistoryPageSchema, exact));
        const bytes = Uint8Array.from(extra ? [...exact, 0x18, 0x07] : exact);
        for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
        const damaged = bytes.subarray(0, bytes.length - (cut % 3));
        assert.deepEqual(
          outcome(() => decodeHistoryPage(damaged)),
          outcome(() => fromBinary(HistoryPageSchema, damaged)),
        );
      },
    ),
    { numRuns: 3_000 },
  );
});
