// The PostgreSQL store's search: one statement per search, walking time
// windows in the search's order (see pg-search-terms.ts) and stopping at the
// limit, with who may read what inside every window's query.
import type pg from "pg";
import { DM_PREFIX } from "../wire/room-names.ts";
import { isTransient } from "./pg-errors.ts";
import { INDEXED_ROWS } from "./pg-search-schema.ts";
import {
  bucketQuery,
  excludeQuery,
  includeQuery,
  likePattern,
  type SearchWindow,
  searchWindows,
} from "./pg-search-terms.ts";
import { MESSAGE_COLUMNS, toMessage } from "./rows.ts";
import type { SearchQuery, StoredMessage } from "./store.ts";

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

export class PgSearch {
  readonly #pool: pg.Pool;
  readonly #s: string;
  readonly #language: string;
  readonly #now: () => number;
  #stats: Promise<TableStats> | undefined;

  constructor(pool: pg.Pool, schema: string, language: string, now: () => number) {
    this.#pool = pool;
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
    const sql = this.#statement(query, windows, values);
    const client = await this.#pool.connect();
    let broken: unknown;
    try {
      // Parallel workers would cost more to start than a page costs to find,
      // and a parallel Append could mix the windows' order; JIT compiles for
      // longer than the query runs.
      await client.query(
        "BEGIN READ ONLY; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off",
      );
      const { rows } = await client.query(sql, values.list);
      await client.query("COMMIT");
      return rows.map(toMessage);
    } catch (error) {
      broken = error;
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken instanceof Error && isTransient(broken) ? broken : undefined);
    }
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
    const parts = windows
      .filter((window) => window.buckets === undefined || window.buckets.length > 0)
      .map((window) => {
        const where = [...common];
        if (window.lo !== undefined) where.push(`m.time_ms >= ${values.add(window.lo)}`);
        if (window.hi !== undefined) where.push(`m.time_ms < ${values.add(window.hi)}`);
        if (window.buckets) {
          where.push(
            `${s}.search_buckets(m.time_ms) @@ ${values.add(bucketQuery(window.buckets))}::tsquery`,
          );
        }
        return `(SELECT ${MESSAGE_COLUMNS.replaceAll(/(\w+)/g, "m.$1")} FROM ${s}.messages AS m
  WHERE ${where.join("\n    AND ")}
  ORDER BY ${orderBy("m")} LIMIT ${limit})`;
      });
    const viewer = values.add(query.reader);
    return `SELECT h.*, r.reactions FROM (
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
   * unless a ban is in force there, or it is invite-only and the reader
   * neither owns it nor holds a role in it; admins skip those two checks.
   */
  #readable(query: SearchQuery, values: Values): string[] {
    const s = this.#s;
    const reader = values.add(query.reader);
    const dm = values.add(DM_PREFIX);
    const conditions = [
      `(NOT starts_with(m.room, ${dm}) OR strpos(m.room || ':', ':' || ${reader} || ':') > 0)`,
    ];
    if (query.admin) return conditions;
    const now = values.add(query.nowMs);
    conditions.push(
      `NOT EXISTS (SELECT 1 FROM ${s}.sanctions AS b
        WHERE b.room = m.room AND b.user_id = ${reader} AND b.kind = 'ban'
          AND (b.until_ms = 0 OR b.until_ms > ${now}) AND NOT starts_with(b.room, ${dm}))`,
      `NOT EXISTS (SELECT 1 FROM ${s}.room_records AS c
        WHERE c.room = m.room AND c.invite_only AND c.owner <> ${reader}
          AND NOT starts_with(c.room, ${dm})
          AND NOT EXISTS (SELECT 1 FROM ${s}.room_roles AS o
            WHERE o.room = c.room AND o.user_id = ${reader}))`,
    );
    return conditions;
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
