import { create, toBinary } from "@bufbuild/protobuf";
import type { Encoder } from "../core/envelope.ts";
import { type StoredMessage, SYSTEM_USER_ID, SYSTEM_USERNAME } from "../core/types.ts";
import {
  type ChatMessage,
  ChatMessageSchema,
  EventSchema,
  type Message,
  MessageKind,
  MessageSchema,
} from "../gen/chat_pb.js";
import { formatSeedTime } from "../wire/seed-time.ts";

export function toSeedMessage(message: StoredMessage): ChatMessage {
  return create(ChatMessageSchema, {
    userId: message.userId,
    username: message.username,
    message: message.text,
    timestamp: formatSeedTime(message.timeMs),
    room: message.room,
    id: BigInt(message.id),
  });
}

export function toMessage(message: StoredMessage): Message {
  return create(MessageSchema, {
    room: message.room,
    id: BigInt(message.id),
    serverTimeMs: BigInt(message.timeMs),
    userId: message.userId,
    username: message.username,
    text: message.text,
    kind: message.kind === "system" ? MessageKind.SYSTEM : MessageKind.CHAT,
    clientMsgId: message.clientMsgId,
  });
}

/** The seed's stream shape: messages and notices as ChatMessage; it has no "caught up". */
export const seedEncoder: Encoder = (payload) => {
  switch (payload.type) {
    case "message":
      return toBinary(ChatMessageSchema, toSeedMessage(payload.message));
    case "notice":
      return toBinary(
        ChatMessageSchema,
        create(ChatMessageSchema, {
          userId: SYSTEM_USER_ID,
          username: SYSTEM_USERNAME,
          message: payload.text,
          timestamp: formatSeedTime(payload.timeMs),
        }),
      );
    case "caught_up":
      return null;
  }
};

/** Our own stream shape: one Event for everything. */
export const eventEncoder: Encoder = (payload) => {
  switch (payload.type) {
    case "message":
      return toBinary(
        EventSchema,
        create(EventSchema, { kind: { case: "message", value: toMessage(payload.message) } }),
      );
    case "notice":
      return toBinary(
        EventSchema,
        create(EventSchema, {
          kind: {
            case: "notice",
            value: { text: payload.text, serverTimeMs: BigInt(payload.timeMs) },
          },
        }),
      );
    case "caught_up":
      return toBinary(
        EventSchema,
        create(EventSchema, {
          kind: { case: "caughtUp", value: { lastId: BigInt(payload.lastId) } },
        }),
      );
  }
};
