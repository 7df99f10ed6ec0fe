import type pg from "pg";
import { GroupCommit, type WaitingAppend } from "./group-commit.ts";
import { PgChanges } from "./pg-changes.ts";
import { isTransient, UNIQUE_VIOLATION } from "./pg-errors.ts";
import { INSERT_COLUMNS, toMessage } from "./rows.ts";
import { type AppendResult, CHANGE_KINDS, type NewMessage } from "./store.ts";

/**
 * Any number of messages, in any rooms, in one statement, so one commit:
 * each message's earlier copy when its client sent it before (no id taken),
 * else its room's next id (a send repeated within the messages is the
 * duplicate of its first copy). Each room's row is bumped once by its count of
 * new messages, rooms in name order, as every node does, so two nodes never
 * wait for each other in a circle; the row stays locked until the commit, so
 * no reader sees an id before the ones below it. `client_msg_id <> ''` is
 * spelled out so that a generic plan still uses the partial unique index.
 */
function appendSql(s: string): string {
  return `WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $8::bigint[])
    WITH ORDINALITY AS t(room, user_id, username, text, kind, client_msg_id, ref_id, ord)
), keyed AS (
  SELECT i.*, CASE WHEN i.client_msg_id = '' THEN i.ord
    ELSE min(i.ord) OVER (PARTITION BY i.room, i.user_id, i.client_msg_id) END AS first
  FROM input i
), dup AS (
  SELECT k.ord, m.room, m.id, m.time_ms, m.user_id, m.username, m.text, m.kind, m.client_msg_id,
         m.ref_id
  FROM keyed k JOIN ${s}.messages m
    ON m.client_msg_id <> '' AND m.room = k.room AND m.user_id = k.user_id
   AND m.client_msg_id = k.client_msg_id
), fresh AS (
  SELECT k.*, row_number() OVER (PARTITION BY k.room ORDER BY k.ord) AS n,
         count(*) OVER (PARTITION BY k.room) AS c
  FROM keyed k WHERE k.first = k.ord AND NOT EXISTS (SELECT 1 FROM dup d WHERE d.ord = k.ord)
), bumped AS (
  INSERT INTO ${s}.rooms AS r (room, last_id)
  SELECT room, max(c) FROM fresh GROUP BY room ORDER BY room
  ON CONFLICT (room) DO UPDATE SET last_id = r.last_id + EXCLUDED.last_id
  RETURNING room, last_id
), numbered AS (
  SELECT f.ord, f.room, b.last_id - f.c + f.n AS id, f.user_id, f.username, f.text, f.kind,
         f.client_msg_id, f.ref_id
  FROM fresh f JOIN bumped b ON b.room = f.room
), stored AS (
  INSERT INTO ${s}.messages (${INSERT_COLUMNS})
  SELECT room, id, $7::bigint, user_id, username, text, kind, client_msg_id, ref_id, 0
  FROM numbered
)
SELECT false AS duplicate, ord, room, id, $7::bigint AS time_ms, user_id, username, text, kind,
       client_msg_id, ref_id
FROM numbered
UNION ALL
SELECT true, ord, room, id, time_ms, user_id, username, text, kind, client_msg_id, ref_id FROM dup
UNION ALL
SELECT true, k.ord, n.room, n.id, $7::bigint, n.user_id, n.username, n.text, n.kind, n.client_msg_id,
       n.ref_id
FROM keyed k JOIN numbered n ON n.ord = k.first
WHERE k.first <> k.ord AND NOT EXISTS (SELECT 1 FROM dup d WHERE d.ord = k.ord)
ORDER BY ord`;
}

/**
 * Appends wait in lanes, a room always in the same one; each lane commits a
 * group at a time on a connection: everything that arrived while its last
 * group was committing goes in the next statement, and when that statement
 * fails, each call in a statement of its own, so a call that fails fails
 * alone. One room's appends on a node keep their order; other rooms' go on
 * beside them. A room's next id comes from its `rooms` row, locked until the
 * transaction ends: appends to one room from several nodes take turns, and no
 * reader sees an id before the ones below it are committed. A group takes its
 * rooms' rows in name order, as every node does, so two nodes' groups never
 * wait for each other in a circle.
 */
export class AppendLanes {
  readonly #pool: pg.Pool;
  readonly #appendSql: string;
  readonly #appendName: string;
  readonly #now: () => number;
  readonly #changes: PgChanges;
  /** Appends wait in a lane chosen by room, and each lane commits a group at a time. */
  readonly #lanes: GroupCommit[];

  /** `now` stamps each group's messages; `lanes` is how many groups may commit at once. */
  constructor(pool: pg.Pool, schema: string, now: () => number, lanes: number) {
    this.#pool = pool;
    this.#lanes = Array.from(
      { length: Math.max(1, lanes) },
      () => new GroupCommit({ commit: (group) => this.#commit(group) }),
    );
    this.#appendSql = appendSql(schema);
    // A prepared statement is per connection; its name must stand for one text.
    this.#appendName = `append_${schema}`;
    this.#now = now;
    this.#changes = new PgChanges(schema, (client, messages, timeMs) =>
      this.#appendAll(client, messages, timeMs),
    );
  }

  append(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    const lane = this.#lanes[laneOf(messages[0]?.room ?? "", this.#lanes.length)];
    if (!lane) return Promise.reject(new Error("no lane for an append"));
    return lane.append(messages);
  }

  async #commit(group: WaitingAppend[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      for (const call of group) call.reject(error);
      return;
    }
    const timeMs = this.#now();
    let broken: unknown;
    try {
      // Changes take another path; a group of plain messages never looks at them.
      if (group.some((call) => call.messages.some((m) => CHANGE_KINDS.has(m.kind)))) {
        await this.#changes.commit(client, group, timeMs);
        return;
      }
      let results: AppendResult[] | undefined;
      try {
        results = await this.#appendAll(
          client,
          group.flatMap((call) => call.messages),
          timeMs,
        );
      } catch (error) {
        if (isTransient(error)) throw error;
      }
      if (results) {
        let next = 0;
        for (const call of group) {
          call.resolve(results.slice(next, next + call.messages.length));
          next += call.messages.length;
        }
        return;
      }
      // Something in the group cannot be stored: each call on its own, so
      // that a call that fails fails alone.
      for (const call of group) {
        try {
          call.resolve(
            await retryOnceIfRaced(() => this.#appendAll(client, call.messages, timeMs)),
          );
        } catch (error) {
          if (isTransient(error)) throw error;
          call.reject(error);
        }
      }
    } catch (error) {
      broken = error;
      // Calls already answered keep their answer.
      for (const call of group) call.reject(error);
    } finally {
      client.release(broken instanceof Error && isTransient(broken) ? broken : undefined);
    }
  }

  /** Stores `messages` in one statement (so one commit), or none of them. */
  async #appendAll(
    client: pg.PoolClient,
    messages: readonly NewMessage[],
    timeMs: number,
  ): Promise<AppendResult[]> {
    const column = (pick: (message: NewMessage) => string) => messages.map(pick);
    const values = [
      column((m) => m.room),
      column((m) => m.userId),
      column((m) => m.username),
      column((m) => m.text),
      column((m) => m.kind),
      column((m) => m.clientMsgId),
      timeMs,
      messages.map((m) => m.refId ?? 0),
    ];
    // Prepared once per connection: the statement is parsed and planned once.
    const { rows } = await client.query({ name: this.#appendName, text: this.#appendSql, values });
    if (rows.length !== messages.length) {
      throw new Error(`PostgreSQL answered ${rows.length} rows for ${messages.length} messages.`);
    }
    return rows.map((row) => ({ message: toMessage(row), duplicate: row.duplicate === true }));
  }
}

/** A room's lane: the same room always in the same lane. */
function laneOf(room: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < room.length; i++) hash = (hash * 31 + room.charCodeAt(i)) | 0;
  return Math.abs(hash) % lanes;
}

/**
 * The same send committed by another node after this statement began (both
 * read no duplicate, then the unique index refused the second): a new
 * statement sees it, and answers it as the duplicate it is.
 */
function isRace(error: unknown): boolean {
  return (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

async function retryOnceIfRaced<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isRace(error)) throw error;
    return work();
  }
}
