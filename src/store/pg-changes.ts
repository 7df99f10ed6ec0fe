import type pg from "pg";
import type { WaitingAppend } from "./group-commit.ts";
import { isTransient, UNIQUE_VIOLATION } from "./pg-errors.ts";
import { changeResult, entryText, INSERT_COLUMNS } from "./rows.ts";
import { type AppendResult, CHANGE_KINDS, ChangeTargetError, type NewMessage } from "./store.ts";

type AppendAll = (
  client: pg.PoolClient,
  messages: readonly NewMessage[],
  timeMs: number,
) => Promise<AppendResult[]>;

/**
 * A group that holds change entries (edit, delete, react, unreact): one
 * transaction holding its rooms' rows, taken first and in name order as every
 * node takes them, so that each change reads and writes its target with no
 * other node's append or change to the room in between. Each call runs in a
 * savepoint, so a call that fails fails alone. Plain groups never come here
 * (AppendLanes sends them as one statement).
 */
export class PgChanges {
  readonly #s: string;
  readonly #appendAll: AppendAll;

  /** `appendAll` stores plain messages as AppendLanes does, on the given connection. */
  constructor(schema: string, appendAll: AppendAll) {
    this.#s = schema;
    this.#appendAll = appendAll;
  }

  /**
   * Commits `group` on `client` and settles each call. Throws only what
   * fails the whole group (the connection, the commit), after rolling back.
   */
  async commit(client: pg.PoolClient, group: WaitingAppend[], timeMs: number): Promise<void> {
    const outcomes: ({ ok: true; results: AppendResult[] } | { ok: false; error: unknown })[] = [];
    try {
      await client.query("BEGIN");
      const rooms = [...new Set(group.flatMap((call) => call.messages.map((m) => m.room)))];
      await client.query(
        `SELECT room FROM ${this.#s}.rooms WHERE room = ANY($1::text[]) ORDER BY room FOR UPDATE`,
        [rooms],
      );
      for (const call of group) outcomes.push(await this.#call(client, call.messages, timeMs));
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
    group.forEach((call, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) call.resolve(outcome.results);
      else call.reject(outcome?.error ?? new Error("no outcome for this append"));
    });
  }

  /**
   * One call in a savepoint. A send that another node stored first (the
   * unique index refused it) is tried once more: the new statement sees it
   * as the duplicate it is.
   */
  async #call(
    client: pg.PoolClient,
    messages: readonly NewMessage[],
    timeMs: number,
  ): Promise<{ ok: true; results: AppendResult[] } | { ok: false; error: unknown }> {
    await client.query("SAVEPOINT append_call");
    for (let attempt = 1; ; attempt++) {
      try {
        const results = await this.#messages(client, messages, timeMs);
        await client.query("RELEASE append_call");
        return { ok: true, results };
      } catch (error) {
        if (isTransient(error)) throw error;
        await client.query("ROLLBACK TO append_call");
        const raced = (error as { code?: unknown }).code === UNIQUE_VIOLATION;
        if (raced && attempt === 1) continue;
        await client.query("RELEASE append_call");
        return { ok: false, error };
      }
    }
  }

  async #messages(
    client: pg.PoolClient,
    messages: readonly NewMessage[],
    timeMs: number,
  ): Promise<AppendResult[]> {
    if (!messages.some((m) => CHANGE_KINDS.has(m.kind))) {
      return this.#appendAll(client, messages, timeMs);
    }
    const results: AppendResult[] = [];
    for (const message of messages) {
      if (CHANGE_KINDS.has(message.kind)) results.push(await this.#change(client, message, timeMs));
      else results.push(...(await this.#appendAll(client, [message], timeMs)));
    }
    return results;
  }

  /** Applies a change to its target and stores its entry, unless it changed nothing. */
  async #change(client: pg.PoolClient, change: NewMessage, timeMs: number): Promise<AppendResult> {
    const s = this.#s;
    const { room, userId, username, kind, text } = change;
    const targetId = change.refId ?? 0;
    const target = (
      await client.query(`SELECT kind, deleted FROM ${s}.messages WHERE room = $1 AND id = $2`, [
        room,
        targetId,
      ])
    ).rows[0];
    if (targetId <= 0 || target?.kind !== "chat") throw new ChangeTargetError("missing", targetId);
    let count = 0;
    if (kind === "delete") {
      if (target.deleted === true) return changeResult(change, 0, timeMs, 0);
      await client.query(
        `UPDATE ${s}.messages SET text = '', deleted = true WHERE room = $1 AND id = $2`,
        [room, targetId],
      );
      await client.query(`DELETE FROM ${s}.reactions WHERE room = $1 AND message_id = $2`, [
        room,
        targetId,
      ]);
    } else if (target.deleted === true) {
      throw new ChangeTargetError("deleted", targetId);
    } else if (kind === "edit") {
      await client.query(
        `UPDATE ${s}.messages SET text = $3, edited_ms = $4 WHERE room = $1 AND id = $2`,
        [room, targetId, text, timeMs],
      );
    } else {
      // The room's row is ours until the commit: its next id is the entry's.
      const { rowCount } =
        kind === "react"
          ? await client.query(
              // An emoji keeps its place while anyone still has it (as in SQLite).
              `INSERT INTO ${s}.reactions (room, message_id, emoji, user_id, added_id)
               SELECT $1, $2, $3, $4, coalesce(
                 (SELECT min(added_id) FROM ${s}.reactions
                  WHERE room = $1 AND message_id = $2 AND emoji = $3),
                 last_id + 1)
               FROM ${s}.rooms WHERE room = $1
               ON CONFLICT DO NOTHING`,
              [room, targetId, text, userId],
            )
          : await client.query(
              `DELETE FROM ${s}.reactions
               WHERE room = $1 AND message_id = $2 AND emoji = $3 AND user_id = $4`,
              [room, targetId, text, userId],
            );
      const counted = await client.query(
        `SELECT count(*) AS n FROM ${s}.reactions WHERE room = $1 AND message_id = $2 AND emoji = $3`,
        [room, targetId, text],
      );
      count = Number(counted.rows[0]?.n ?? 0);
      if (rowCount === 0) return changeResult(change, 0, timeMs, count);
    }
    const stored = await client.query(
      `WITH bumped AS (
         UPDATE ${s}.rooms SET last_id = last_id + 1 WHERE room = $1 RETURNING last_id
       )
       INSERT INTO ${s}.messages (${INSERT_COLUMNS})
       SELECT $1, last_id, $2, $3, $4, $5, $6, '', $7, $8 FROM bumped
       RETURNING id`,
      [room, timeMs, userId, username, entryText(change), kind, targetId, count],
    );
    return changeResult(change, Number(stored.rows[0]?.id), timeMs, count);
  }
}
