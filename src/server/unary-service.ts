import { create } from "@bufbuild/protobuf";
import { DEFAULT_ROOM } from "../core/types.ts";
import { callerId } from "../core/users.ts";
import {
  HistoryPageSchema,
  type HistoryQuery,
  type ListMembersRequest,
  ListMembersResponseSchema,
  PingResponseSchema,
  type SendRequest,
  SendResponseSchema,
} from "../gen/chat_pb.js";
import type { AuthedHandler } from "./auth.ts";
import type { HandlerContext } from "./context.ts";
import { toMessage } from "./encoders.ts";
import { toMessageId } from "./live-stream.ts";
import { checkPageSize, decodePageToken, encodePageToken } from "./page-token.ts";
import { unary } from "./unary.ts";

const DEFAULT_MEMBERS_PAGE = 100;

/** Our unary calls: Send, History, ListMembers, Ping. */
export function unaryService(context: HandlerContext): Record<string, AuthedHandler> {
  const { chat, logger } = context;

  return {
    send: unary<SendRequest>(logger, async (call, caller) => {
      const { text, clientMsgId } = call.request;
      const { message } = await chat.send(await chat.users.speaker(caller), {
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
      return create(SendResponseSchema, { ack });
    }),

    history: unary<HistoryQuery>(logger, async (call, caller) => {
      const { messages, hasMore } = await chat.rooms.history(callerId(caller), {
        room: call.request.room || DEFAULT_ROOM,
        limit: call.request.limit,
        beforeId: toMessageId(call.request.beforeId),
        afterId: toMessageId(call.request.afterId),
        includeSystem: call.request.includeSystem,
      });
      return create(HistoryPageSchema, { messages: messages.map(toMessage), hasMore });
    }),

    listMembers: unary<ListMembersRequest>(logger, (call, caller) => {
      const { pageSize, pageToken } = call.request;
      const after = pageToken ? decodePageToken(pageToken) : undefined;
      const page = chat.rooms.members(
        callerId(caller),
        call.request.room || DEFAULT_ROOM,
        checkPageSize(pageSize, DEFAULT_MEMBERS_PAGE),
        after && { username: after[0] ?? "", userId: after[1] ?? "" },
      );
      return create(ListMembersResponseSchema, {
        members: page.members,
        nextPageToken: page.next ? encodePageToken([page.next.username, page.next.userId]) : "",
        onlineCount: page.onlineCount,
      });
    }),

    ping: unary(logger, () => create(PingResponseSchema, { serverTimeMs: BigInt(chat.now()) })),
  };
}
