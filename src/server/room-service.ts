import { create } from "@bufbuild/protobuf";
import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import { ChatError } from "../core/chat-error.ts";
import { DEFAULT_ROOM } from "../core/types.ts";
import { type Caller, callerId } from "../core/users.ts";
import {
  type ListRoomsRequest,
  type ListRoomsResponse,
  ListRoomsResponseSchema,
  type OpenDirectRequest,
  type OpenDirectResponse,
  OpenDirectResponseSchema,
  type SetTopicRequest,
  type SetTopicResponse,
  SetTopicResponseSchema,
} from "../gen/chat_pb.js";
import type { AuthedHandler } from "./auth.ts";
import type { HandlerContext } from "./context.ts";
import { checkPageSize, decodePageToken, encodePageToken } from "./page-token.ts";
import { toServiceError } from "./status.ts";

const DEFAULT_ROOMS_PAGE = 100;

/** ListRooms, OpenDirect, SetTopic. */
export function roomService(context: HandlerContext): Record<string, AuthedHandler> {
  const { chat, logger } = context;

  /** The caller as someone who writes: a guest needs a name first, as for a send. */
  const speaker = async (caller: Caller) => (await chat.users.nameFor(caller, "")).identity;

  return {
    async listRooms(
      call: ServerUnaryCall<ListRoomsRequest, ListRoomsResponse>,
      caller: Caller,
      callback: sendUnaryData<ListRoomsResponse>,
    ) {
      try {
        const { pageSize, pageToken } = call.request;
        const size = checkPageSize(pageSize, DEFAULT_ROOMS_PAGE);
        const after = pageToken ? decodePageToken(pageToken)[0] : undefined;
        const { rooms, next } = await chat.rooms.listRooms(callerId(caller), size, after);
        callback(
          null,
          create(ListRoomsResponseSchema, {
            rooms: rooms.map((r) => ({
              name: r.room,
              lastId: BigInt(r.lastId),
              online: r.online,
              lastMessageMs: BigInt(r.lastTimeMs),
              topic: r.topic,
              ...(r.peer ? { peer: r.peer } : {}),
            })),
            nextPageToken: next === undefined ? "" : encodePageToken([next]),
          }),
        );
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    async openDirect(
      call: ServerUnaryCall<OpenDirectRequest, OpenDirectResponse>,
      caller: Caller,
      callback: sendUnaryData<OpenDirectResponse>,
    ) {
      try {
        const { room, peer } = await chat.rooms.openDirect(
          await speaker(caller),
          call.request.username,
        );
        callback(null, create(OpenDirectResponseSchema, { room, peer }));
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    async setTopic(
      call: ServerUnaryCall<SetTopicRequest, SetTopicResponse>,
      caller: Caller,
      callback: sendUnaryData<SetTopicResponse>,
    ) {
      try {
        if (caller.kind === "anonymous") {
          throw new ChatError("unauthenticated", "Say who you are to set a topic.");
        }
        await chat.rooms.setTopic(
          await speaker(caller),
          call.request.room || DEFAULT_ROOM,
          call.request.topic,
        );
        callback(null, create(SetTopicResponseSchema, {}));
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },
  };
}
