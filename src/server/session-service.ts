import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type {
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  sendUnaryData,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { Member } from "../core/chat.ts";
import { ChatError, toChatError } from "../core/chat-error.ts";
import { DEFAULT_ROOM, type Identity, type RoomId } from "../core/types.ts";
import {
  type ClientFrame,
  type Event,
  EventSchema,
  type HistoryPage,
  HistoryPageSchema,
  type HistoryQuery,
  type PingRequest,
  type PingResponse,
  PingResponseSchema,
  type SendRequest,
  type SendResponse,
  SendResponseSchema,
  type SubscribeRequest,
} from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import { eachMessage } from "./each-message.ts";
import { eventEncoder, toMessage } from "./encoders.ts";
import { metadataUserId } from "./identity.ts";
import { openLiveStream } from "./live-stream.ts";
import { grpcCode, toServiceError } from "./status.ts";

type Out<T> = T | Uint8Array;

function encodeEvent(kind: MessageInitShape<typeof EventSchema>["kind"]): Uint8Array {
  return toBinary(EventSchema, create(EventSchema, { kind }));
}

/** Our own API: Session, Subscribe, Send, History, Ping. */
export function sessionService(context: HandlerContext): UntypedServiceImplementation {
  const { chat, logger } = context;

  const welcome = (member: Member) =>
    encodeEvent({
      case: "welcome",
      value: {
        userId: member.identity.userId,
        username: member.identity.username,
        room: member.room,
        lastId: BigInt(member.lastIdAtConnect),
        serverTimeMs: BigInt(chat.now()),
        online: chat.online(member.room),
      },
    });

  /** A unary caller is who its metadata says, under the name it joined with. */
  const unaryIdentity = (call: ServerUnaryCall<unknown, unknown>): Identity => {
    const userId = metadataUserId(call.metadata);
    if (userId === "") {
      throw new ChatError("invalid_argument", "Send the metadata key user_id to say who you are.");
    }
    const username = chat.nameOf(userId);
    if (username === undefined) {
      throw new ChatError(
        "failed_precondition",
        `The user_id "${userId}" has not joined; call JoinChat first.`,
      );
    }
    return { userId, username };
  };

  return {
    async session(call: ServerDuplexStream<ClientFrame, Out<Event>>) {
      const live = openLiveStream(context, call, eventEncoder);
      let identity: Identity | undefined;
      let room: RoomId = DEFAULT_ROOM;
      try {
        await eachMessage<ClientFrame>(call, async (frame) => {
          if (live.subscriber.ended) return;
          if (identity === undefined) {
            if (frame.kind.case !== "hello") {
              throw new ChatError(
                "invalid_argument",
                "The first frame of a Session must be a hello.",
              );
            }
            const hello = frame.kind.value;
            identity = chat.identify(hello.userId, hello.username);
            room = hello.room || DEFAULT_ROOM;
            await live.enter({
              identity,
              room,
              resumeAfterId: Number(hello.resumeAfterId),
              beforeStart: (member) => live.subscriber.write(welcome(member)),
            });
            return;
          }
          if (frame.kind.case !== "send") {
            throw new ChatError("invalid_argument", "A Session takes one hello, then sends.");
          }
          const send = frame.kind.value;
          try {
            if (send.room !== "" && send.room !== room) {
              throw new ChatError(
                "invalid_argument",
                `This session is in room "${room}"; open another for "${send.room}".`,
              );
            }
            const { message } = await chat.send(identity, {
              room,
              text: send.text,
              clientMsgId: send.clientMsgId,
            });
            live.subscriber.write(
              encodeEvent({
                case: "ack",
                value: {
                  clientMsgId: send.clientMsgId,
                  id: BigInt(message.id),
                  serverTimeMs: BigInt(message.timeMs),
                },
              }),
            );
          } catch (error) {
            const chatError = toChatError(error);
            if (chatError.code === "internal" || chatError.code === "unavailable") throw chatError;
            live.subscriber.write(
              encodeEvent({
                case: "rejected",
                value: {
                  clientMsgId: send.clientMsgId,
                  code: grpcCode(chatError.code),
                  reason: chatError.message,
                },
              }),
            );
          }
        });
        await live.finish();
      } catch (error) {
        await live.finish(call.cancelled ? undefined : error);
      }
    },

    async subscribe(call: ServerWritableStream<SubscribeRequest, Out<Event>>) {
      const live = openLiveStream(context, call, eventEncoder);
      try {
        const request = call.request;
        const userId = request.userId || metadataUserId(call.metadata);
        const identity = chat.identify(userId, request.username || (chat.nameOf(userId) ?? ""));
        await live.enter({
          identity,
          room: request.room || DEFAULT_ROOM,
          resumeAfterId: Number(request.resumeAfterId),
          beforeStart: (member) => live.subscriber.write(welcome(member)),
        });
      } catch (error) {
        await live.finish(call.cancelled ? undefined : error);
      }
    },

    async send(
      call: ServerUnaryCall<SendRequest, SendResponse>,
      callback: sendUnaryData<SendResponse>,
    ) {
      try {
        const { text, clientMsgId } = call.request;
        const { message } = await chat.send(unaryIdentity(call), {
          room: call.request.room || DEFAULT_ROOM,
          text,
          clientMsgId,
        });
        const ack = { clientMsgId, id: BigInt(message.id), serverTimeMs: BigInt(message.timeMs) };
        callback(null, create(SendResponseSchema, { ack }));
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    async history(
      call: ServerUnaryCall<HistoryQuery, HistoryPage>,
      callback: sendUnaryData<HistoryPage>,
    ) {
      try {
        const { messages, hasMore } = await chat.history({
          room: call.request.room || DEFAULT_ROOM,
          limit: call.request.limit,
          beforeId: Number(call.request.beforeId),
          includeSystem: call.request.includeSystem,
        });
        callback(
          null,
          create(HistoryPageSchema, { messages: messages.reverse().map(toMessage), hasMore }),
        );
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    ping(_call: ServerUnaryCall<PingRequest, PingResponse>, callback: sendUnaryData<PingResponse>) {
      callback(null, create(PingResponseSchema, { serverTimeMs: BigInt(chat.now()) }));
    },
  };
}
