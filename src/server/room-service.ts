import { create } from "@bufbuild/protobuf";
import { callerIdentity } from "../core/access.ts";
import { ChatError } from "../core/chat-error.ts";
import { DEFAULT_ROOM } from "../core/types.ts";
import {
  ListRoomsResponseSchema,
  OpenDirectResponseSchema,
  SetTopicResponseSchema,
} from "../gen/chat_pb.js";
import type { NotifyLevel as LevelName } from "../store/integration-store.ts";
import type { HandlerContext } from "./context.ts";
import { notifyLevel } from "./encoders.ts";
import { roomRole } from "./governance-encoding.ts";
import { checkPageSize, decodePageToken, encodePageToken } from "./page-token.ts";
import type { ChatServicePart } from "./service-impl.ts";

const DEFAULT_ROOMS_PAGE = 100;

/** ListRooms, OpenDirect, SetTopic. */
export function roomService(
  context: HandlerContext,
): ChatServicePart<"listRooms" | "openDirect" | "setTopic"> {
  const { chat } = context;

  return {
    listRooms: async (request, { caller }) => {
      const { pageSize, pageToken } = request;
      const size = checkPageSize(pageSize, DEFAULT_ROOMS_PAGE);
      const after = pageToken ? decodePageToken(pageToken)[0] : undefined;
      const who = callerIdentity(caller);
      const reader = who?.userId;
      const { rooms, next } = await chat.rooms.listRooms(
        caller.kind === "guest"
          ? { userId: caller.userId, username: chat.identities.nameOf(caller) ?? "" }
          : who,
        size,
        after,
      );
      const levels =
        who === undefined ? new Map<string, LevelName>() : await chat.notify.levels(who);
      const unread =
        reader === undefined
          ? new Map()
          : await chat.readMarkers.unread(
              { userId: reader, username: chat.identities.nameOf(caller) ?? "" },
              rooms.map((r) => r.room),
            );
      return create(ListRoomsResponseSchema, {
        rooms: rooms.map((r) => {
          const counts = unread.get(r.room);
          return {
            name: r.room,
            lastId: BigInt(r.lastId),
            online: r.online,
            lastMessageMs: BigInt(r.lastTimeMs),
            topic: r.topic,
            ...(r.peer ? { peer: r.peer } : {}),
            unread: counts?.unread ?? 0,
            mentions: counts?.mentions ?? 0,
            lastReadId: BigInt(counts?.lastReadId ?? 0),
            inviteOnly: r.inviteOnly,
            readOnly: r.readOnly,
            role: roomRole(r.rank),
            notify: notifyLevel(levels.get(r.room)),
          };
        }),
        nextPageToken: next === undefined ? "" : encodePageToken([next]),
      });
    },

    openDirect: async (request, { caller }) => {
      const me = await chat.identities.speaker(caller);
      const { room, peer } = await chat.rooms.openDirect(me, request.username);
      return create(OpenDirectResponseSchema, { room, peer });
    },

    setTopic: async (request, { caller }) => {
      if (caller.kind === "anonymous") {
        throw new ChatError("unauthenticated", "Say who you are to set a topic.");
      }
      const room = request.room || DEFAULT_ROOM;
      await chat.rooms.setTopic(await chat.identities.speaker(caller), room, request.topic);
      return create(SetTopicResponseSchema, {});
    },
  };
}
