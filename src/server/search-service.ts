import { create } from "@bufbuild/protobuf";
import { ChatError } from "../core/chat-error.ts";
import type { SearchCursor } from "../core/search.ts";
import { SearchResponseSchema } from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import { toMessage } from "./encoders.ts";
import { decodePageToken, encodePageToken } from "./page-token.ts";
import type { ChatServicePart } from "./service-impl.ts";

/** Search. */
export function searchService(context: HandlerContext): ChatServicePart<"search"> {
  const { chat } = context;
  return {
    search: async (request, { caller }) => {
      const reader = await chat.identities.speaker(caller);
      const page = await chat.search.search(reader, {
        query: request.query,
        room: request.room,
        sender: request.sender,
        afterMs: Number(request.afterMs),
        beforeMs: Number(request.beforeMs),
        limit: request.limit,
        oldestFirst: request.oldestFirst,
        ...(request.pageToken ? { after: cursorOf(request.pageToken) } : {}),
      });
      const { next } = page;
      return create(SearchResponseSchema, {
        hits: page.hits.map(({ message, highlights }) => ({
          message: toMessage(message),
          highlights: [...highlights],
        })),
        nextPageToken: next
          ? encodePageToken([String(next.timeMs), next.room, String(next.id)])
          : "",
      });
    },
  };
}

function cursorOf(token: string): SearchCursor {
  const [timeMs, room, id] = decodePageToken(token);
  const cursor = { timeMs: Number(timeMs), room: room ?? "", id: Number(id) };
  if (
    !Number.isSafeInteger(cursor.timeMs) ||
    !Number.isSafeInteger(cursor.id) ||
    cursor.room === ""
  ) {
    throw new ChatError(
      "invalid_argument",
      "The page_token is not one this server gave out; start again with an empty one.",
    );
  }
  return cursor;
}
