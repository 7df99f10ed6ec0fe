import type { SearchCursor, SearchQuery, Store, StoredMessage } from "../store/store.ts";

export type { SearchCursor };

import { asChatError, ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { Identities } from "./identities.ts";
import type { Limits } from "./limits.ts";
import type { RoomRules } from "./room-rules.ts";
import { checkRoom, directRoom } from "./rooms.ts";
import { highlight, type TextRange } from "./search-highlight.ts";
import { type ParsedSearch, parseSearch } from "./search-query.ts";
import type { Identity, RoomId } from "./types.ts";

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 100;

/** A search as a client asks for it: the query text and the fields beside it. */
export interface SearchRequest {
  readonly query: string;
  /** Only this room (as in:#room); "" for any. */
  readonly room: string;
  /** Only this user's messages, by name (as from:name); "" for anyone's. */
  readonly sender: string;
  /** 0: no bound. */
  readonly afterMs: number;
  readonly beforeMs: number;
  /** 0: DEFAULT_SEARCH_LIMIT. */
  readonly limit: number;
  readonly after?: SearchCursor;
  readonly oldestFirst: boolean;
}

export interface SearchHit {
  readonly message: StoredMessage;
  readonly highlights: readonly TextRange[];
}

export interface SearchPage {
  readonly hits: readonly SearchHit[];
  /** Where the next page starts; undefined on the last page. */
  readonly next: SearchCursor | undefined;
}

export interface SearchOptions {
  readonly store: Store;
  readonly rules: RoomRules;
  readonly identities: Identities;
  readonly limits: Limits;
  readonly clock: Clock;
}

/**
 * Search over the rooms a reader may read. The query is parsed and folded
 * here; who may read what is decided by the store inside its query, by the
 * same rules RoomRules applies to History.
 */
export class Search {
  readonly #options: SearchOptions;

  constructor(options: SearchOptions) {
    this.#options = options;
  }

  async search(reader: Identity, request: SearchRequest): Promise<SearchPage> {
    const { store, rules, clock } = this.#options;
    // Search reads every room the reader may read, more than a bot's token names.
    if (reader.botScope) {
      throw new ChatError(
        "permission_denied",
        "A bot's token cannot search; read the rooms it was given with History.",
      );
    }
    const limit = request.limit || DEFAULT_SEARCH_LIMIT;
    if (limit < 1 || limit > MAX_SEARCH_LIMIT) {
      throw new ChatError(
        "invalid_argument",
        `A search limit is 1-${MAX_SEARCH_LIMIT} (0 means ${DEFAULT_SEARCH_LIMIT}).`,
      );
    }
    const parsed = parseSearch(request.query);
    const rooms = await this.#rooms(reader, parsed, request.room);
    const senders = await this.#senders(parsed, request.sender);
    const afterMs = Math.max(parsed.afterMs ?? 0, request.afterMs);
    const beforeBounds = [parsed.beforeMs, request.beforeMs || undefined].filter(
      (ms): ms is number => ms !== undefined,
    );
    const beforeMs = beforeBounds.length > 0 ? Math.min(...beforeBounds) : undefined;
    const narrowed =
      parsed.include.length > 0 ||
      rooms !== undefined ||
      senders !== undefined ||
      parsed.hasLink ||
      afterMs > 0 ||
      beforeMs !== undefined;
    if (!narrowed) {
      throw new ChatError(
        "invalid_argument",
        "Give words to search for, or a filter such as from:name, in:#room or has:link.",
      );
    }
    const query: SearchQuery = {
      reader: reader.userId,
      admin: rules.isAdmin(reader),
      nowMs: clock.now(),
      include: parsed.include,
      exclude: parsed.exclude,
      ...(rooms ? { rooms } : {}),
      ...(senders ? { senders } : {}),
      ...(afterMs > 0 ? { afterMs } : {}),
      ...(beforeMs !== undefined ? { beforeMs } : {}),
      ...(parsed.hasLink ? { hasLink: true } : {}),
      // One more than asked for says whether there is a next page.
      limit: limit + 1,
      ...(request.after ? { after: request.after } : {}),
      ...(request.oldestFirst ? { oldestFirst: true } : {}),
    };
    const found = await asChatError(store.search(query));
    const more = found.length > limit;
    const page = more ? found.slice(0, limit) : found;
    const last = page.at(-1);
    return {
      hits: page.map((message) => ({
        message,
        highlights: highlight(message.text, parsed.include),
      })),
      next: more && last ? { timeMs: last.timeMs, room: last.room, id: last.id } : undefined,
    };
  }

  /** in: rooms and the request's room together: a hit must be in all that are named. */
  async #rooms(
    reader: Identity,
    parsed: ParsedSearch,
    requested: string,
  ): Promise<readonly RoomId[] | undefined> {
    const { identities, limits } = this.#options;
    const named: RoomId[] = [];
    for (const written of parsed.rooms) {
      if (written.startsWith("@")) {
        const peer = await identities.find(written.slice(1));
        named.push(directRoom(reader.userId, peer.userId));
      } else named.push(checkRoom(written, limits.maxRoomChars));
    }
    if (requested === "") return named.length > 0 ? named : undefined;
    const room = checkRoom(requested, limits.maxRoomChars);
    if (named.length > 0 && !named.includes(room)) {
      throw new ChatError(
        "invalid_argument",
        `The search names ${named.map((r) => `in:${r}`).join(", ")} but asks for room ${room}; name one room.`,
      );
    }
    return [room];
  }

  async #senders(parsed: ParsedSearch, requested: string): Promise<readonly string[] | undefined> {
    const names = requested === "" ? parsed.senders : [...parsed.senders, requested];
    if (names.length === 0) return undefined;
    const { identities } = this.#options;
    const ids = await Promise.all(names.map(async (name) => (await identities.find(name)).userId));
    return [...new Set(ids)];
  }
}
