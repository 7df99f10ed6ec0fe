import { create } from "@bufbuild/protobuf";
import { callerId } from "../core/caller.ts";
import { MAX_TOPIC_CHARS } from "../core/limits.ts";
import { DEFAULT_ROOM } from "../core/types.ts";
import {
  HistoryPageSchema,
  ListMembersResponseSchema,
  PingResponseSchema,
  SendResponseSchema,
  ServerInfoSchema,
} from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import { member, toMessage } from "./encoders.ts";
import { toMessageId, toReplyTo } from "./live-stream.ts";
import { checkPageSize, decodePageToken, encodePageToken } from "./page-token.ts";
import type { ChatServicePart } from "./service-impl.ts";
import { UnaryHolds } from "./unary-holds.ts";

const DEFAULT_MEMBERS_PAGE = 100;

/** Our unary calls: Send, History, ListMembers, Ping, GetServerInfo. */
export function unaryService(
  context: HandlerContext,
): ChatServicePart<"send" | "history" | "listMembers" | "ping" | "getServerInfo"> {
  const { chat } = context;
  const holds = new UnaryHolds(chat.clock);

  return {
    send: async (request, { caller, address }) => {
      const { text, clientMsgId } = request;
      const sender = await chat.identities.speaker(caller);
      const { message } = await holds.run(sender.userId, () =>
        chat.send(
          sender,
          {
            room: request.room || DEFAULT_ROOM,
            text,
            clientMsgId,
            replyTo: toReplyTo(request.replyTo),
          },
          address,
        ),
      );
      const ack = {
        clientMsgId,
        id: BigInt(message.id),
        serverTimeMs: BigInt(message.timeMs),
        room: message.room,
      };
      return create(SendResponseSchema, { ack });
    },

    history: async (request, { caller }) => {
      const page = await chat.rooms.history(callerId(caller), {
        room: request.room || DEFAULT_ROOM,
        limit: request.limit,
        beforeId: toMessageId(request.beforeId),
        afterId: toMessageId(request.afterId),
        aroundId: toMessageId(request.aroundId),
        includeSystem: request.includeSystem,
      });
      return create(HistoryPageSchema, {
        messages: page.messages.map(toMessage),
        hasMore: page.hasMore,
        hasNewer: page.hasNewer ?? false,
      });
    },

    listMembers: (request, { caller }) => {
      const { pageSize, pageToken } = request;
      const after = pageToken ? decodePageToken(pageToken) : undefined;
      const page = chat.rooms.members(
        callerId(caller),
        request.room || DEFAULT_ROOM,
        checkPageSize(pageSize, DEFAULT_MEMBERS_PAGE),
        after && { username: after[0] ?? "", userId: after[1] ?? "" },
      );
      return create(ListMembersResponseSchema, {
        members: page.members.map(member),
        nextPageToken: page.next ? encodePageToken([page.next.username, page.next.userId]) : "",
        onlineCount: page.onlineCount,
      });
    },

    ping: () => create(PingResponseSchema, { serverTimeMs: BigInt(chat.now()) }),

    getServerInfo: () => {
      const { limits } = chat;
      return create(ServerInfoSchema, {
        accountsRequired: chat.accounts.mode === "required",
        maxMessageBytes: limits.maxMessageBytes,
        maxNameChars: limits.maxNameChars,
        maxRoomChars: limits.maxRoomChars,
        maxRooms: limits.maxRooms,
        maxHistory: limits.maxHistory,
        maxTopicChars: MAX_TOPIC_CHARS,
        maxBatch: limits.maxBatch,
        defaultRoom: DEFAULT_ROOM,
        editWindowMs: BigInt(limits.editWindowMs),
        typingExpiryMs: chat.typingExpiryMs,
        maxReactions: limits.maxReactions,
        joinLines: chat.joinLines,
        publicUrl: context.publicUrl(),
      });
    },
  };
}
