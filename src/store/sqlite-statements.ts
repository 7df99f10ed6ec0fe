import type { DatabaseSync, StatementSync } from "node:sqlite";

/**
 * One connection's prepared statements, kept by their SQL (prepared on first
 * use), and its write transactions: what each family of the SQLite store's
 * SQL (governance, admin, integrations) runs on.
 */
export class SqliteStatements {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `body` in one write transaction, rolled back if it throws. */
  transaction<T>(body: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      // The error that matters is the one above, not a failed rollback.
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {}
      }
      throw error;
    }
  }
}
