// The PostgreSQL store's search: one statement per search, walking time
// windows in the search's order (see pg-search-terms.ts) and stopping at the
// limit, with who may read what inside every window's query.
import { createHash } from "node:crypto";
import pg from "pg";
import { DM_PREFIX } from "../wire/room-names.ts";
import { withReactions } from "./pg-reads.ts";
import { INDEXED_ROWS, pieceRows, TRIGRAM_INDEX, wordIndexName } from "./pg-search-schema.ts";
import { hiddenRoomsSql, SearchStats } from "./pg-search-stats.ts";
import {
  excludeQuery,
  includeQuery,
  keyQuery,
  likePattern,
  type SearchWindow,
  searchWindows,
} from "./pg-search-terms.ts";
import { MESSAGE_COLUMNS, toMessage } from "./rows.ts";
import { punctuatedPieces } from "./search-store.ts";
import type { SearchQuery, StoredMessage } from "./store.ts";

/** Searches at once on a node; more wait for a connection. */
const SEARCH_CONNECTIONS = 4;
/**
 * The search connections' settings. Parallel workers cost more to start than
 * a page costs to find, and a parallel Append could mix the windows' order;
 * JIT compiles for longer than a search runs. A statement is planned once per
 * connection and shape, for any values (planning costs more than running):
 * every window's plan is the same few index scans whatever the words.
 */
const SEARCH_SETTINGS =
  "-c max_parallel_workers_per_gather=0 -c jit=off -c plan_cache_mode=force_generic_plan";
/** A search of at most this many rooms (in:) is narrowed by their keys in the index. */
const SCOPED_ROOMS = 8;
/** What has:link looks for, as the contract says: http://, https:// or www. */
const LINK = "(https?://|www\\.)";

/** Values of a statement, each added once and named by its placeholder. */
class Values {
  readonly list: unknown[] = [];
  add(value: unknown): string {
    this.list.push(value);
    return `$${this.list.length}`;
  }
}

/**
 * Searches on connections of their own (SEARCH_SETTINGS), so that they
 * never hold the connections appends wait for.
 */
export class PgSearch {
  readonly #pool: pg.Pool;
  readonly #s: string;
  readonly #language: string;
  readonly #now: () => number;
  readonly #stats: SearchStats;

  /** `store` is the store's pool: the search pool connects as it does. */
  constructor(store: pg.Pool, schema: string, language: string, now: () => number) {
    this.#pool = new pg.Pool({
      ...store.options,
      max: SEARCH_CONNECTIONS,
      options: SEARCH_SETTINGS,
    });
    // An idle connection that breaks is replaced on next use.
    this.#pool.on("error", () => {});
    this.#s = schema;
    this.#language = language;
    this.#now = now;
    this.#stats = new SearchStats(this.#pool, schema, now);
  }

  async search(query: SearchQuery): Promise<StoredMessage[]> {
    if (query.limit <= 0) return [];
    const [stats, readableShare] = await Promise.all([
      this.#stats.table(),
      query.admin ? 1 : this.#stats.readableShare(query.reader, query.nowMs),
    ]);
    const windows = searchWindows({
      oldestFirst: query.oldestFirst === true,
      nowMs: this.#now(),
      ...stats,
      readableShare,
      ...(query.afterMs === undefined ? {} : { afterMs: query.afterMs }),
      ...(query.beforeMs === undefined ? {} : { beforeMs: query.beforeMs }),
      ...(query.after ? { after: query.after } : {}),
    });
    const values = new Values();
    const text = this.#statement(query, windows, values);
    // Named by its text: each connection prepares a shape once.
    const name = `search_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
    await this.#flushPending();
    const { rows } = await this.#pool.query({ name, text, values: values.list });
    return rows.map(toMessage);
  }

  /**
   * Moves what appends left in the indexes' pending lists into the indexes
   * proper. GIN takes new rows into a pending list that every search reads
   * through, once per window: 4 MB of it made a search 40 ms instead of 2.
   * An append that finds the list full does this anyway; done by a search,
   * each does what came since the last one, and an empty list costs a lookup.
   * A failure (a read-only standby, a user who does not own the index) only
   * leaves the list for the appends to clear.
   */
  async #flushPending(): Promise<void> {
    await this.#pool
      .query("SELECT gin_clean_pending_list($1::regclass), gin_clean_pending_list($2::regclass)", [
        `${this.#s}.${wordIndexName(this.#language)}`,
        `${this.#s}.${TRIGRAM_INDEX}`,
      ])
      .catch(() => {});
  }

  close(): Promise<void> {
    return this.#pool.end();
  }

  /**
   * The windows' queries, each sorted and limited, in the search's order:
   * PostgreSQL runs a UNION ALL's parts one after the other and stops when
   * the LIMIT above has its rows, so a later window is searched only when
   * the ones before hold too few hits.
   */
  #statement(query: SearchQuery, windows: readonly SearchWindow[], values: Values): string {
    const s = this.#s;
    const order = query.oldestFirst ? "ASC" : "DESC";
    const orderBy = (alias: string) =>
      `${alias}.time_ms ${order}, ${alias}.room ${order}, ${alias}.id ${order}`;
    const limit = values.add(query.limit);
    const common = this.#conditions(query, values);
    const scope = this.#scope(query, values);
    const parts = windows
      .filter((window) => window.buckets === undefined || window.buckets.length > 0)
      .map((window) => {
        const where = [...common];
        if (window.lo !== undefined) where.push(`m.time_ms >= ${values.add(window.lo)}`);
        if (window.hi !== undefined) where.push(`m.time_ms < ${values.add(window.hi)}`);
        if (window.buckets) {
          const buckets = `${values.add(keyQuery(window.buckets))}::tsquery`;
          where.push(`${s}.search_keys(m.time_ms, m.room) @@ ${scope(buckets)}`);
        }
        return `(SELECT ${MESSAGE_COLUMNS.replaceAll(/(\w+)/g, "m.$1")} FROM ${s}.messages AS m
  WHERE ${where.join("\n    AND ")}
  ORDER BY ${orderBy("m")} LIMIT ${limit})`;
      });
    const viewer = values.add(query.reader);
    const page = `SELECT * FROM (${parts.join("\nUNION ALL\n")}) AS windows LIMIT ${limit}`;
    return `${this.#with(query, values)}
${withReactions(s, page, viewer)}
ORDER BY ${orderBy("m")}`;
  }

  /** What every window's rows must meet: the terms, the filters, and who may read them. */
  #conditions(query: SearchQuery, values: Values): string[] {
    const s = this.#s;
    const language = `'${this.#language}'::regconfig`;
    const where = [INDEXED_ROWS.replaceAll(/(kind|deleted)/g, "m.$1")];
    const vector = `to_tsvector(${language}, ${s}.search_words(m.text))`;
    const include = includeQuery(query.include);
    const exclude = excludeQuery(query.exclude);
    const tsquery = (text: string) => `to_tsquery(${language}, ${values.add(text)})`;
    if (include !== undefined && exclude !== undefined) {
      where.push(`${vector} @@ (${tsquery(include)} && !! ${tsquery(exclude)})`);
    } else if (include !== undefined) {
      where.push(`${vector} @@ ${tsquery(include)}`);
    } else if (exclude !== undefined) {
      where.push(`${vector} @@ !! ${tsquery(exclude)}`);
    }
    const folded = `${s}.search_fold(m.text)`;
    const pieces = `${s}.search_pieces(m.text)`;
    for (const term of query.include) {
      if (term.kind !== "substring") continue;
      // Its pieces with punctuation lie inside the text's own, which the
      // trigram index holds; the folded text then confirms the whole.
      const indexed = punctuatedPieces(term.text).filter((piece) => [...piece].length >= 3);
      if (indexed.length > 0) where.push(pieceRows(s, "m.text"));
      for (const piece of indexed) where.push(`${pieces} LIKE ${values.add(likePattern(piece))}`);
      where.push(`${folded} LIKE ${values.add(likePattern(term.text))}`);
    }
    for (const term of query.exclude) {
      if (term.kind === "substring") {
        where.push(`NOT (${folded} LIKE ${values.add(likePattern(term.text))})`);
      }
    }
    if (query.rooms) where.push(`m.room = ANY(${values.add(query.rooms)}::text[])`);
    if (query.senders) where.push(`m.user_id = ANY(${values.add(query.senders)}::text[])`);
    if (query.afterMs !== undefined) where.push(`m.time_ms >= ${values.add(query.afterMs)}`);
    if (query.beforeMs !== undefined) where.push(`m.time_ms < ${values.add(query.beforeMs)}`);
    if (query.hasLink) where.push(`m.text ~* ${values.add(LINK)}`);
    if (query.after) {
      const { timeMs, room, id } = query.after;
      where.push(
        `(m.time_ms, m.room, m.id) ${query.oldestFirst ? ">" : "<"} (${values.add(timeMs)}, ${values.add(room)}, ${values.add(id)})`,
      );
    }
    where.push(...this.#readable(query, values));
    return where;
  }

  /**
   * Who may read what (SearchQuery's rule), as conditions on each row before
   * any limit: a direct-message room only by its two users; any other room
   * unless it is hidden from the reader (below); admins see every room but
   * others' direct messages.
   */
  #readable(query: SearchQuery, values: Values): string[] {
    const reader = values.add(query.reader);
    const dm = values.add(DM_PREFIX);
    const conditions = [
      `(NOT starts_with(m.room, ${dm}) OR strpos(m.room || ':', ':' || ${reader} || ':') > 0)`,
    ];
    if (!query.admin) conditions.push("m.room NOT IN (SELECT room FROM hidden)");
    return conditions;
  }

  /**
   * A window's keys query: its buckets, and when the search asks for a few
   * rooms, those rooms' keys, so that the index skips the others. (Not the
   * rooms a reader may read: a GIN index advances every key of an OR for
   * each candidate, and fifty rooms' keys cost more than the rows they spare.)
   */
  #scope(query: SearchQuery, values: Values): (buckets: string) => string {
    if (!query.rooms || query.rooms.length === 0 || query.rooms.length > SCOPED_ROOMS) {
      return (buckets) => buckets;
    }
    const keys = keyQuery(query.rooms.map((room) => `~r${room}`));
    // Added when first used: a value no window uses would have no type.
    let rooms: string | undefined;
    return (buckets) => {
      rooms ??= `${values.add(keys)}::tsquery`;
      return `(${buckets} && ${rooms})`;
    };
  }

  /** The rooms hidden from the reader (see hiddenRoomsSql), found once per search and hashed. */
  #with(query: SearchQuery, values: Values): string {
    if (query.admin) return "";
    const hidden = hiddenRoomsSql(this.#s, {
      reader: values.add(query.reader),
      dm: values.add(DM_PREFIX),
      now: values.add(query.nowMs),
    });
    return `WITH hidden AS MATERIALIZED (\n  ${hidden}\n)`;
  }
}
