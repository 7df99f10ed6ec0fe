// The write side of search: what migration 8's triggers need on the
// connection, and the step that puts the texts they listed into FTS5.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { foldForSearch, punctuatedPieces } from "./search-store.ts";

/**
 * Registers search_fold and search_pieces on `db`, which migration 8's
 * triggers call: every connection that writes messages needs them. Both fold
 * as the core folds queries (foldForSearch in search-store.ts).
 */
export function registerSearchFunctions(db: DatabaseSync): void {
  db.function("search_fold", { deterministic: true }, (text) => foldForSearch(String(text)));
  db.function("search_pieces", { deterministic: true }, (text) =>
    punctuatedPieces(foldForSearch(String(text))).join(" "),
  );
  // Whether the folded text holds every substring of the first JSON list
  // and none of the second: one fold per candidate, however many there are.
  const lists = new Map<string, string[]>();
  const list = (json: string) => {
    let parsed = lists.get(json);
    if (!parsed) {
      if (lists.size > 16) lists.clear();
      parsed = (JSON.parse(json) as unknown[]).map(String);
      lists.set(json, parsed);
    }
    return parsed;
  };
  db.function("search_substrings", { deterministic: true }, (text, all, none) => {
    const folded = foldForSearch(String(text));
    return list(String(all)).every((part) => folded.includes(part)) &&
      !list(String(none)).some((part) => folded.includes(part))
      ? 1
      : 0;
  });
}

/**
 * Puts the messages listed in search_pending into both FTS5 indexes, each in
 * one statement, so FTS5 writes one segment per transaction rather than one
 * per message. Every transaction that appends, edits or imports runs it
 * before its COMMIT, which makes a message findable once it is acknowledged.
 */
export class SearchIndex {
  readonly #anyPending: StatementSync;
  readonly #words: StatementSync;
  readonly #trigrams: StatementSync;
  readonly #clear: StatementSync;

  constructor(db: DatabaseSync) {
    this.#anyPending = db.prepare("SELECT 1 FROM search_pending LIMIT 1");
    // CROSS JOIN keeps this order: the few pending rows first, each then a
    // seek; the planner would otherwise walk all of search_docs.
    const insert = (index: string, text: string, where = "") =>
      db.prepare(
        `INSERT INTO ${index} (rowid, text)
         SELECT p.doc, ${text}(m.text) FROM search_pending p
         CROSS JOIN search_docs d ON d.doc = p.doc
         CROSS JOIN messages m ON m.room = d.room AND m.id = d.id ${where}`,
      );
    this.#words = insert("search_words", "search_fold");
    // Most texts have no piece with punctuation, and take no row there (the
    // triggers' 'delete' passes them over by the same test).
    this.#trigrams = insert(
      "search_trigrams",
      "search_pieces",
      "WHERE search_pieces(m.text) <> ''",
    );
    this.#clear = db.prepare("DELETE FROM search_pending");
  }

  /** Indexes what is pending; inside the caller's transaction. */
  flush(): void {
    if (this.#anyPending.get() === undefined) return;
    this.#words.run();
    this.#trigrams.run();
    this.#clear.run();
  }
}
