import { create } from "@bufbuild/protobuf";
import type {
  ServerDuplexStream,
  ServerReadableStream,
  ServerWritableStream,
  sendUnaryData,
} from "@grpc/grpc-js";
import type { Caller } from "../core/caller.ts";
import { ChatError, toChatError } from "../core/chat-error.ts";
import type { ChatStream } from "../core/chat-stream.ts";
import { DEFAULT_ROOM, type Identity } from "../core/types.ts";
import {
  type ChatMessage,
  type HistoryRequest,
  JoinResponseSchema,
  type MessageResponse,
  MessageResponseSchema,
  type User,
} from "../gen/chat_pb.js";
import type { AuthedHandler } from "./auth.ts";
import type { HandlerContext } from "./context.ts";
import { eachMessage } from "./each-message.ts";
import { seedEncoder, toSeedMessage } from "./encoders.ts";
import { grpcLiveCall } from "./grpc-sink.ts";
import { checkClaim, metadataUserId, seedIdentity } from "./identity.ts";
import { openLiveStream } from "./live-stream.ts";
import { Pipeline, STREAM_SENDS_IN_FLIGHT } from "./pipeline.ts";
import { toServiceError } from "./status.ts";
import { grpcUnary } from "./unary.ts";

type Out<T> = T | Uint8Array;

/** The seed's four RPCs, with the seed's behaviour (PROTOCOL.md) and its bugs fixed. */
export function seedService(context: HandlerContext): Record<string, AuthedHandler> {
  const { chat, logger } = context;

  return {
    joinChat: grpcUnary(logger, async (request: User, { caller, address, guestSecret }) => {
      await chat.rateLimits.attempt(address);
      // The seed names its user in the request; the metadata, if any, must agree.
      const claimed = request.userId;
      if (guestSecret !== "") checkClaim(claimed, guestSecret);
      const who =
        caller.kind === "account" ? caller : chat.identities.guest(claimed || guestSecret);
      const { identity, known } = await chat.identities.nameFor(who, request.username);
      const message =
        caller.kind === "account"
          ? `Welcome to the chat, ${identity.username}! You are logged in.`
          : known
            ? "PONG"
            : `Welcome to the chat, ${identity.username}!`;
      return create(JoinResponseSchema, { success: true, message });
    }),

    async chatStream(call: ServerDuplexStream<ChatMessage, Out<ChatMessage>>, caller: Caller) {
      let secret = metadataUserId(call.metadata);
      let stream: ChatStream | undefined;
      const sends = new Pipeline(STREAM_SENDS_IN_FLIGHT);
      const enter = async (identity: Identity) => {
        // The seed's clients never show their own messages, from any call. No
        // per-message refusal on this wire: a send over the rate waits its turn.
        stream = await openLiveStream(context, grpcLiveCall(call, seedEncoder, logger), identity, {
          skipOwnUser: true,
          pace: true,
        });
        await stream.joinRoom(DEFAULT_ROOM);
        return stream;
      };
      try {
        // A user who joined first is live at once, before their first message.
        if (chat.identities.nameOf(caller) !== undefined) {
          await enter((await chat.identities.nameFor(caller, "")).identity);
        }
        await eachMessage<ChatMessage>(call, async (message) => {
          if (stream?.ended) return;
          let live = stream;
          if (live) checkClaim(message.userId, secret, live.identity.userId);
          else {
            const who = await seedIdentity(chat, caller, secret, message);
            secret = who.secret;
            live = await enter(who.identity);
          }
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
      caller: Caller,
      callback: sendUnaryData<MessageResponse>,
    ) {
      try {
        let secret = metadataUserId(call.metadata);
        let identity: Identity | undefined;
        const texts: string[] = [];
        await eachMessage<ChatMessage>(call, async (message) => {
          if (identity === undefined) {
            ({ identity, secret } = await seedIdentity(chat, caller, secret, message));
          } else checkClaim(message.userId, secret, identity.userId);
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
        // The seed's history is the lobby's, which everyone may read.
        const { messages } = await chat.rooms.history(undefined, {
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
