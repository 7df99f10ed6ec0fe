import { create } from "@bufbuild/protobuf";
import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import { ChatError } from "../core/chat-error.ts";
import { DEFAULT_ROOM, type Identity } from "../core/types.ts";
import { type Caller, callerId } from "../core/users.ts";
import {
  type HistoryPage,
  HistoryPageSchema,
  type HistoryQuery,
  type ListMembersRequest,
  type ListMembersResponse,
  ListMembersResponseSchema,
  type PingRequest,
  type PingResponse,
  PingResponseSchema,
  type SendRequest,
  type SendResponse,
  SendResponseSchema,
} from "../gen/chat_pb.js";
import type { AuthedHandler } from "./auth.ts";
import type { HandlerContext } from "./context.ts";
import { toMessage } from "./encoders.ts";
import { toMessageId } from "./live-stream.ts";
import { checkPageSize, decodePageToken, encodePageToken } from "./page-token.ts";
import { toServiceError } from "./status.ts";

const DEFAULT_MEMBERS_PAGE = 100;

/** Our unary calls: Send, History, ListMembers, Ping. */
export function unaryService(context: HandlerContext): Record<string, AuthedHandler> {
  const { chat, logger } = context;

  /** A unary sender is its caller, under the name it joined with. */
  const sender = async (caller: Caller): Promise<Identity> => {
    if (caller.kind === "guest" && chat.users.nameOf(caller) === undefined) {
      throw new ChatError(
        "failed_precondition",
        "This user_id has no name yet (or the server restarted since); call JoinChat or open a Session first.",
      );
    }
    return (await chat.users.nameFor(caller, "")).identity;
  };

  return {
    async send(
      call: ServerUnaryCall<SendRequest, SendResponse>,
      caller: Caller,
      callback: sendUnaryData<SendResponse>,
    ) {
      try {
        const { text, clientMsgId } = call.request;
        const { message } = await chat.send(await sender(caller), {
          room: call.request.room || DEFAULT_ROOM,
          text,
          clientMsgId,
        });
        const ack = {
          clientMsgId,
          id: BigInt(message.id),
          serverTimeMs: BigInt(message.timeMs),
          room: message.room,
        };
        callback(null, create(SendResponseSchema, { ack }));
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    async history(
      call: ServerUnaryCall<HistoryQuery, HistoryPage>,
      caller: Caller,
      callback: sendUnaryData<HistoryPage>,
    ) {
      try {
        const { messages, hasMore } = await chat.rooms.history(callerId(caller), {
          room: call.request.room || DEFAULT_ROOM,
          limit: call.request.limit,
          beforeId: toMessageId(call.request.beforeId),
          afterId: toMessageId(call.request.afterId),
          includeSystem: call.request.includeSystem,
        });
        callback(null, create(HistoryPageSchema, { messages: messages.map(toMessage), hasMore }));
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    listMembers(
      call: ServerUnaryCall<ListMembersRequest, ListMembersResponse>,
      caller: Caller,
      callback: sendUnaryData<ListMembersResponse>,
    ) {
      try {
        const { pageSize, pageToken } = call.request;
        const after = pageToken ? decodePageToken(pageToken) : undefined;
        const page = chat.rooms.members(
          callerId(caller),
          call.request.room || DEFAULT_ROOM,
          checkPageSize(pageSize, DEFAULT_MEMBERS_PAGE),
          after && { username: after[0] ?? "", userId: after[1] ?? "" },
        );
        callback(
          null,
          create(ListMembersResponseSchema, {
            members: page.members,
            nextPageToken: page.next ? encodePageToken([page.next.username, page.next.userId]) : "",
            onlineCount: page.onlineCount,
          }),
        );
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    ping(
      _call: ServerUnaryCall<PingRequest, PingResponse>,
      _caller: Caller,
      callback: sendUnaryData<PingResponse>,
    ) {
      callback(null, create(PingResponseSchema, { serverTimeMs: BigInt(chat.now()) }));
    },
  };
}
