// The PostgreSQL store's SQL for reading messages in their current state,
// read markers and unread counts; PgStore runs it.
import { foldedNames, MESSAGE_COLUMNS } from "./rows.ts";
import type { RoomId, UnreadCount } from "./store.ts";

const columns = (alias: string) =>
  MESSAGE_COLUMNS.split(", ")
    .map((column) => `${alias}.${column}`)
    .join(", ");

/**
 * Each message of `page` (a subquery) with its reactions, emoji in
 * first-added order, `mine` for the viewer (the parameter `viewer`); one
 * probe of the reactions' primary key per message.
 */
export function withReactions(s: string, page: string, viewer: string): string {
  return `SELECT ${columns("m")}, r.reactions FROM (${page}) AS m
LEFT JOIN LATERAL (
  SELECT json_agg(json_build_array(emoji, n, mine) ORDER BY first) AS reactions FROM (
    SELECT emoji, count(*) AS n, bool_or(user_id = ${viewer}::text) AS mine, min(added_id) AS first
    FROM ${s}.reactions WHERE room = m.room AND message_id = m.id GROUP BY emoji
  ) AS g
) AS r ON true`;
}

/** $1 room, $2 before id, $3 limit, $4 viewer. */
export function historySql(s: string, includeSystem: boolean): string {
  const kinds = includeSystem ? "'chat', 'system'" : "'chat'";
  return `${withReactions(
    s,
    `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages
     WHERE room = $1 AND id < $2 AND kind IN (${kinds}) ORDER BY id DESC LIMIT $3`,
    "$4",
  )}
ORDER BY m.id DESC`;
}

/** $1 room, $2 id, $3 viewer. */
export function messageSql(s: string): string {
  return withReactions(
    s,
    `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages
     WHERE room = $1 AND id = $2 AND kind IN ('chat', 'system')`,
    "$3",
  );
}

/**
 * $1 room, $2 after id, $3 limit; one statement, so the page and how far
 * retention went are one snapshot. An edit entry keeps no text: it reads its
 * target's text now.
 */
export function afterSql(s: string, includeSystem: boolean): string {
  const text = `CASE WHEN kind = 'edit' THEN coalesce(
    (SELECT t.text FROM ${s}.messages AS t WHERE t.room = e.room AND t.id = e.ref_id), '')
    ELSE text END AS text`;
  return `SELECT coalesce((SELECT pruned_through FROM ${s}.rooms WHERE room = $1), 0) AS pruned, m.*
FROM (SELECT 1) AS one LEFT JOIN LATERAL (
  SELECT ${MESSAGE_COLUMNS.replace("text,", `${text},`)} FROM ${s}.messages AS e
  WHERE room = $1 AND id > $2 ${includeSystem ? "" : "AND kind <> 'system'"}
  ORDER BY id LIMIT $3
) AS m ON true`;
}

/** $1 user, $2 room, $3 id: raises the marker, never lowers it, and returns it. */
export function markReadSql(s: string): string {
  return `INSERT INTO ${s}.read_markers AS r (user_id, room, last_read_id) VALUES ($1, $2, $3)
ON CONFLICT (user_id, room) DO UPDATE SET last_read_id = greatest(r.last_read_id, excluded.last_read_id)
RETURNING last_read_id`;
}

/**
 * $1 user, $2 rooms, $3 whether each counts from the start without a
 * marker, $4 cap, $5 folded names. Per room: its marker, and its unread
 * messages newest first, at most the cap (a room far behind costs at most
 * that), each with its text only when it holds a name. position() rather than
 * LIKE: names may hold % and _.
 */
export function unreadSql(s: string): string {
  return `SELECT q.ord, k.last_read_id, u.id, u.text
FROM unnest($2::text[], $3::boolean[]) WITH ORDINALITY AS q(room, from_start, ord)
LEFT JOIN ${s}.read_markers AS k ON k.user_id = $1 AND k.room = q.room
LEFT JOIN LATERAL (
  SELECT m.id, CASE WHEN EXISTS (
      SELECT 1 FROM unnest($5::text[]) AS n(name) WHERE position(n.name IN lower(m.text)) > 0
    ) THEN m.text END AS text
  FROM ${s}.messages AS m
  WHERE m.room = q.room
    AND m.id > coalesce(k.last_read_id, CASE WHEN q.from_start THEN 0 END)
    AND m.kind = 'chat' AND NOT m.deleted AND m.user_id <> $1
  ORDER BY m.id DESC LIMIT $4
) AS u ON true
ORDER BY q.ord, u.id DESC`;
}

export function unreadValues(
  userId: string,
  rooms: readonly RoomId[],
  options: { cap: number; mentionNames: readonly string[]; fromStart: ReadonlySet<RoomId> },
): unknown[] {
  return [
    userId,
    rooms,
    rooms.map((room) => options.fromStart.has(room)),
    options.cap,
    foldedNames(options.mentionNames),
  ];
}

export function toUnreadCounts(
  rooms: readonly RoomId[],
  rows: readonly Record<string, unknown>[],
): UnreadCount[] {
  const counts = rooms.map((room) => ({
    room,
    lastReadId: 0,
    unread: 0,
    mentionCandidates: [] as string[],
  }));
  for (const row of rows) {
    const count = counts[Number(row.ord) - 1];
    if (!count) continue;
    count.lastReadId = Number(row.last_read_id ?? 0);
    if (row.id === null) continue;
    count.unread++;
    if (row.text !== null) count.mentionCandidates.push(String(row.text));
  }
  return counts;
}
