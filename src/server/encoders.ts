import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type { Encoder, ResumeOutcome as Outcome } from "../core/envelope.ts";
import {
  type Identity,
  type StoredMessage,
  SYSTEM_USER_ID,
  SYSTEM_USERNAME,
} from "../core/types.ts";
import { isBotUserId } from "../core/webhooks.ts";
import {
  ChatMessageSchema,
  EventSchema,
  type Message,
  MessageKind,
  MessageSchema,
  NotifyLevel,
  ReactionChangeSchema,
  ReactionSchema,
  ResumeOutcome,
} from "../gen/chat_pb.js";
import type { NotifyLevel as LevelName } from "../store/integration-store.ts";
import {
  encodeAckEvent,
  encodeChatMessage,
  encodeChatMessageFrames,
  encodeMessageEvent,
  type SeedLine,
} from "../wire/message-encoding.ts";
import { presenceText } from "../wire/presence-text.ts";
import { formatSeedTime } from "../wire/seed-time.ts";
import { MODERATION_KINDS, reportInfo, roomSettings } from "./governance-encoding.ts";
import { grpcCode } from "./status.ts";

/** A stored message as the seed's ChatMessage, with `text` for its own. */
function seedFields(message: StoredMessage, text = message.text): SeedLine {
  return {
    userId: message.userId,
    username: message.username,
    message: text,
    timestamp: formatSeedTime(message.timeMs),
    room: message.room,
    id: message.id,
  };
}

const KINDS: Record<StoredMessage["kind"], MessageKind> = {
  chat: MessageKind.CHAT,
  system: MessageKind.SYSTEM,
  edit: MessageKind.EDIT,
  delete: MessageKind.DELETE,
  react: MessageKind.REACTION,
  unreact: MessageKind.REACTION,
};

/** A stored message's wire fields, for the hand encoder (no protobuf-es object needed). */
function messageFields(message: StoredMessage): Omit<Message, "$typeName"> {
  const { kind } = message;
  const ref = BigInt(message.refId ?? 0);
  const reacting = kind === "react" || kind === "unreact";
  const editedMs = kind === "edit" ? message.timeMs : (message.editedMs ?? 0);
  return {
    room: message.room,
    id: BigInt(message.id),
    serverTimeMs: BigInt(message.timeMs),
    userId: message.userId,
    username: message.username,
    text: reacting ? "" : message.text,
    kind: KINDS[kind],
    clientMsgId: message.clientMsgId,
    replyTo: kind === "chat" ? ref : 0n,
    targetId: kind === "chat" || kind === "system" ? 0n : ref,
    editedAtMs: BigInt(editedMs),
    deleted: message.deleted === true,
    reactions: (message.reactions ?? []).map((r) =>
      create(ReactionSchema, { emoji: r.emoji, count: r.count, mine: r.mine }),
    ),
    reaction: reacting
      ? create(ReactionChangeSchema, {
          emoji: message.text,
          added: kind === "react",
          count: message.count ?? 0,
        })
      : undefined,
    bot: isBotUserId(message.userId),
  };
}

/**
 * How the seed's wire shows a log entry, or null when it has no way to: an
 * edit is a line from the editor saying so, with the new text; a delete a
 * line saying a message was removed; reactions are not shown.
 */
function seedLine(message: StoredMessage): SeedLine | null {
  switch (message.kind) {
    case "chat":
    case "system":
      // A tombstone says nothing; the delete's own line told of it.
      if (message.deleted) return null;
      return seedFields(message);
    case "edit":
      // Read back after a delete, an edit has no text left: the delete's own line says enough.
      if (message.text === "") return null;
      return seedFields(message, `(edited) ${message.text}`);
    case "delete":
      return systemLine(`${message.username} removed a message`, message.timeMs, message.room);
    default:
      return null;
  }
}

/**
 * A page of history (oldest first) as the seed's GetChatHistory streams it:
 * newest first, each line a gRPC frame, all in one buffer.
 */
export function seedHistoryFrames(messages: readonly StoredMessage[]): Uint8Array {
  const lines: SeedLine[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const line = seedLine(messages[i] as StoredMessage);
    if (line) lines.push(line);
  }
  return encodeChatMessageFrames(lines);
}

export function toMessage(message: StoredMessage): Message {
  return create(MessageSchema, messageFields(message));
}

function systemLine(text: string, timeMs: number, room = ""): SeedLine {
  return {
    userId: SYSTEM_USER_ID,
    username: SYSTEM_USERNAME,
    message: text,
    timestamp: formatSeedTime(timeMs),
    room,
    id: 0,
  };
}

/** The seed's stream shape: the log's messages, system lines and notices as ChatMessage; nothing else. */
export const seedEncoder: Encoder = (payload) => {
  switch (payload.type) {
    case "message": {
      const line = payload.announced ? null : seedLine(payload.message);
      return line && encodeChatMessage(line);
    }
    case "presence": {
      const text = presenceText(
        payload.users.map((u) => u.username),
        payload.online,
      );
      return encodeChatMessage(systemLine(text, payload.timeMs, payload.room));
    }
    case "notice":
      return encodeChatMessage(systemLine(payload.text, payload.timeMs));
    // A topic reaches the seed's clients as the system line it is stored as.
    default:
      return null;
  }
};

const OUTCOMES: Record<Outcome, ResumeOutcome> = {
  live: ResumeOutcome.LIVE,
  resumed: ResumeOutcome.RESUMED,
  reset: ResumeOutcome.RESET,
};

export const member = (identity: Identity) => ({
  userId: identity.userId,
  username: identity.username,
  bot: isBotUserId(identity.userId),
});

function event(kind: MessageInitShape<typeof EventSchema>["kind"]): Uint8Array {
  return toBinary(EventSchema, create(EventSchema, { kind }));
}

/** Our own stream shape: one Event for everything. */
export const eventEncoder: Encoder = (payload) => {
  switch (payload.type) {
    case "message":
      return encodeMessageEvent(messageFields(payload.message));
    case "presence": {
      const users = payload.users.map(member);
      return event({
        case: "presence",
        value: {
          room: payload.room,
          ...(payload.online ? { joined: users } : { left: users }),
          onlineCount: payload.onlineCount,
        },
      });
    }
    case "notice":
      return event({
        case: "notice",
        value: { text: payload.text, serverTimeMs: BigInt(payload.timeMs) },
      });
    case "welcome":
      return event({
        case: "welcome",
        value: {
          ...member(payload.identity),
          serverTimeMs: BigInt(payload.timeMs),
          maxRooms: payload.maxRooms,
        },
      });
    case "joined":
      return event({
        case: "joined",
        value: {
          room: payload.room,
          lastId: BigInt(payload.lastId),
          epoch: payload.epoch,
          resume: OUTCOMES[payload.resume],
          topic: payload.topic,
          lastReadId: BigInt(payload.lastReadId),
        },
      });
    case "read":
      return event({
        case: "read",
        value: { room: payload.room, lastReadId: BigInt(payload.lastReadId) },
      });
    case "notify":
      return event({
        case: "notify",
        value: { room: payload.room, level: notifyLevel(payload.level) },
      });
    case "typing":
      return event({
        case: "typing",
        value: { room: payload.room, typing: payload.typing.map(member) },
      });
    case "topic":
      return event({
        case: "topic",
        value: { room: payload.room, topic: payload.topic, by: member(payload.by) },
      });
    case "caught_up":
      return event({
        case: "caughtUp",
        value: {
          room: payload.room,
          lastId: BigInt(payload.lastId),
          online: payload.online.map(member),
          onlineCount: payload.onlineCount,
        },
      });
    case "gap":
      return event({
        case: "gap",
        value: { room: payload.room, fromId: BigInt(payload.fromId), toId: BigInt(payload.toId) },
      });
    case "left":
      return event({
        case: "left",
        value: {
          room: payload.room,
          code: payload.code ? grpcCode(payload.code) : 0,
          reason: payload.reason,
        },
      });
    case "ack":
      return encodeAckEvent({
        room: payload.room,
        clientMsgId: payload.clientMsgId,
        id: BigInt(payload.id),
        serverTimeMs: BigInt(payload.timeMs),
      });
    case "moderated":
      return event({
        case: "moderated",
        value: {
          room: payload.room,
          kind: MODERATION_KINDS[payload.kind],
          user: member(payload.user),
          by: member(payload.by),
          reason: payload.reason,
          untilMs: BigInt(payload.untilMs),
        },
      });
    case "room_updated":
      return event({ case: "roomUpdated", value: roomSettings(payload.settings) });
    case "report":
      return event({ case: "report", value: reportInfo(payload.report) });
    case "rejected":
      return event({
        case: "rejected",
        value: {
          room: payload.room,
          clientMsgId: payload.clientMsgId,
          code: grpcCode(payload.code),
          reason: payload.reason,
          retryAfterMs: BigInt(payload.retryAfterMs),
        },
      });
  }
};

/**
 * The encoder for a streamed response type: the seed's ChatMessage or our
 * Event; a method that streams anything else writes its replies' bytes itself.
 */
export function encoderFor(schema: DescMessage): Encoder {
  if (schema.typeName === ChatMessageSchema.typeName) return seedEncoder;
  if (schema.typeName === EventSchema.typeName) return eventEncoder;
  // Export and Backup write their own whole messages; no live item has their shape.
  return () => null;
}

const LEVELS: Record<LevelName, NotifyLevel> = {
  all: NotifyLevel.ALL,
  mentions: NotifyLevel.MENTIONS,
  off: NotifyLevel.OFF,
};

/** A level from the wire; unspecified is the default. */
export function levelName(level: NotifyLevel): LevelName {
  if (level === NotifyLevel.ALL) return "all";
  return level === NotifyLevel.OFF ? "off" : "mentions";
}

export function notifyLevel(level: LevelName | undefined): NotifyLevel {
  return LEVELS[level ?? "mentions"];
}
