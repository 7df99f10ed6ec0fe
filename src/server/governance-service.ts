import { create } from "@bufbuild/protobuf";
import type { Chat } from "../core/chat.ts";
import { ChatError } from "../core/chat-error.ts";
import type { RoomAnswer } from "../core/room-admin.ts";
import type { Identity } from "../core/types.ts";
import { DEFAULT_ROOM } from "../core/types.ts";
import {
  InviteCodeSchema,
  InviteResponseSchema,
  RedeemInviteResponseSchema,
  RoomSettingsSchema,
} from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import { requestedRole, roomSettings } from "./governance-encoding.ts";
import type { ChatServicePart } from "./service-impl.ts";

/** A room's settings in a reply to `viewer`. */
export function settingsReply(chat: Chat, viewer: Identity, answer: RoomAnswer) {
  return create(
    RoomSettingsSchema,
    roomSettings(answer.view, {
      rank: answer.rank,
      admin: chat.governance.rules.isAdmin(viewer),
      ...(answer.mute ? { mutedUntilMs: answer.mute.untilMs } : {}),
    }),
  );
}

/** CreateRoom, GetRoom, UpdateRoom, SetRole, Invite, CreateInvite, RedeemInvite. */
export function governanceService(
  context: HandlerContext,
): ChatServicePart<
  "createRoom" | "getRoom" | "updateRoom" | "setRole" | "invite" | "createInvite" | "redeemInvite"
> {
  const { chat } = context;
  const { rooms } = chat.governance;
  const speaker = (caller: Parameters<typeof chat.identities.speaker>[0]) =>
    chat.identities.speaker(caller);

  return {
    createRoom: async (request, { caller }) => {
      const me = await speaker(caller);
      const answer = await rooms.create(me, request.room, {
        inviteOnly: request.inviteOnly,
        readOnly: request.readOnly,
      });
      if (request.topic !== "") await chat.rooms.setTopic(me, request.room, request.topic);
      return settingsReply(
        chat,
        me,
        request.topic !== "" ? await rooms.get(me, request.room) : answer,
      );
    },

    getRoom: async (request, { caller }) => {
      const me = await speaker(caller);
      return settingsReply(chat, me, await rooms.get(me, request.room || DEFAULT_ROOM));
    },

    updateRoom: async (request, { caller }) => {
      const me = await speaker(caller);
      const answer = await rooms.update(me, request.room || DEFAULT_ROOM, {
        ...(request.inviteOnly === undefined ? {} : { inviteOnly: request.inviteOnly }),
        ...(request.readOnly === undefined ? {} : { readOnly: request.readOnly }),
      });
      return settingsReply(chat, me, answer);
    },

    setRole: async (request, { caller }) => {
      const me = await speaker(caller);
      const role = requestedRole(request.role);
      if (role === undefined) {
        throw new ChatError(
          "invalid_argument",
          "Name the role: ROOM_ROLE_MODERATOR, ROOM_ROLE_MEMBER (no longer a moderator) or ROOM_ROLE_OWNER (hand the room on).",
        );
      }
      return settingsReply(
        chat,
        me,
        await rooms.setRole(me, request.room || DEFAULT_ROOM, request.user, role),
      );
    },

    invite: async (request, { caller }) => {
      const user = await rooms.invite(
        await speaker(caller),
        request.room || DEFAULT_ROOM,
        request.user,
      );
      return create(InviteResponseSchema, { user });
    },

    createInvite: async (request, { caller }) => {
      const room = request.room || DEFAULT_ROOM;
      const { code, expiresMs, uses } = await rooms.createInvite(
        await speaker(caller),
        room,
        Number(request.expiresInMs),
        request.uses,
      );
      return create(InviteCodeSchema, { code, room, expiresAtMs: BigInt(expiresMs), uses });
    },

    redeemInvite: async (request, { caller }) => {
      const room = await rooms.redeem(await speaker(caller), request.code);
      return create(RedeemInviteResponseSchema, { room });
    },
  };
}
