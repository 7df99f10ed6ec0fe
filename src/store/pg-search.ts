// The PostgreSQL store's search: one statement per search, walking time
// windows in the search's order (see pg-search-terms.ts) and stopping at the
// limit, with who may read what inside every window's query.
import { createHash } from "node:crypto";
import pg from "pg";
import { DM_PREFIX } from "../wire/room-names.ts";
import { INDEXED_ROWS, TRIGRAM_INDEX, wordIndexName } from "./pg-search-schema.ts";
import {
  excludeQuery,
  includeQuery,
  keyQuery,
  likePattern,
  type SearchWindow,
  searchWindows,
} from "./pg-search-terms.ts";
import { MESSAGE_COLUMNS, toMessage } from "./rows.ts";
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
/** How long the table's size and age, which size the first window, are taken as they were. */
const STATS_FOR_MS = 60_000;
const HOUR_MS = 3_600_000;
/** What has:link looks for, as the contract says: http://, https:// or www. */
const LINK = "(https?://|www\\.)";

interface TableStats {
  readonly rowsPerMs: number;
  readonly oldestMs: number;
  readonly countedAt: number;
}

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
  #stats: Promise<TableStats> | undefined;

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
  }

  async search(query: SearchQuery): Promise<StoredMessage[]> {
    if (query.limit <= 0) return [];
    const stats = await this.#tableStats();
    const windows = searchWindows({
      oldestFirst: query.oldestFirst === true,
      nowMs: this.#now(),
      rowsPerMs: stats.rowsPerMs,
      oldestMs: stats.oldestMs,
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
    return `${this.#with(query, values)}
SELECT h.*, r.reactions FROM (
  SELECT * FROM (${parts.join("\nUNION ALL\n")}) AS windows LIMIT ${limit}
) AS h
LEFT JOIN LATERAL (
  SELECT json_agg(json_build_array(emoji, n, mine) ORDER BY first) AS reactions FROM (
    SELECT emoji, count(*) AS n, bool_or(user_id = ${viewer}::text) AS mine, min(added_id) AS first
    FROM ${s}.reactions WHERE room = h.room AND message_id = h.id GROUP BY emoji
  ) AS g
) AS r ON true
ORDER BY ${orderBy("h")}`;
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
    for (const term of query.include) {
      if (term.kind === "substring")
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

  /**
   * The rooms hidden from a reader who is not an admin, found once per
   * search and hashed, so that each candidate row costs a lookup, not two
   * index probes: where a ban is in force, and the invite-only rooms the
   * reader neither owns nor holds a role in (their roles by room_roles_user).
   * Direct-message rooms are never hidden this way: their names decide.
   */
  #with(query: SearchQuery, values: Values): string {
    if (query.admin) return "";
    const s = this.#s;
    const reader = values.add(query.reader);
    const dm = values.add(DM_PREFIX);
    const now = values.add(query.nowMs);
    return `WITH hidden AS MATERIALIZED (
  SELECT c.room FROM ${s}.room_records AS c
  WHERE c.invite_only AND c.owner <> ${reader} AND NOT starts_with(c.room, ${dm})
    AND c.room NOT IN (SELECT o.room FROM ${s}.room_roles AS o WHERE o.user_id = ${reader})
  UNION ALL
  SELECT b.room FROM ${s}.sanctions AS b
  WHERE b.user_id = ${reader} AND b.kind = 'ban' AND (b.until_ms = 0 OR b.until_ms > ${now})
    AND NOT starts_with(b.room, ${dm})
)`;
  }

  /**
   * How many rows the table holds per ms on average, and since when, counted
   * at most once a minute: only the first window's length depends on it, and
   * the windows that follow grow from there, so a stale count costs time,
   * never hits.
   */
  #tableStats(): Promise<TableStats> {
    const now = this.#now();
    const current = this.#stats;
    if (current) {
      return current.then((stats) =>
        now - stats.countedAt < STATS_FOR_MS ? stats : this.#count(now),
      );
    }
    return this.#count(now);
  }

  #count(now: number): Promise<TableStats> {
    const s = this.#s;
    const counting = this.#pool
      .query(
        // Each room's oldest row by its primary key: one probe per room.
        `SELECT (SELECT coalesce(sum(last_id - pruned_through), 0) FROM ${s}.rooms) AS n,
                (SELECT min(f.time_ms) FROM ${s}.rooms AS r CROSS JOIN LATERAL (
                   SELECT time_ms FROM ${s}.messages AS m WHERE m.room = r.room ORDER BY m.id LIMIT 1
                 ) AS f) AS oldest`,
      )
      .then(({ rows }) => {
        const oldestMs = rows[0]?.oldest === null ? now : Number(rows[0]?.oldest ?? now);
        const rows_ = Math.max(1, Number(rows[0]?.n ?? 0));
        return { rowsPerMs: rows_ / Math.max(HOUR_MS, now - oldestMs), oldestMs, countedAt: now };
      });
    this.#stats = counting;
    // A failed count is not kept: the next search counts again.
    counting.catch(() => {
      if (this.#stats === counting) this.#stats = undefined;
    });
    return counting;
  }
}
