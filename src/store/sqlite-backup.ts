// SQLite's online backup, on the worker's connection while the worker
// serves requests between the copy's steps.
import { randomUUID } from "node:crypto";
import { closeSync, openSync, rmSync } from "node:fs";
import { backup, DatabaseSync } from "node:sqlite";

/** Pages a backup copies per step; requests run between steps. */
const BACKUP_PAGES_PER_STEP = 100;

/**
 * How a backup shares the worker. Its steps run on a thread of the pool, on
 * this connection, and a step that meets a write transaction open on it
 * gives up (SQLITE_BUSY; on the first step node:sqlite takes that for a
 * failure). So the worker runs no request while a step runs, and runs what
 * has queued up between steps, when no step uses the connection.
 */
export interface BackupTurns {
  /** Holds the worker's requests until `copy` settles, except as `runQueued` runs them. */
  hold(copy: Promise<unknown>): void;
  /** Runs the requests queued now. */
  runQueued(): void;
}

/** Backups of one connection's database, one at a time. */
export class SqliteBackup {
  readonly #db: DatabaseSync;
  readonly #turns: BackupTurns;
  #copying = false;

  constructor(db: DatabaseSync, turns: BackupTurns) {
    this.#db = db;
    this.#turns = turns;
  }

  /**
   * Copies the open database, a few pages a step, on the connection that
   * writes it: SQLite carries this connection's commits into the copy as
   * they happen, so the copy holds every commit made before it finished.
   * The file is made first, exclusively, so no file is ever overwritten.
   * One backup at a time: two would each run requests between their steps
   * while the other's step is running.
   *
   * The copy gets an epoch of its own: a server restored from it goes back
   * in time, and hands out again the ids given since, so a resume id from
   * the live server must not be taken for one of the copy's. Its id key
   * stays, so public ids name the same users.
   */
  async write(path: string): Promise<void> {
    if (this.#copying) {
      throw new Error("A backup is already being written; try again once it is done.");
    }
    try {
      closeSync(openSync(path, "wx"));
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EEXIST") throw error;
      throw new Error(`${path} already exists: a backup is written to a new file only.`);
    }
    this.#copying = true;
    try {
      const copying = backup(this.#db, path, {
        rate: BACKUP_PAGES_PER_STEP,
        // A throw here would end the backup: each request answers for itself.
        progress: () => this.#turns.runQueued(),
      });
      this.#turns.hold(copying);
      await copying;
      const copy = new DatabaseSync(path);
      try {
        // No -shm file left beside the copy: the WAL index stays in memory.
        copy.exec("PRAGMA locking_mode = EXCLUSIVE");
        copy.prepare("UPDATE meta SET value = ? WHERE key = 'epoch'").run(randomUUID());
      } finally {
        copy.close();
      }
    } catch (error) {
      for (const suffix of ["", "-journal", "-wal"]) rmSync(path + suffix, { force: true });
      throw error;
    } finally {
      this.#copying = false;
    }
  }
}
