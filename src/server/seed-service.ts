import { create } from "@bufbuild/protobuf";
import type {
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  sendUnaryData,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { ChatError, toChatError } from "../core/chat-error.ts";
import type { ChatStream } from "../core/chat-stream.ts";
import { DEFAULT_ROOM, type Identity } from "../core/types.ts";
import {
  type ChatMessage,
  type HistoryRequest,
  type JoinResponse,
  JoinResponseSchema,
  type MessageResponse,
  MessageResponseSchema,
  type User,
} from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import { eachMessage } from "./each-message.ts";
import { seedEncoder, toSeedMessage } from "./encoders.ts";
import { checkClaim, metadataUserId, seedIdentity } from "./identity.ts";
import { openLiveStream } from "./live-stream.ts";
import { Pipeline, STREAM_SENDS_IN_FLIGHT } from "./pipeline.ts";
import { toServiceError } from "./status.ts";

type Out<T> = T | Uint8Array;

/** The seed's four RPCs, with the seed's behaviour (PROTOCOL.md) and its bugs fixed. */
export function seedService(context: HandlerContext): UntypedServiceImplementation {
  const { chat, logger } = context;

  return {
    joinChat(call: ServerUnaryCall<User, JoinResponse>, callback: sendUnaryData<JoinResponse>) {
      try {
        const { identity, known } = chat.join(call.request.userId, call.request.username);
        const message = known ? "PONG" : `Welcome to the chat, ${identity.username}!`;
        callback(null, create(JoinResponseSchema, { success: true, message }));
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    async chatStream(call: ServerDuplexStream<ChatMessage, Out<ChatMessage>>) {
      const fromMetadata = metadataUserId(call.metadata);
      let stream: ChatStream | undefined;
      const sends = new Pipeline(STREAM_SENDS_IN_FLIGHT);
      const enter = async (identity: Identity) => {
        // The seed's clients never show their own messages, from any call.
        stream = openLiveStream(context, call, seedEncoder, identity, { skipOwnUser: true });
        await stream.joinRoom(DEFAULT_ROOM);
        return stream;
      };
      try {
        // A user who joined first is live at once, before their first message.
        const knownName = fromMetadata ? chat.nameOf(fromMetadata) : undefined;
        if (knownName !== undefined) await enter(chat.identify(fromMetadata, knownName));
        await eachMessage<ChatMessage>(call, async (message) => {
          if (stream?.ended) return;
          if (stream) checkClaim(stream.identity, message.userId);
          const live = stream ?? (await enter(seedIdentity(chat, fromMetadata, message)));
          // The seed client opens with an empty "hello"; empty messages are never relayed.
          if (message.message === "") return;
          await live.writable();
          await sends.add(
            live.send({ room: DEFAULT_ROOM, text: message.message }).then(
              () => {},
              // The seed's wire has no per-message refusal: the status says why.
              (error) => live.end(call.cancelled ? undefined : toChatError(error)),
            ),
          );
        });
        await sends.drain();
        if (stream) stream.end();
        else call.end();
      } catch (error) {
        await sends.drain();
        // The seed's wire has no per-message refusal: the status says why.
        const chatError = call.cancelled ? undefined : toChatError(error);
        if (stream) stream.end(chatError);
        else if (chatError) call.emit("error", toServiceError(chatError, logger));
      }
    },

    async sendMessages(
      call: ServerReadableStream<ChatMessage, MessageResponse>,
      callback: sendUnaryData<MessageResponse>,
    ) {
      try {
        const fromMetadata = metadataUserId(call.metadata);
        let identity: Identity | undefined;
        const texts: string[] = [];
        await eachMessage<ChatMessage>(call, (message) => {
          if (identity === undefined) identity = seedIdentity(chat, fromMetadata, message);
          else checkClaim(identity, message.userId);
          if (message.message === "") return;
          if (texts.length === chat.limits.maxBatch) {
            throw new ChatError(
              "invalid_argument",
              `A batch holds at most ${chat.limits.maxBatch} messages; send the rest in another batch.`,
            );
          }
          texts.push(message.message);
        });
        if (identity === undefined) {
          callback(
            null,
            create(MessageResponseSchema, {
              success: true,
              messageCount: 0,
              summary: "No messages received",
            }),
          );
          return;
        }
        const stored = await chat.sendBatch(identity, DEFAULT_ROOM, texts);
        callback(
          null,
          create(MessageResponseSchema, {
            success: true,
            messageCount: stored.length,
            summary: `Successfully processed ${stored.length} messages from ${identity.username}`,
          }),
        );
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    async getChatHistory(call: ServerWritableStream<HistoryRequest, Out<ChatMessage>>) {
      try {
        const { messages } = await chat.history({
          room: DEFAULT_ROOM,
          limit: call.request.messageLimit,
          includeSystem: call.request.includeSystemMessages,
        });
        // The seed streams history newest first.
        for (const message of messages.reverse()) call.write(toSeedMessage(message));
        call.end();
      } catch (error) {
        call.emit("error", toServiceError(error, logger));
      }
    },
  };
}
