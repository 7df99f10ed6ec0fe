import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { MessageId, RetentionPolicy, RoomId } from "./store.ts";

/**
 * Most rows one prune transaction removes: an append waits for at most one
 * such batch. Each deleted row is also taken out of the search indexes with
 * secure-delete (about 2.5 ms of the worker per row), so a batch is small.
 */
export const PRUNE_BATCH = 50;

/** A prune in progress, advanced one transaction at a time by `Pruner.step`. */
export interface PruneJob {
  /** The rooms that had messages when the prune began, each with its maxPerRoom cutoff. */
  readonly rooms: readonly { readonly room: RoomId; readonly cutoff: MessageId }[];
  readonly olderThanMs: number;
  /** The room being pruned; rooms before it are done. */
  index: number;
  removed: number;
  /** Rooms deleted since the job began: their names' new messages are not the old ones. */
  readonly deleted: Set<RoomId>;
}

/** Retention's SQL, on the store's one connection. */
export class Pruner {
  readonly #db: DatabaseSync;
  readonly #lastId: (room: RoomId) => MessageId;
  readonly #rooms: StatementSync;
  readonly #oldest: StatementSync;
  readonly #deleteThrough: StatementSync;
  readonly #deleteChangesThrough: StatementSync;
  readonly #deleteReactionsThrough: StatementSync;
  readonly #raisePrunedThrough: StatementSync;
  // Jobs begun and not yet done, for `forget`.
  readonly #jobs = new Set<PruneJob>();

  /** `lastId` is the room's newest id ever given, as the appends see it. */
  constructor(db: DatabaseSync, lastId: (room: RoomId) => MessageId) {
    this.#db = db;
    this.#lastId = lastId;
    // One primary-key seek per room rather than a walk over every message.
    this.#rooms = db.prepare(`
WITH RECURSIVE r(room) AS (
  SELECT min(room) FROM messages
  UNION ALL
  SELECT (SELECT min(room) FROM messages WHERE room > r.room) FROM r WHERE r.room IS NOT NULL
)
SELECT room FROM r WHERE room IS NOT NULL`);
    this.#oldest = db.prepare(
      "SELECT id, time_ms FROM messages WHERE room = ? ORDER BY id LIMIT ?",
    );
    this.#deleteThrough = db.prepare("DELETE FROM messages WHERE room = ? AND id <= ?");
    // A message's change entries have higher ids than it, maybe above what
    // the policy removes, but mean nothing without it. The predicate repeats
    // messages_changes' own, so that index is used.
    this.#deleteChangesThrough = db.prepare(
      "DELETE FROM messages WHERE room = ? AND ref_id <> 0 AND kind <> 'chat' AND ref_id <= ?",
    );
    this.#deleteReactionsThrough = db.prepare(
      "DELETE FROM reactions WHERE room = ? AND message_id <= ?",
    );
    this.#raisePrunedThrough = db.prepare(
      `INSERT INTO rooms (room, pruned_through) VALUES (?, ?)
       ON CONFLICT (room) DO UPDATE SET pruned_through = max(pruned_through, excluded.pruned_through)`,
    );
  }

  /** Fixes what `policy` will remove: the rooms that have messages now, and their cutoffs. */
  start(policy: RetentionPolicy): PruneJob {
    const { maxPerRoom, olderThanMs } = policy;
    const rooms =
      maxPerRoom === undefined && olderThanMs === undefined
        ? []
        : this.#rooms.all().map((row) => {
            const room = String(row.room);
            return { room, cutoff: maxPerRoom === undefined ? 0 : this.#lastId(room) - maxPerRoom };
          });
    const job: PruneJob = {
      rooms,
      olderThanMs: olderThanMs ?? Number.NEGATIVE_INFINITY,
      index: 0,
      removed: 0,
      deleted: new Set(),
    };
    this.#jobs.add(job);
    return job;
  }

  /**
   * A room was deleted: jobs under way leave it alone, since a cutoff fixed
   * from its old ids would take the messages its name gets next.
   */
  forget(room: RoomId): void {
    for (const job of this.#jobs) job.deleted.add(room);
  }

  /**
   * Removes at most PRUNE_BATCH messages of `job` in one transaction, each
   * room from its oldest id up to the first one the policy keeps, raising the
   * room's pruned_through in the same transaction (so every id up to it is
   * gone). The change entries and reactions of the messages removed go in the
   * same transaction, and count as removed. Returns true when the job is done.
   */
  step(job: PruneJob): boolean {
    const startIndex = job.index;
    let budget = PRUNE_BATCH;
    let changesRemoved = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      while (budget > 0 && job.index < job.rooms.length) {
        const { room, cutoff } = job.rooms[job.index] as PruneJob["rooms"][number];
        if (job.deleted.has(room)) {
          job.index++;
          continue;
        }
        let through = 0;
        let count = 0;
        let kept = false;
        for (const row of this.#oldest.iterate(room, budget)) {
          if (Number(row.id) > cutoff && Number(row.time_ms) >= job.olderThanMs) {
            kept = true;
            break;
          }
          through = Number(row.id);
          count++;
        }
        if (count > 0) {
          this.#deleteThrough.run(room, through);
          changesRemoved += Number(this.#deleteChangesThrough.run(room, through).changes);
          this.#deleteReactionsThrough.run(room, through);
          this.#raisePrunedThrough.run(room, through);
        }
        // A full batch may have left more of this room for the next step.
        if (kept || count < budget) job.index++;
        budget -= count;
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      // The error being reported matters more than a rollback that fails too.
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {}
      }
      job.index = startIndex;
      // The worker ends a job that failed; it is not tried again.
      this.#jobs.delete(job);
      throw error;
    }
    job.removed += PRUNE_BATCH - budget + changesRemoved;
    const done = job.index >= job.rooms.length;
    if (done) this.#jobs.delete(job);
    return done;
  }
}
