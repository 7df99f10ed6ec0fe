// Search: one unary call per page. The query text is parsed by the server
// (words, "phrases", -word, from:, in:, before:/after:, has:link), so a
// client passes it on as typed and shows the server's sentence when it is
// refused.
import { create } from "@bufbuild/protobuf";
import { SearchRequestSchema, type SearchResponse } from "../gen/chat_pb.js";
import { type ChatLine, toChatLine } from "./chat-line.ts";
import type { GrpcChannel } from "./grpc-channel.ts";

/** [start, end) of a text, in Unicode code points (not UTF-16 units: iterate the string to count). */
export interface TextRange {
  readonly start: number;
  readonly end: number;
}

/** One message that matched, in its current state, and where in its text the query matched. */
export interface SearchHit {
  readonly message: ChatLine;
  /** In order, not overlapping. */
  readonly highlights: readonly TextRange[];
}

export interface SearchOptions {
  /** As a person types it; may be empty when another field narrows the search. */
  readonly query: string;
  /** Only this room (as in:#room in the query). */
  readonly room?: string;
  /** Only this user's messages, by name (as from:name). */
  readonly sender?: string;
  /** Only messages sent at or after this time (ms since the epoch). */
  readonly afterMs?: number;
  /** Only messages sent before this time (ms since the epoch). */
  readonly beforeMs?: number;
  /** Hits per page, 1-100 (default: the server's, 20). */
  readonly limit?: number;
  /** A previous page's `nextPageToken`, with the same query and options. */
  readonly pageToken?: string;
  readonly oldestFirst?: boolean;
}

export interface SearchPage {
  /** Newest first, unless `oldestFirst` was asked for. */
  readonly hits: SearchHit[];
  /** Pass back as `pageToken` for the next page; "" on the last page. */
  readonly nextPageToken: string;
}

export async function searchMessages(
  channel: GrpcChannel,
  options: SearchOptions,
): Promise<SearchPage> {
  const request = create(SearchRequestSchema, {
    query: options.query,
    room: options.room ?? "",
    sender: options.sender ?? "",
    afterMs: BigInt(options.afterMs ?? 0),
    beforeMs: BigInt(options.beforeMs ?? 0),
    limit: options.limit ?? 0,
    pageToken: options.pageToken ?? "",
    oldestFirst: options.oldestFirst ?? false,
  });
  const response = await channel.unary<SearchResponse>("search", request);
  return {
    hits: response.hits.flatMap(({ message, highlights }) =>
      // A hit always carries its message; one without could show nothing.
      message
        ? [
            {
              message: toChatLine(message),
              highlights: highlights.map(({ start, end }) => ({ start, end })),
            },
          ]
        : [],
    ),
    nextPageToken: response.nextPageToken,
  };
}
