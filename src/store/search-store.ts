import type { MessageId, RoomId, StoredMessage, UserId } from "./store.ts";

/**
 * One thing a message must (or, in `exclude`, must not) contain. The core
 * parses the user's query into these (see core/search-query.ts); every
 * string here is already folded: NFKD, combining marks removed, lower case.
 */
export type SearchTerm =
  /**
   * Words in this order, adjacent (one word, or a "quoted phrase"), as the
   * word index splits text: on anything that is not a letter or digit. With
   * `prefix`, the last word matches any word it begins.
   */
  | { readonly kind: "words"; readonly words: readonly string[]; readonly prefix: boolean }
  /**
   * A run of characters anywhere in the folded text, punctuation included
   * (`foo.png`, `sess.opts`, a URL's path): the trigram index's part. At
   * least 3 characters; shorter ones are parsed as words.
   */
  | { readonly kind: "substring"; readonly text: string };

/**
 * Folds text as both stores' indexes and the core's queries do: compatibility
 * decomposition (NFKD), combining marks removed, lower case, so that an
 * indexed text and a query meet however either was typed. It must stay what
 * it was when a text was indexed: SQLite takes a text out of its index by
 * folding it again, and PostgreSQL's search_fold() (pg-search-schema.ts) is
 * held to it by a test.
 */
export function foldForSearch(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
}

/**
 * What the trigram index holds of a folded text: its pieces (split at white
 * space) that hold a character other than a letter or digit, such as
 * `foo.png`, `sess.opts()` or a URL. A substring term always holds such a
 * character, and each of its pieces lies inside one piece of any text that
 * holds it, so the index finds every candidate from a fraction of the
 * text's trigrams. Both stores index by this rule and query by it.
 */
export function punctuatedPieces(folded: string): string[] {
  return folded.split(/\s+/u).filter((piece) => /[^\p{L}\p{N}]/u.test(piece));
}

/** Where a page of search hits continues: after this hit, in the page's order. */
export interface SearchCursor {
  readonly timeMs: number;
  readonly room: RoomId;
  readonly id: MessageId;
}

/**
 * A search as the store runs it. Who may read what is part of the query
 * (never a filter after the limit): a hit comes only from
 * - a direct-message room whose name holds `reader` as one of its ids;
 * - any other room, unless `reader` has a ban in force there at `nowMs`
 *   (until_ms 0 or after nowMs), or the room is invite-only and `reader`
 *   is neither its owner nor holds a role in it. With `admin`, every room
 *   that is not a direct-message room (admins do not read others' DMs).
 */
export interface SearchQuery {
  readonly reader: UserId;
  readonly admin: boolean;
  readonly nowMs: number;
  /** Every one must match. May be empty when another filter narrows the search. */
  readonly include: readonly SearchTerm[];
  /** None may match. */
  readonly exclude: readonly SearchTerm[];
  /** Only these rooms (absent: every room the reader may read). */
  readonly rooms?: readonly RoomId[];
  /** Only messages by these user ids (absent: anyone's). */
  readonly senders?: readonly UserId[];
  /** Only messages with timeMs >= afterMs / < beforeMs. */
  readonly afterMs?: number;
  readonly beforeMs?: number;
  /** Only messages whose text holds a link (http://, https:// or www.). */
  readonly hasLink?: boolean;
  readonly limit: number;
  /** Continue after this hit (absent: from the start). */
  readonly after?: SearchCursor;
  /** Oldest first instead of newest first. */
  readonly oldestFirst?: boolean;
}

/**
 * Full-text search of the rooms' chat messages. Only chat messages that are
 * not deleted are found, by their current text: an append makes a message
 * findable in the transaction that stores it, an edit re-indexes it, and a
 * delete, retention or a room's deletion takes it out of the index (nothing
 * of a deleted text may stay readable in the index either).
 */
export interface SearchStore {
  /**
   * Hits newest first (by timeMs; messages of the same millisecond in a
   * fixed order), or oldest first; at most `limit`. Each in its current
   * state with reactions (`mine` for the reader), as `message` gives it.
   * Case and diacritics are ignored.
   */
  search(query: SearchQuery): Promise<StoredMessage[]>;
}
