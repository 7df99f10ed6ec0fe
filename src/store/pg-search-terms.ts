// A search's terms as PostgreSQL takes them, and the time windows a newest-
// first search walks through: plain functions, no SQL run here.
import type { SearchCursor, SearchTerm } from "./store.ts";

/**
 * Time buckets, each a lexeme of every indexed message ("~c25801": the
 * message's time_ms >> 26), 16 times longer from one level to the next: from
 * about 4 minutes to about 9 years. A window of time is a handful of them
 * OR-ed, so the index itself keeps a search to the window, and a common word's
 * newest hits cost only the rows of the first window instead of all its rows.
 */
export const SEARCH_LEVELS = [
  { name: "a", shift: 18 },
  { name: "b", shift: 22 },
  { name: "c", shift: 26 },
  { name: "d", shift: 30 },
  { name: "e", shift: 34 },
  { name: "f", shift: 38 },
] as const;

/** How far after the store's clock a newest-first search still looks (other nodes' clocks). */
const FUTURE_MS = 2 ** 40;
/** Rows, at the table's average rate, the first window is sized to hold. */
const FIRST_WINDOW_ROWS = 1_000;
/**
 * Each window is this many times longer than the one before: the last one
 * searched holds at most about this many times the hits the page needed.
 */
const GROWTH = 4;
/** The smallest readable share a first window is sized for. */
const MIN_SHARE = 0.01;
/** Windows with buckets (to 4,096 times the first); after them one for the rest. */
const BUCKETED_WINDOWS = 7;

/** A lexeme in tsquery syntax, quoted, so that nothing in it is an operator. */
function lexeme(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** Words adjacent and in order (`<->`), the last one a prefix when asked. */
function phrase(term: Extract<SearchTerm, { kind: "words" }>): string | undefined {
  if (term.words.length === 0) return undefined;
  const last = term.words.length - 1;
  const parts = term.words.map((word, i) => lexeme(word) + (i === last && term.prefix ? ":*" : ""));
  return `(${parts.join(" <-> ")})`;
}

const wordsOf = (terms: readonly SearchTerm[]) =>
  terms.flatMap((term) => {
    if (term.kind !== "words") return [];
    const text = phrase(term);
    return text === undefined ? [] : [text];
  });

/**
 * Text for to_tsquery: every words term of `include`, AND-ed (undefined when
 * there is none). to_tsquery, rather than a cast, so that a configuration
 * other than 'simple' treats the words as it treated the messages' words.
 */
export function includeQuery(include: readonly SearchTerm[]): string | undefined {
  const parts = wordsOf(include);
  return parts.length > 0 ? parts.join(" & ") : undefined;
}

/** Text for to_tsquery: any words term of `exclude`, OR-ed (undefined when there is none). */
export function excludeQuery(exclude: readonly SearchTerm[]): string | undefined {
  const parts = wordsOf(exclude);
  return parts.length > 0 ? parts.join(" | ") : undefined;
}

/** A substring as a LIKE pattern: anywhere, with LIKE's own characters taken literally. */
export function likePattern(text: string): string {
  return `%${text.replaceAll("\\", "\\\\").replaceAll("%", "\\%").replaceAll("_", "\\_")}%`;
}

/**
 * The bucket lexemes that together hold exactly the times [lo, hi), widened
 * to whole buckets of the finest level: the longest bucket that fits at each
 * step, so a window is a few dozen lexemes at most.
 */
export function bucketCover(lo: number, hi: number): string[] {
  if (hi <= lo) return [];
  const finest = 2 ** SEARCH_LEVELS[0].shift;
  let at = Math.floor(Math.max(0, lo) / finest) * finest;
  const end = Math.ceil(hi / finest) * finest;
  const cover: string[] = [];
  while (at < end) {
    let level: (typeof SEARCH_LEVELS)[number] = SEARCH_LEVELS[0];
    for (const candidate of SEARCH_LEVELS) {
      const size = 2 ** candidate.shift;
      if (at % size === 0 && at + size <= end) level = candidate;
    }
    cover.push(`~${level.name}${Math.floor(at / 2 ** level.shift)}`);
    at += 2 ** level.shift;
  }
  return cover;
}

/** Key lexemes (buckets, rooms) as tsquery text: any of them. */
export function keyQuery(keys: readonly string[]): string {
  return keys.map(lexeme).join(" | ");
}

/**
 * A slice of time searched as one step: rows with lo <= time_ms < hi
 * (either end open when undefined), found through `buckets` when set.
 */
export interface SearchWindow {
  readonly lo?: number;
  readonly hi?: number;
  readonly buckets?: readonly string[];
}

export interface WindowPlan {
  readonly oldestFirst: boolean;
  /** The store's clock. */
  readonly nowMs: number;
  readonly afterMs?: number;
  readonly beforeMs?: number;
  readonly after?: SearchCursor;
  /** Chat rows per ms on average, and the oldest and newest one's time, as last counted. */
  readonly rowsPerMs: number;
  readonly oldestMs: number;
  readonly newestMs?: number;
  /** The share of the rows the reader may read (1 when all), so a first window holds their hits too. */
  readonly readableShare?: number;
}

/**
 * The windows a search takes in turn, the first one where its first hits
 * are likely to be, each the next stretch of time in the search's order and
 * GROWTH times longer, the last one open-ended. Together they cover all time
 * exactly once, so reading them in turn and stopping at the limit gives the
 * same hits as one sorted scan would.
 */
export function searchWindows(plan: WindowPlan): SearchWindow[] {
  const first = Math.ceil(
    Math.max(
      2 ** SEARCH_LEVELS[0].shift,
      FIRST_WINDOW_ROWS / (plan.rowsPerMs * Math.max(MIN_SHARE, plan.readableShare ?? 1)),
    ),
  );
  return plan.oldestFirst ? oldestFirstWindows(plan, first) : newestFirstWindows(plan, first);
}

function newestFirstWindows(plan: WindowPlan, first: number): SearchWindow[] {
  const top = Math.min(
    plan.beforeMs ?? Number.POSITIVE_INFINITY,
    plan.after ? plan.after.timeMs + 1 : Number.POSITIVE_INFINITY,
  );
  const bounded = Number.isFinite(top);
  // From the newest message when it is older: a quiet server's first windows
  // would be empty. The first window is open above its anchor, so a newer
  // message than counted is still in it.
  const anchor = Math.min(bounded ? top : plan.nowMs, plan.newestMs ?? Number.POSITIVE_INFINITY);
  const bottom = Math.max(plan.afterMs ?? Number.NEGATIVE_INFINITY, plan.oldestMs);
  const windows: SearchWindow[] = [];
  let hi: number | undefined = bounded ? top : undefined;
  for (let i = 0; i < BUCKETED_WINDOWS; i++) {
    const lo = anchor - first * GROWTH ** i;
    if (lo <= bottom) break;
    const buckets = bucketCover(lo, hi ?? anchor + FUTURE_MS);
    windows.push({ lo, ...(hi === undefined ? {} : { hi }), buckets });
    hi = lo;
  }
  // The rest. Down to after: through buckets; otherwise to the start of
  // time without them, since the oldest time counted may be stale (an
  // import of older history since).
  const rest =
    plan.afterMs === undefined
      ? {}
      : { buckets: bucketCover(plan.afterMs, hi ?? anchor + FUTURE_MS) };
  windows.push({ ...(hi === undefined ? {} : { hi }), ...rest });
  return windows;
}

function oldestFirstWindows(plan: WindowPlan, first: number): SearchWindow[] {
  const bottom = Math.max(
    plan.afterMs ?? Number.NEGATIVE_INFINITY,
    plan.after ? plan.after.timeMs : Number.NEGATIVE_INFINITY,
  );
  const bounded = Number.isFinite(bottom);
  const anchor = bounded ? bottom : plan.oldestMs;
  const top = Math.min(plan.beforeMs ?? Number.POSITIVE_INFINITY, plan.nowMs);
  const windows: SearchWindow[] = [];
  let lo: number | undefined = bounded ? bottom : undefined;
  for (let i = 0; i < BUCKETED_WINDOWS; i++) {
    const hi = anchor + first * GROWTH ** i;
    // An unbounded first window reaches back to time 0: the oldest time
    // counted may be stale (an import of older history since).
    windows.push({
      ...(lo === undefined ? {} : { lo }),
      hi,
      buckets: bucketCover(lo ?? 0, hi),
    });
    lo = hi;
    if (hi >= top) break;
  }
  // The rest, up to before: through buckets, or open-ended (other nodes' clocks).
  const rest = plan.beforeMs === undefined ? {} : { buckets: bucketCover(lo ?? 0, plan.beforeMs) };
  windows.push({ ...(lo === undefined ? {} : { lo }), ...rest });
  return windows;
}
