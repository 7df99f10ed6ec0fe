// The seed's four RPCs as a client makes them: what a server that speaks only
// the original protocol offers (JoinChat, SendMessages, GetChatHistory, and
// ChatStream in place of our Session). Our server serves them too.
import { create } from "@bufbuild/protobuf";
import {
  type ChatMessage,
  ChatMessageSchema,
  HistoryRequestSchema,
  type JoinResponse,
  type MessageResponse,
  UserSchema,
} from "../gen/chat_pb.js";
import { DEFAULT_ROOM } from "../wire/room-names.ts";
import { formatSeedTime, parseSeedTime } from "../wire/seed-time.ts";
import { ChatClientError, type ChatLine } from "./events.ts";
import type { GrpcChannel } from "./grpc-channel.ts";

/** The user_id the seed's system lines ("alice has left the chat") carry. */
const SYSTEM_ID = "system";

/** One open ChatStream: the others' messages in, ours out. */
export interface SeedStream extends AsyncIterable<ChatLine> {
  /** Writes a message to the stream; the seed confirms nothing. */
  send(text: string): void;
  /** Ends our side; the server then ends the call. */
  close(): void;
  /** How the stream ended: undefined after close(), else the server's status. */
  readonly ended: Promise<ChatClientError | undefined>;
}

/**
 * A seed ChatMessage as clients show it: in the one room the seed has, at
 * the time its timestamp says (seed clients write it in local time). The
 * seed has no ids, so every line's is 0.
 */
export function seedLine(message: ChatMessage): ChatLine {
  const system = message.userId === SYSTEM_ID;
  return {
    room: DEFAULT_ROOM,
    id: 0,
    timeMs: parseSeedTime(message.timestamp) ?? Date.now(),
    userId: message.userId,
    username: message.username || (system ? "System" : "?"),
    text: message.message,
    system,
    clientMsgId: "",
  };
}

/** JoinChat; resolves to the server's greeting ("PONG" when it knows us already). */
export async function joinChat(channel: GrpcChannel): Promise<string> {
  const { userId, username } = channel;
  const response = await channel.unary<JoinResponse>(
    "joinChat",
    create(UserSchema, { userId, username }),
  );
  return response.message;
}

/** SendMessages: texts in one client-streaming call; resolves to the server's summary. */
export function sendMessages(
  channel: GrpcChannel,
  texts: readonly string[],
): Promise<{ count: number; summary: string }> {
  const { userId, username } = channel;
  return new Promise((resolve, reject) => {
    const call = channel.clientStream("sendMessages", channel.seedMetadata(), (error, response) => {
      if (error || !response) reject(ChatClientError.from(error));
      else {
        const r = response as MessageResponse;
        resolve({ count: r.messageCount, summary: r.summary });
      }
    });
    for (const text of texts) {
      call.write(create(ChatMessageSchema, { userId, username, message: text }));
    }
    call.end();
  });
}

/**
 * GetChatHistory: the newest `limit` messages (0: the server's default),
 * oldest first (the seed streams them newest first).
 */
export function getChatHistory(
  channel: GrpcChannel,
  limit: number,
  includeSystem: boolean,
): Promise<ChatLine[]> {
  const request = create(HistoryRequestSchema, {
    userId: channel.userId,
    messageLimit: limit,
    includeSystemMessages: includeSystem,
  });
  const call = channel.serverStream("getChatHistory", request, channel.seedMetadata());
  const lines: ChatLine[] = [];
  return new Promise((resolve, reject) => {
    call.on("data", (message: ChatMessage) => lines.push(seedLine(message)));
    call.on("error", (error) => reject(ChatClientError.from(error)));
    // "end", not "status": it comes after the last message (an error rejects first).
    call.on("end", () => resolve(lines.reverse()));
  });
}

/**
 * ChatStream, as the seed client uses it: an empty hello first (the server
 * registers the stream and relays nothing for it), then each message
 * stamped with the time. Empty messages and our own are not handed on, as
 * the seed client shows neither.
 */
export function openChatStream(channel: GrpcChannel): SeedStream {
  const call = channel.bidiStream<ChatMessage, ChatMessage>("chatStream", channel.seedMetadata());
  const { queue, ended } = channel.track<ChatLine>(call);
  const { userId, username } = channel;
  const write = (text: string, timestamp: string) =>
    call.write(create(ChatMessageSchema, { userId, username, message: text, timestamp }));
  call.on("data", (message: ChatMessage) => {
    if (message.message === "" || message.userId === userId) return;
    queue.push(seedLine(message));
  });
  write("", "");
  return {
    ended,
    send: (text) => write(text, formatSeedTime(Date.now())),
    close: () => call.end(),
    [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
  };
}
