import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ChangeTargetError, type MessageId, type NewMessage } from "./store.ts";

/** What applying a change did: nothing (`changed` false: store no entry), and an emoji's count. */
export interface ChangeOutcome {
  readonly changed: boolean;
  /** react/unreact: users with this emoji on the target now; else 0. */
  readonly count: number;
  /** The target's text was replaced or erased, so freed space holds old text until a checkpoint. */
  readonly erased: boolean;
}

const UNCHANGED = (count: number): ChangeOutcome => ({ changed: false, count, erased: false });

/**
 * Applies change entries to their targets, inside the append's transaction
 * (MessageDatabase.appendGroup). Only change kinds come here, so a plain
 * message's append runs none of these statements.
 */
export class SqliteChanges {
  readonly #target: StatementSync;
  readonly #edit: StatementSync;
  readonly #erase: StatementSync;
  readonly #dropReactions: StatementSync;
  readonly #react: StatementSync;
  readonly #unreact: StatementSync;
  readonly #countOf: StatementSync;

  constructor(db: DatabaseSync) {
    this.#target = db.prepare("SELECT kind, deleted FROM messages WHERE room = ? AND id = ?");
    this.#edit = db.prepare(
      "UPDATE messages SET text = ?, edited_ms = ? WHERE room = ? AND id = ?",
    );
    this.#erase = db.prepare(
      "UPDATE messages SET text = '', deleted = 1 WHERE room = ? AND id = ?",
    );
    this.#dropReactions = db.prepare("DELETE FROM reactions WHERE room = ? AND message_id = ?");
    // An emoji keeps its place while anyone still has it: a new reactor takes
    // its first added_id, as a client applying the entries in order keeps it.
    this.#react = db.prepare(
      `INSERT INTO reactions (room, message_id, emoji, user_id, added_id)
       SELECT ?1, ?2, ?3, ?4, coalesce(
         (SELECT min(added_id) FROM reactions WHERE room = ?1 AND message_id = ?2 AND emoji = ?3),
         ?5)
       ON CONFLICT DO NOTHING`,
    );
    this.#unreact = db.prepare(
      "DELETE FROM reactions WHERE room = ? AND message_id = ? AND emoji = ? AND user_id = ?",
    );
    this.#countOf = db.prepare(
      "SELECT count(*) AS n FROM reactions WHERE room = ? AND message_id = ? AND emoji = ?",
    );
  }

  /**
   * Applies `change` (kind edit, delete, react or unreact) to its target as
   * the entry `id` would, at `timeMs`. Throws ChangeTargetError, having
   * written nothing, when the target is not a live chat message of the room.
   */
  apply(change: NewMessage, id: MessageId, timeMs: number): ChangeOutcome {
    const { room, userId, text } = change;
    const targetId = change.refId ?? 0;
    const target = targetId > 0 ? this.#target.get(room, targetId) : undefined;
    if (target?.kind !== "chat") throw new ChangeTargetError("missing", targetId);
    const deleted = Number(target.deleted) === 1;
    if (change.kind === "delete") {
      if (deleted) return UNCHANGED(0);
      this.#erase.run(room, targetId);
      this.#dropReactions.run(room, targetId);
      return { changed: true, count: 0, erased: true };
    }
    if (deleted) throw new ChangeTargetError("deleted", targetId);
    switch (change.kind) {
      case "edit":
        this.#edit.run(text, timeMs, room, targetId);
        return { changed: true, count: 0, erased: true };
      case "react":
      case "unreact": {
        const { changes } =
          change.kind === "react"
            ? this.#react.run(room, targetId, text, userId, id)
            : this.#unreact.run(room, targetId, text, userId);
        const count = Number(this.#countOf.get(room, targetId, text)?.n ?? 0);
        return changes === 0 ? UNCHANGED(count) : { changed: true, count, erased: false };
      }
      default:
        throw new Error(`${change.kind} is not a change`);
    }
  }
}
