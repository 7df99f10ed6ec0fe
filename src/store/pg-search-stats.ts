// What sizes a search's first window: the table's rows per ms and the span
// of its messages, and the share of the rows a reader may read, each counted
// now and then, never per search. Also the rooms hidden from a reader, as
// SQL, which both the count here and every search use.
import type pg from "pg";
import { DM_PREFIX } from "../wire/room-names.ts";

/** How long a count is taken as it was: counts size windows, never decide hits. */
const COUNTS_FOR_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Readers whose share is remembered at once; past it the memory starts again. */
const READERS_KEPT = 10_000;

export interface TableStats {
  readonly rowsPerMs: number;
  readonly oldestMs: number;
  /** Undefined when the table holds no message. */
  readonly newestMs?: number;
}

/**
 * The rooms hidden from a reader who is not an admin, as a query over
 * parameters `reader`, `dm` (the prefix of direct-message rooms) and `now`:
 * where a ban is in force, and the invite-only rooms the reader neither owns
 * nor holds a role in (their roles by room_roles_user). Direct-message rooms
 * are never hidden this way: their names decide.
 */
export function hiddenRoomsSql(
  s: string,
  p: { readonly reader: string; readonly dm: string; readonly now: string },
): string {
  return `SELECT c.room FROM ${s}.room_records AS c
  WHERE c.invite_only AND c.owner <> ${p.reader} AND NOT starts_with(c.room, ${p.dm})
    AND c.room NOT IN (SELECT o.room FROM ${s}.room_roles AS o WHERE o.user_id = ${p.reader})
  UNION ALL
  SELECT b.room FROM ${s}.sanctions AS b
  WHERE b.user_id = ${p.reader} AND b.kind = 'ban' AND (b.until_ms = 0 OR b.until_ms > ${p.now})
    AND NOT starts_with(b.room, ${p.dm})`;
}

interface Counted<T> {
  readonly value: Promise<T>;
  readonly at: number;
}

export class SearchStats {
  readonly #pool: pg.Pool;
  readonly #s: string;
  readonly #now: () => number;
  #table: Counted<TableStats> | undefined;
  readonly #shares = new Map<string, Counted<number>>();

  constructor(pool: pg.Pool, schema: string, now: () => number) {
    this.#pool = pool;
    this.#s = schema;
    this.#now = now;
  }

  /** Rows per ms since the oldest message, and the newest message's time: a probe per room. */
  table(): Promise<TableStats> {
    const now = this.#now();
    if (this.#table && now - this.#table.at < COUNTS_FOR_MS) return this.#table.value;
    const s = this.#s;
    const value = this.#pool
      .query(
        `SELECT (SELECT coalesce(sum(last_id - pruned_through), 0) FROM ${s}.rooms) AS n,
                min(f.first) AS oldest, max(f.last) AS newest
         FROM ${s}.rooms AS r CROSS JOIN LATERAL (
           SELECT (SELECT time_ms FROM ${s}.messages AS m WHERE m.room = r.room
                   ORDER BY m.id LIMIT 1) AS first,
                  (SELECT time_ms FROM ${s}.messages AS m WHERE m.room = r.room
                   ORDER BY m.id DESC LIMIT 1) AS last
         ) AS f`,
      )
      .then(({ rows }): TableStats => {
        const row = rows[0];
        const oldestMs = row?.oldest == null ? now : Number(row.oldest);
        const count = Math.max(1, Number(row?.n ?? 0));
        const rowsPerMs = count / Math.max(HOUR_MS, now - oldestMs);
        return row?.newest == null
          ? { rowsPerMs, oldestMs }
          : { rowsPerMs, oldestMs, newestMs: Number(row.newest) };
      });
    this.#remember((counted) => {
      this.#table = counted;
    }, value);
    return value;
  }

  /** The share of the table's rows in rooms not hidden from `reader` (1 for all). */
  readableShare(reader: string, nowMs: number): Promise<number> {
    const now = this.#now();
    const kept = this.#shares.get(reader);
    if (kept && now - kept.at < COUNTS_FOR_MS) return kept.value;
    if (this.#shares.size >= READERS_KEPT) this.#shares.clear();
    const s = this.#s;
    const value = this.#pool
      .query(
        `WITH hidden AS (${hiddenRoomsSql(s, { reader: "$1", dm: "$2", now: "$3" })})
         SELECT (SELECT coalesce(sum(last_id - pruned_through), 0) FROM ${s}.rooms) AS n,
                (SELECT coalesce(sum(r.last_id - r.pruned_through), 0) FROM ${s}.rooms AS r
                 WHERE r.room IN (SELECT room FROM hidden)) AS hidden`,
        [reader, DM_PREFIX, nowMs],
      )
      .then(({ rows }) => {
        const all = Number(rows[0]?.n ?? 0);
        return all > 0 ? Math.max(0, 1 - Number(rows[0]?.hidden ?? 0) / all) : 1;
      });
    this.#remember((counted) => {
      if (counted) this.#shares.set(reader, counted);
      else this.#shares.delete(reader);
    }, value);
    return value;
  }

  /** Keeps a count being made, and forgets it if it fails, so the next search counts again. */
  #remember<T>(keep: (counted: Counted<T> | undefined) => void, value: Promise<T>): void {
    const counted = { value, at: this.#now() };
    keep(counted);
    value.catch(() => keep(undefined));
  }
}
