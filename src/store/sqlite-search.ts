// SearchStore's SQL on the store's one connection. Migration 8 made the index
// (search_docs, search_words, search_trigrams and the triggers that keep them
// current); this reads it.
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { DM_PREFIX } from "../wire/room-names.ts";
import { punctuatedPieces } from "./search-store.ts";
import type { SearchQuery, SearchTerm, StoredMessage } from "./store.ts";

/**
 * Docs per millisecond, as migration 8's triggers number them: a message's
 * doc is time_ms * DOCS_PER_MS plus its place among that millisecond's.
 */
const DOCS_PER_MS = 65_536;

// Every direct-message room's name sorts from DM_PREFIX up to (not including)
// the prefix with its last character raised by one.
const DM_END =
  DM_PREFIX.slice(0, -1) + String.fromCharCode(DM_PREFIX.charCodeAt(DM_PREFIX.length - 1) + 1);

// Statements are prepared per shape of query (which terms, filters and
// order), so the few shapes in use are prepared once.
const MAX_CACHED_STATEMENTS = 64;

/** The message a hit is, read back in its current state. */
export type ReadMessage = (room: string, id: number, viewer: string) => StoredMessage | undefined;

export class SqliteSearch {
  readonly #db: DatabaseSync;
  readonly #read: ReadMessage;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, read: ReadMessage) {
    this.#db = db;
    this.#read = read;
  }

  /**
   * One statement finds the page's (room, id) pairs, walking one index
   * newest first (or oldest first) and stopping at the limit; every other
   * condition, who may read what included, is checked on the way. The hits
   * are then read as `message` reads them.
   */
  search(query: SearchQuery): StoredMessage[] {
    const { sql, params } = planSearch(query);
    const hits = this.#statement(sql).all(params);
    const messages: StoredMessage[] = [];
    for (const hit of hits) {
      const message = this.#read(String(hit.room), Number(hit.id), query.reader);
      if (message) messages.push(message);
    }
    return messages;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement) {
      // Most recently used last, so the oldest is the one dropped.
      this.#statements.delete(sql);
    } else {
      statement = this.#db.prepare(sql);
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
    }
    this.#statements.set(sql, statement);
    return statement;
  }
}

/** A string FTS5 reads as text only, whatever it holds (its operators are quoted away). */
function quoted(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** A words term as an FTS5 phrase: its words adjacent and in order, the last maybe a prefix. */
function phrase(term: Extract<SearchTerm, { kind: "words" }>): string {
  return quoted(term.words.join(" ")) + (term.prefix ? " *" : "");
}

/**
 * The trigrams the index holds for any text holding the substring `text`,
 * each once: those of its pieces with punctuation (punctuatedPieces), which
 * lie inside the text's own; none when those are shorter than three
 * characters. The trigram index keeps no positions (half the cost of
 * indexing a message), so these only find candidates, which the text itself
 * then confirms.
 */
function trigramsOf(text: string): string[] {
  const all = new Set<string>();
  for (const piece of punctuatedPieces(text)) {
    const chars = [...piece];
    for (let i = 0; i + 3 <= chars.length; i++) all.add(quoted(chars.slice(i, i + 3).join("")));
  }
  return [...all];
}

interface Plan {
  readonly sql: string;
  readonly params: Record<string, SQLInputValue>;
}

/**
 * The statement for `query` and its parameters. The walk is driven by the
 * words index when a words term must match (its phrases, prefixes and the
 * words excluded in one FTS5 expression), else by the trigram index when a
 * substring has trigrams, else by search_docs alone. Each candidate is then
 * checked, cheapest first: who may read its room and the other filters on
 * search_docs; then substrings in its folded text; then words excluded,
 * when the words index is not the one walked (a seek per candidate).
 */
export function planSearch(query: SearchQuery): Plan {
  const words = (terms: readonly SearchTerm[]) =>
    terms.flatMap((term) => (term.kind === "words" ? [phrase(term)] : []));
  const substrings = (terms: readonly SearchTerm[]) =>
    terms.flatMap((term) => (term.kind === "substring" ? [term.text] : []));
  const wordsIn = words(query.include);
  const wordsOut = words(query.exclude);
  const substringsIn = substrings(query.include);
  const substringsOut = substrings(query.exclude);
  const trigrams = [...new Set(substringsIn.flatMap(trigramsOf))];
  const driver =
    wordsIn.length > 0 ? "search_words" : trigrams.length > 0 ? "search_trigrams" : undefined;

  const params: Record<string, SQLInputValue> = {
    limit: query.limit,
    low: query.afterMs === undefined ? null : query.afterMs,
    high: query.beforeMs === undefined ? null : query.beforeMs,
    reader: query.reader,
    dmLow: DM_PREFIX,
    dmHigh: DM_END,
  };
  const where: string[] = [];
  let from = "search_docs d";
  const doc = driver ? "f.rowid" : "d.doc";
  if (driver === "search_words") {
    from = "search_words f CROSS JOIN search_docs d ON d.doc = f.rowid";
    const all = wordsIn.map((p) => `(${p})`).join(" AND ");
    params.match = wordsOut.length === 0 ? all : `(${all}) NOT (${anyOf(wordsOut)})`;
    where.push("search_words MATCH :match");
  } else if (driver === "search_trigrams") {
    from = "search_trigrams f CROSS JOIN search_docs d ON d.doc = f.rowid";
    params.match = trigrams.join(" AND ");
    where.push("search_trigrams MATCH :match");
  }
  // Time bounds and the cursor as bounds on the doc, which FTS5 (or the
  // rowid table) seeks to rather than filters by.
  where.push(
    `${doc} >= coalesce(CAST(:low AS INTEGER) * ${DOCS_PER_MS}, -9223372036854775808)`,
    `${doc} < coalesce(CAST(:high AS INTEGER) * ${DOCS_PER_MS}, 9223372036854775807)`,
  );
  const newestFirst = query.oldestFirst !== true;
  if (query.after) {
    params.afterRoom = query.after.room;
    params.afterId = query.after.id;
    params.afterMs = query.after.timeMs;
    // A cursor whose message has left the index since (deleted, pruned)
    // continues from the edge of its millisecond.
    const fallback = newestFirst
      ? `CAST(:afterMs AS INTEGER) * ${DOCS_PER_MS}`
      : `CAST(:afterMs AS INTEGER) * ${DOCS_PER_MS} + ${DOCS_PER_MS - 1}`;
    where.push(
      `${doc} ${newestFirst ? "<" : ">"} coalesce(
        (SELECT c.doc FROM search_docs c WHERE c.room = :afterRoom AND c.id = :afterId), ${fallback})`,
    );
  }
  where.push(readableRooms(query.admin));
  if (!query.admin) params.now = query.nowMs;
  if (query.rooms) {
    params.rooms = JSON.stringify(query.rooms);
    where.push("d.room IN (SELECT value FROM json_each(:rooms))");
  }
  if (query.senders) {
    params.senders = JSON.stringify(query.senders);
    where.push("d.user_id IN (SELECT value FROM json_each(:senders))");
  }
  if (query.hasLink) where.push("d.has_link = 1");
  if (substringsIn.length > 0 || substringsOut.length > 0) {
    from += " CROSS JOIN messages m ON m.room = d.room AND m.id = d.id";
    params.substringsIn = JSON.stringify(substringsIn);
    params.substringsOut = JSON.stringify(substringsOut);
    where.push("search_substrings(m.text, :substringsIn, :substringsOut)");
  }
  if (driver !== "search_words" && wordsOut.length > 0) {
    params.wordsOut = anyOf(wordsOut);
    where.push(
      "NOT EXISTS (SELECT 1 FROM search_words p WHERE search_words MATCH :wordsOut AND p.rowid = d.doc)",
    );
  }
  const sql = `SELECT d.room, d.id FROM ${from}
WHERE ${where.join("\n  AND ")}
ORDER BY ${doc} ${newestFirst ? "DESC" : "ASC"} LIMIT :limit`;
  return { sql, params };
}

function anyOf(phrases: readonly string[]): string {
  return phrases.map((p) => `(${p})`).join(" OR ");
}

/**
 * Who may read which room (SearchQuery's rule), as a condition on d.room:
 * a direct-message room only by the two it names; another room unless the
 * reader is hidden from it, which the uncorrelated NOT IN works out once per
 * search (the reader's bans in force, the invite-only rooms they have no
 * place in). An admin reads every room but others' direct messages.
 */
function readableRooms(admin: boolean): string {
  const dm = "d.room >= :dmLow AND d.room < :dmHigh";
  const named = "instr(d.room || ':', ':' || :reader || ':') > 0";
  if (admin) return `CASE WHEN ${dm} THEN ${named} ELSE 1 END`;
  return `CASE WHEN ${dm} THEN ${named} ELSE d.room NOT IN (
    SELECT s.room FROM sanctions s
    WHERE s.user_id = :reader AND s.kind = 'ban' AND (s.until_ms = 0 OR s.until_ms > :now)
    UNION ALL
    SELECT r.room FROM room_records r
    WHERE r.invite_only <> 0 AND r.owner <> :reader
      AND NOT EXISTS (SELECT 1 FROM room_roles o WHERE o.room = r.room AND o.user_id = :reader)
  ) END`;
}
