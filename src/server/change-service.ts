import { create } from "@bufbuild/protobuf";
import { callerId } from "../core/caller.ts";
import { DEFAULT_ROOM } from "../core/types.ts";
import {
  ChangeResponseSchema,
  MarkReadResponseSchema,
  TypingResponseSchema,
} from "../gen/chat_pb.js";
import type { AppendResult } from "../store/store.ts";
import type { HandlerContext } from "./context.ts";
import { toMessageId } from "./live-stream.ts";
import type { ChatServicePart } from "./service-impl.ts";

/** What a change answers: the entry it was stored as, or id 0 when it changed nothing. */
function changeResponse({ message, unchanged }: AppendResult) {
  return create(ChangeResponseSchema, {
    id: unchanged ? 0n : BigInt(message.id),
    serverTimeMs: unchanged ? 0n : BigInt(message.timeMs),
  });
}

/** Changes to messages already sent, read markers and typing: Edit, Delete, React, MarkRead, SetTyping. */
export function changeService(
  context: HandlerContext,
): ChatServicePart<"edit" | "delete" | "react" | "markRead" | "setTyping"> {
  const { chat } = context;
  const target = (request: { room: string; id: bigint }) => ({
    room: request.room || DEFAULT_ROOM,
    id: toMessageId(request.id),
  });

  return {
    edit: async (request, { caller }) =>
      changeResponse(
        await chat.changes.edit(
          await chat.identities.speaker(caller),
          target(request),
          request.text,
        ),
      ),

    delete: async (request, { caller }) =>
      changeResponse(
        await chat.changes.delete(await chat.identities.speaker(caller), target(request)),
      ),

    react: async (request, { caller }) =>
      changeResponse(
        await chat.changes.react(
          await chat.identities.speaker(caller),
          target(request),
          request.emoji,
          request.remove,
        ),
      ),

    markRead: async (request, { caller }) => {
      const marker = await chat.readMarkers.markRead(
        callerId(caller),
        request.room || DEFAULT_ROOM,
        toMessageId(request.lastReadId),
      );
      return create(MarkReadResponseSchema, { lastReadId: BigInt(marker) });
    },

    setTyping: async (request, { caller }) => {
      chat.typing(
        await chat.identities.speaker(caller),
        request.room || DEFAULT_ROOM,
        request.stopped,
      );
      return create(TypingResponseSchema, {});
    },
  };
}
