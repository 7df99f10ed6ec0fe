import { randomBytes, randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { guestPublicId } from "./public-id.ts";

interface Migration {
  readonly version: number;
  readonly apply: (db: DatabaseSync) => void;
}

/**
 * The schema's history, oldest first. Append new versions; never edit one
 * that has shipped, since databases out there already recorded it.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    // The schema the store had before migrations were numbered, verbatim, so a
    // database written back then is exactly "version 1".
    version: 1,
    apply: (db) =>
      db.exec(`
CREATE TABLE IF NOT EXISTS messages (
  room          TEXT    NOT NULL,
  id            INTEGER NOT NULL,
  time_ms       INTEGER NOT NULL,
  user_id       TEXT    NOT NULL,
  username      TEXT    NOT NULL,
  text          TEXT    NOT NULL,
  kind          TEXT    NOT NULL,
  client_msg_id TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (room, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_msg_id
  ON messages (room, user_id, client_msg_id) WHERE client_msg_id <> '';
`),
  },
  {
    // The epoch names this history; it is made here, so a history upgraded
    // from version 1 gets one too. A room has a row in `rooms` once retention
    // has removed something from it; no row means pruned_through = 0.
    version: 2,
    apply: (db) => {
      db.exec(`
CREATE TABLE meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE rooms (
  room           TEXT    PRIMARY KEY,
  pruned_through INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`);
      db.prepare("INSERT INTO meta (key, value) VALUES ('epoch', ?)").run(randomUUID());
    },
  },
  {
    // Until now a message's user_id was whatever its client claimed, so the
    // history handed out ids that anyone could copy and send as. Each becomes
    // its public id under a key made here, with the history. The mapping is
    // one-to-one, and nobody knew the key before, so no row still holding a
    // claimed id can equal a new public one: the unique (room, user_id,
    // client_msg_id) index, checked row by row, holds throughout the UPDATE.
    version: 3,
    apply: (db) => {
      db.exec(`
CREATE TABLE accounts (
  user_id       TEXT    NOT NULL PRIMARY KEY,
  username      TEXT    NOT NULL,
  name_key      TEXT    NOT NULL UNIQUE,
  password_hash TEXT    NOT NULL,
  created_ms    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE tokens (
  token_hash TEXT    NOT NULL PRIMARY KEY,
  user_id    TEXT    NOT NULL,
  expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_expires_ms ON tokens (expires_ms);
`);
      const idKey = randomBytes(32).toString("hex");
      db.prepare("INSERT INTO meta (key, value) VALUES ('id_key', ?)").run(idKey);
      db.function("migration_3_public_id", { deterministic: true }, (userId) =>
        guestPublicId(idKey, String(userId)),
      );
      db.exec(
        "UPDATE messages SET user_id = migration_3_public_id(user_id) WHERE user_id <> 'system'",
      );
    },
  },
  {
    // A room may now have a topic, kept in its `rooms` row beside
    // pruned_through. The partial index lets a room list seek the next room
    // with a topic; without it each step would walk every row retention
    // left behind with no topic.
    version: 4,
    apply: (db) =>
      db.exec(`
ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
CREATE INDEX rooms_with_topic ON rooms (room) WHERE topic <> '';
`),
  },
  {
    // Messages people can change. ref_id: the message a chat message answers,
    // or the one a change entry (edit, delete, react, unreact) changes; 0 for
    // none. A change is applied to its target's row (edited_ms, deleted, the
    // text) and to `reactions`; react/unreact entries keep the emoji's count
    // after them. messages_changes finds a message's change entries without
    // walking its room, which retention needs; replies are left out of it.
    // A reaction's added_id is the id of the entry that added it, so emoji
    // list in the order each was first added. Read markers are per user and
    // room, and never make a room listed.
    version: 5,
    apply: (db) =>
      db.exec(`
ALTER TABLE messages ADD COLUMN ref_id    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN count     INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_changes ON messages (room, ref_id) WHERE ref_id <> 0 AND kind <> 'chat';
CREATE TABLE reactions (
  room       TEXT    NOT NULL,
  message_id INTEGER NOT NULL,
  emoji      TEXT    NOT NULL,
  user_id    TEXT    NOT NULL,
  added_id   INTEGER NOT NULL,
  PRIMARY KEY (room, message_id, emoji, user_id)
) WITHOUT ROWID;
CREATE TABLE read_markers (
  user_id      TEXT    NOT NULL,
  room         TEXT    NOT NULL,
  last_read_id INTEGER NOT NULL,
  PRIMARY KEY (user_id, room)
) WITHOUT ROWID;
`),
  },
  {
    // Rooms a team governs. A room_records row exists once someone created
    // the room or set its kind (owner '': the server's admins own it); the
    // owner also holds the 'owner' role. A sanction is a ban or mute, one of
    // each per user and room (until_ms 0: until lifted). Invites keep only
    // their code's hash. Reports and audit entries take ids that are never
    // reused (AUTOINCREMENT) and are paged per room newest first; a report is
    // open until its `resolved` flag is set, whatever its resolver's fields
    // hold. Retention touches none of these.
    version: 6,
    apply: (db) =>
      db.exec(`
CREATE TABLE room_records (
  room        TEXT    NOT NULL PRIMARY KEY,
  owner       TEXT    NOT NULL,
  invite_only INTEGER NOT NULL,
  read_only   INTEGER NOT NULL,
  created_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE room_roles (
  room    TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role    TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'owner')),
  PRIMARY KEY (room, user_id)
) WITHOUT ROWID;
CREATE INDEX room_roles_user ON room_roles (user_id);
CREATE TABLE sanctions (
  room       TEXT    NOT NULL,
  user_id    TEXT    NOT NULL,
  kind       TEXT    NOT NULL CHECK (kind IN ('ban', 'mute')),
  until_ms   INTEGER NOT NULL,
  reason     TEXT    NOT NULL,
  by_id      TEXT    NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (room, user_id, kind)
) WITHOUT ROWID;
CREATE TABLE address_bans (
  cidr       TEXT    NOT NULL PRIMARY KEY,
  until_ms   INTEGER NOT NULL,
  reason     TEXT    NOT NULL,
  by_id      TEXT    NOT NULL,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE invites (
  code_hash  TEXT    NOT NULL PRIMARY KEY,
  room       TEXT    NOT NULL,
  created_by TEXT    NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  uses_left  INTEGER NOT NULL,
  unlimited  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE reports (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  room        TEXT    NOT NULL,
  message_id  INTEGER NOT NULL,
  reporter    TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  created_ms  INTEGER NOT NULL,
  resolved    INTEGER NOT NULL DEFAULT 0,
  resolved_by TEXT    NOT NULL DEFAULT '',
  resolution  TEXT    NOT NULL DEFAULT '',
  resolved_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reports_room ON reports (room, id);
CREATE TABLE audit (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  actor      TEXT    NOT NULL,
  action     TEXT    NOT NULL,
  room       TEXT    NOT NULL,
  target     TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  detail     TEXT    NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX audit_room ON audit (room, id);
CREATE TABLE admins (
  user_id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;
`),
  },
  {
    // What server admins do to accounts. A disabled account keeps its row
    // (its name stays taken) but no token of it works. A reset code is kept
    // by its hash only, one per account (a new one replaces the old), and
    // retention drops it once expired, with the tokens. tokens_user lets
    // disabling, deleting or a new password drop an account's tokens
    // without walking every login.
    version: 7,
    apply: (db) =>
      db.exec(`
ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_user ON tokens (user_id);
CREATE TABLE reset_codes (
  code_hash  TEXT    NOT NULL PRIMARY KEY,
  user_id    TEXT    NOT NULL UNIQUE,
  expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
`),
  },
  {
    // Full-text search (sqlite-search.ts, sqlite-search-index.ts). FTS5 needs
    // an integer key and `messages` has none, so each live chat message gets
    // a doc: time_ms * 65536 plus a counter within the millisecond, so the
    // index's own order is newest-first order and a search walks it and
    // stops at its limit. Both indexes are contentless (no second copy of the
    // texts). The words index holds search_fold(text), the text as the core
    // folds queries; the trigram index only search_pieces(text), the folded
    // text's pieces with punctuation (search-store.ts punctuatedPieces), since
    // substrings are searched for their punctuation (a quarter of the size).
    // secure-delete and the 'delete' command with the old text take a removed
    // message's tokens out of the index's pages, which secure_delete then
    // zeroes (contentless_delete=1 would only hide them behind tombstones).
    //
    // The triggers keep search_docs current in the writer's own transaction,
    // whichever path writes. A new or edited text is not put in FTS5 by the
    // trigger but listed in search_pending, which the writer indexes in one
    // statement before it commits (SearchIndex.flush): FTS5 writes its
    // pending terms out as a new segment at every statement savepoint, and a
    // trigger runs inside its statement's, so indexing from a trigger made a
    // segment, and merges, per message (about five times the cost).
    // Messages stored before this version are indexed afterwards, resumably,
    // from the position kept in meta (sqlite-search-backfill.ts).
    version: 8,
    apply: (db) =>
      db.exec(`
CREATE TABLE search_docs (
  doc      INTEGER PRIMARY KEY,
  room     TEXT    NOT NULL,
  id       INTEGER NOT NULL,
  user_id  TEXT    NOT NULL,
  has_link INTEGER NOT NULL
);
CREATE UNIQUE INDEX search_docs_message ON search_docs (room, id);
CREATE TABLE search_pending (doc INTEGER PRIMARY KEY);
CREATE VIRTUAL TABLE search_words USING fts5(
  text, content = '', columnsize = 0, prefix = '2',
  tokenize = "unicode61 remove_diacritics 0 categories 'L* N*'"
);
CREATE VIRTUAL TABLE search_trigrams USING fts5(
  text, content = '', columnsize = 0, detail = none, tokenize = 'trigram case_sensitive 1'
);
INSERT INTO search_words (search_words, rank) VALUES ('secure-delete', 1);
INSERT INTO search_trigrams (search_trigrams, rank) VALUES ('secure-delete', 1);
CREATE INDEX sanctions_user ON sanctions (user_id, kind);

CREATE TRIGGER search_insert AFTER INSERT ON messages
WHEN NEW.kind = 'chat' AND NEW.deleted = 0
BEGIN
  INSERT INTO search_docs (doc, room, id, user_id, has_link) VALUES (
    coalesce(
      (SELECT doc + 1 FROM search_docs
       WHERE doc >= NEW.time_ms * 65536 AND doc < (NEW.time_ms + 1) * 65536
       ORDER BY doc DESC LIMIT 1),
      NEW.time_ms * 65536),
    NEW.room, NEW.id, NEW.user_id,
    NEW.text LIKE '%http://%' OR NEW.text LIKE '%https://%' OR NEW.text LIKE '%www.%');
  INSERT INTO search_pending (doc) VALUES (last_insert_rowid());
END;

-- An edit re-indexes; a delete (deleted set, text erased) removes. What is
-- in FTS5 is taken out with the text it was indexed with, the old one; a
-- message still pending was never put in.
CREATE TRIGGER search_update AFTER UPDATE OF text, deleted ON messages
WHEN OLD.kind = 'chat' AND OLD.deleted = 0 AND (NEW.text IS NOT OLD.text OR NEW.deleted <> 0)
BEGIN
  INSERT INTO search_words (search_words, rowid, text)
    SELECT 'delete', d.doc, search_fold(OLD.text) FROM search_docs d
    WHERE d.room = OLD.room AND d.id = OLD.id
      AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.doc = d.doc);
  INSERT INTO search_trigrams (search_trigrams, rowid, text)
    SELECT 'delete', d.doc, search_pieces(OLD.text) FROM search_docs d
    WHERE d.room = OLD.room AND d.id = OLD.id AND search_pieces(OLD.text) <> ''
      AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.doc = d.doc);
  INSERT OR IGNORE INTO search_pending (doc)
    SELECT doc FROM search_docs WHERE room = OLD.room AND id = OLD.id AND NEW.deleted = 0;
  UPDATE search_docs SET
    has_link = NEW.text LIKE '%http://%' OR NEW.text LIKE '%https://%' OR NEW.text LIKE '%www.%'
  WHERE room = OLD.room AND id = OLD.id AND NEW.deleted = 0;
  DELETE FROM search_pending WHERE NEW.deleted <> 0
    AND doc = (SELECT doc FROM search_docs WHERE room = OLD.room AND id = OLD.id);
  DELETE FROM search_docs WHERE room = OLD.room AND id = OLD.id AND NEW.deleted <> 0;
END;

-- Retention, a room's deletion.
CREATE TRIGGER search_delete AFTER DELETE ON messages
WHEN OLD.kind = 'chat' AND OLD.deleted = 0
BEGIN
  INSERT INTO search_words (search_words, rowid, text)
    SELECT 'delete', d.doc, search_fold(OLD.text) FROM search_docs d
    WHERE d.room = OLD.room AND d.id = OLD.id
      AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.doc = d.doc);
  INSERT INTO search_trigrams (search_trigrams, rowid, text)
    SELECT 'delete', d.doc, search_pieces(OLD.text) FROM search_docs d
    WHERE d.room = OLD.room AND d.id = OLD.id AND search_pieces(OLD.text) <> ''
      AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.doc = d.doc);
  DELETE FROM search_pending
    WHERE doc = (SELECT doc FROM search_docs WHERE room = OLD.room AND id = OLD.id);
  DELETE FROM search_docs WHERE room = OLD.room AND id = OLD.id;
END;

-- Only a database that already holds messages has any to index afterwards.
INSERT INTO meta (key, value)
  SELECT 'search_backfill', json_object('room', '', 'id', 0, 'done', 0)
  WHERE EXISTS (SELECT 1 FROM messages);
`),
  },
  {
    // Incoming webhooks. Like invites, a hook keeps only its secret's hash.
    // A revoked hook keeps its row (it is still listed, and its secret still
    // found, as revoked), so a name is unique only among the room's working
    // hooks: the partial index holds that, even for two creates at once.
    // Listing a room's hooks and deleting a room read the whole table, as
    // for invites: a server has few.
    version: 9,
    apply: (db) =>
      db.exec(`
CREATE TABLE webhooks (
  id          TEXT    NOT NULL PRIMARY KEY,
  secret_hash TEXT    NOT NULL UNIQUE,
  room        TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  created_by  TEXT    NOT NULL,
  created_ms  INTEGER NOT NULL,
  revoked_ms  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE UNIQUE INDEX webhooks_working_name ON webhooks (room, name) WHERE revoked_ms = 0;
`),
  },
  {
    // Bots, their outgoing hooks' progress, and what users asked to be told
    // about. A bot is an account too (the accounts row holds its name); a
    // revoked token keeps the row with an empty hash, so only working hashes
    // are unique. The lease lets one node of a cluster deliver a bot's hook.
    // notify_levels is read by user and by room (a message's notifications,
    // a room deleted); bot_cursors holds a row per bot and room, few enough
    // for a room's deletion to read the whole table.
    version: 10,
    apply: (db) =>
      db.exec(`
CREATE TABLE bots (
  user_id        TEXT    NOT NULL PRIMARY KEY,
  owner_id       TEXT    NOT NULL,
  rooms          TEXT    NOT NULL,
  can_read       INTEGER NOT NULL,
  token_hash     TEXT    NOT NULL,
  created_ms     INTEGER NOT NULL,
  revoked_ms     INTEGER NOT NULL DEFAULT 0,
  out_url        TEXT    NOT NULL DEFAULT '',
  out_trigger    TEXT    NOT NULL DEFAULT 'mentions',
  out_words      TEXT    NOT NULL DEFAULT '[]',
  out_secret     TEXT    NOT NULL DEFAULT '',
  lease_node     TEXT    NOT NULL DEFAULT '',
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  last_error     TEXT    NOT NULL DEFAULT '',
  last_error_ms  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE UNIQUE INDEX bots_token_hash ON bots (token_hash) WHERE token_hash <> '';
CREATE INDEX bots_owner ON bots (owner_id);
CREATE TABLE bot_cursors (
  user_id      TEXT    NOT NULL,
  room         TEXT    NOT NULL,
  delivered_id INTEGER NOT NULL,
  PRIMARY KEY (user_id, room)
) WITHOUT ROWID;
CREATE TABLE notify_levels (
  user_id TEXT NOT NULL,
  room    TEXT NOT NULL,
  level   TEXT NOT NULL CHECK (level IN ('all', 'off')),
  PRIMARY KEY (user_id, room)
) WITHOUT ROWID;
CREATE INDEX notify_levels_room ON notify_levels (room, user_id);
CREATE TABLE account_emails (
  user_id TEXT NOT NULL PRIMARY KEY,
  email   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE email_digests (
  user_id TEXT    NOT NULL PRIMARY KEY,
  due_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX email_digests_due ON email_digests (due_ms);
`),
  },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to `version` (SCHEMA_VERSION unless a test wants a
 * database as an older server left it) in one write transaction, which also
 * takes the write lock (held for the connection's life in EXCLUSIVE locking
 * mode). Throws, changing nothing, when a newer server wrote the database.
 */
export function migrate(
  db: DatabaseSync,
  path: string,
  nowMs: number,
  version = SCHEMA_VERSION,
): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
  version       INTEGER PRIMARY KEY,
  applied_at_ms INTEGER NOT NULL
)`);
    const record = db.prepare(
      "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)",
    );
    let current = Number(
      (
        db.prepare("SELECT coalesce(max(version), 0) AS v FROM schema_migrations").get() as {
          v: number;
        }
      ).v,
    );
    if (current === 0 && hasTable(db, "messages")) {
      // Written before migrations were recorded: that code made version 1.
      record.run(1, nowMs);
      current = 1;
    }
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `The SQLite database ${path} has schema version ${current}, but this server knows only up to ${SCHEMA_VERSION}: a newer grpc-chat server wrote it. Run that newer version, or choose another --db.`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current || migration.version > version) continue;
      migration.apply(db);
      record.run(migration.version, nowMs);
    }
    db.exec("COMMIT");
  } catch (error) {
    // The error that matters is the one above, not a failed rollback.
    if (db.isTransaction) {
      try {
        db.exec("ROLLBACK");
      } catch {}
    }
    throw error;
  }
}

function hasTable(db: DatabaseSync, name: string): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !==
    undefined
  );
}
