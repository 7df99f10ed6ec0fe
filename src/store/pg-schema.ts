import { randomBytes, randomUUID } from "node:crypto";
import type pg from "pg";
import { searchFunctionsSql } from "./pg-search-schema.ts";
import { StoreUnavailableError } from "./store.ts";

/**
 * The PostgreSQL schema's history, oldest first, numbered like SQLite's
 * (sqlite-migrations.ts) but starting where SQLite's schema is today: one
 * version with messages, rooms (with each room's last id, so ids are given
 * under the room's row lock), topics, accounts and tokens; version 2 is
 * SQLite's 5, version 3 its 6, version 4 its 7, version 6 its 9, version 7
 * its 10. Append new
 * versions; never edit one that has shipped.
 */
const MIGRATIONS: readonly { version: number; sql: (schema: string) => string }[] = [
  {
    version: 1,
    // Room names sort by their bytes ("C"), as SQLite sorts them.
    sql: (s) => `
CREATE TABLE ${s}.messages (
  room          text   COLLATE "C" NOT NULL,
  id            bigint NOT NULL,
  time_ms       bigint NOT NULL,
  user_id       text   NOT NULL,
  username      text   NOT NULL,
  text          text   NOT NULL,
  kind          text   NOT NULL,
  client_msg_id text   NOT NULL DEFAULT '',
  PRIMARY KEY (room, id)
);
CREATE UNIQUE INDEX messages_client_msg_id
  ON ${s}.messages (room, user_id, client_msg_id) WHERE client_msg_id <> '';
CREATE TABLE ${s}.rooms (
  room           text   COLLATE "C" PRIMARY KEY,
  last_id        bigint NOT NULL DEFAULT 0,
  pruned_through bigint NOT NULL DEFAULT 0,
  topic          text   NOT NULL DEFAULT ''
);
CREATE INDEX rooms_with_topic ON ${s}.rooms (room) WHERE topic <> '';
CREATE TABLE ${s}.meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE ${s}.accounts (
  user_id       text   PRIMARY KEY,
  username      text   NOT NULL,
  name_key      text   NOT NULL UNIQUE,
  password_hash text   NOT NULL,
  created_ms    bigint NOT NULL
);
CREATE TABLE ${s}.tokens (
  token_hash text   PRIMARY KEY,
  user_id    text   NOT NULL,
  expires_ms bigint NOT NULL
);
CREATE INDEX tokens_expires_ms ON ${s}.tokens (expires_ms);
INSERT INTO ${s}.meta (key, value) VALUES
  ('epoch', '${randomUUID()}'),
  ('id_key', '${randomBytes(32).toString("hex")}');
`,
  },
  {
    // SQLite's version 5: messages people can change. ref_id is the message
    // a chat message answers, or the one a change entry changes (0: none);
    // the target's row keeps the change's result, react/unreact entries the
    // emoji's count after them. messages_changes finds a message's change
    // entries for retention; a reaction's added_id is the id of the entry
    // that added it, so emoji list in first-added order.
    version: 2,
    sql: (s) => `
ALTER TABLE ${s}.messages
  ADD COLUMN ref_id    bigint  NOT NULL DEFAULT 0,
  ADD COLUMN edited_ms bigint  NOT NULL DEFAULT 0,
  ADD COLUMN deleted   boolean NOT NULL DEFAULT false,
  ADD COLUMN count     integer NOT NULL DEFAULT 0;
CREATE INDEX messages_changes ON ${s}.messages (room, ref_id) WHERE ref_id <> 0 AND kind <> 'chat';
CREATE TABLE ${s}.reactions (
  room       text   COLLATE "C" NOT NULL,
  message_id bigint NOT NULL,
  emoji      text   NOT NULL,
  user_id    text   NOT NULL,
  added_id   bigint NOT NULL,
  PRIMARY KEY (room, message_id, emoji, user_id)
);
CREATE TABLE ${s}.read_markers (
  user_id      text   NOT NULL,
  room         text   COLLATE "C" NOT NULL,
  last_read_id bigint NOT NULL,
  PRIMARY KEY (user_id, room)
);
`,
  },
  {
    // SQLite's version 6: rooms a team governs (see sqlite-migrations.ts).
    // Keys sort by their bytes ("C"), as SQLite sorts them; report and audit
    // ids come from identity columns, so they are never reused.
    version: 3,
    sql: (s) => `
CREATE TABLE ${s}.room_records (
  room        text    COLLATE "C" PRIMARY KEY,
  owner       text    NOT NULL,
  invite_only boolean NOT NULL,
  read_only   boolean NOT NULL,
  created_ms  bigint  NOT NULL
);
CREATE TABLE ${s}.room_roles (
  room    text COLLATE "C" NOT NULL,
  user_id text COLLATE "C" NOT NULL,
  role    text NOT NULL CHECK (role IN ('member', 'moderator', 'owner')),
  PRIMARY KEY (room, user_id)
);
CREATE INDEX room_roles_user ON ${s}.room_roles (user_id);
CREATE TABLE ${s}.sanctions (
  room       text   COLLATE "C" NOT NULL,
  user_id    text   COLLATE "C" NOT NULL,
  kind       text   NOT NULL CHECK (kind IN ('ban', 'mute')),
  until_ms   bigint NOT NULL,
  reason     text   NOT NULL,
  by_id      text   NOT NULL,
  created_ms bigint NOT NULL,
  PRIMARY KEY (room, user_id, kind)
);
CREATE TABLE ${s}.address_bans (
  cidr       text   COLLATE "C" PRIMARY KEY,
  until_ms   bigint NOT NULL,
  reason     text   NOT NULL,
  by_id      text   NOT NULL,
  created_ms bigint NOT NULL
);
CREATE TABLE ${s}.invites (
  code_hash  text    PRIMARY KEY,
  room       text    COLLATE "C" NOT NULL,
  created_by text    NOT NULL,
  created_ms bigint  NOT NULL,
  expires_ms bigint  NOT NULL,
  uses_left  integer NOT NULL,
  unlimited  boolean NOT NULL
);
CREATE TABLE ${s}.reports (
  id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  room        text    COLLATE "C" NOT NULL,
  message_id  bigint  NOT NULL,
  reporter    text    NOT NULL,
  reason      text    NOT NULL,
  created_ms  bigint  NOT NULL,
  resolved    boolean NOT NULL DEFAULT false,
  resolved_by text    NOT NULL DEFAULT '',
  resolution  text    NOT NULL DEFAULT '',
  resolved_ms bigint  NOT NULL DEFAULT 0
);
CREATE INDEX reports_room ON ${s}.reports (room, id);
CREATE TABLE ${s}.audit (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  actor      text   NOT NULL,
  action     text   NOT NULL,
  room       text   COLLATE "C" NOT NULL,
  target     text   NOT NULL,
  reason     text   NOT NULL,
  detail     text   NOT NULL,
  created_ms bigint NOT NULL
);
CREATE INDEX audit_room ON ${s}.audit (room, id);
CREATE TABLE ${s}.admins (
  user_id text COLLATE "C" PRIMARY KEY
);
`,
  },
  {
    // SQLite's version 7: disabled accounts and reset codes (see
    // sqlite-migrations.ts). Accounts are listed by name key in byte order,
    // as SQLite sorts them, which the unique index (in the database's
    // collation) cannot serve: accounts_name_key_c can.
    version: 4,
    sql: (s) => `
ALTER TABLE ${s}.accounts ADD COLUMN disabled boolean NOT NULL DEFAULT false;
CREATE INDEX accounts_name_key_c ON ${s}.accounts (name_key COLLATE "C");
CREATE INDEX tokens_user ON ${s}.tokens (user_id);
CREATE TABLE ${s}.reset_codes (
  code_hash  text   PRIMARY KEY,
  user_id    text   NOT NULL UNIQUE,
  expires_ms bigint NOT NULL
);
`,
  },
  {
    // Full-text search: pg_trgm and the functions its indexes are built on
    // (pg-search-schema.ts). The indexes themselves are built after the
    // migrations, outside their transaction, so that a big table's build can
    // run concurrently and carry on after an interruption.
    version: 5,
    sql: (s) => searchFunctionsSql(s),
  },
  {
    // SQLite's version 9: incoming webhooks (see sqlite-migrations.ts). The
    // partial index is what makes a name unique among a room's working hooks.
    version: 6,
    sql: (s) => `
CREATE TABLE ${s}.webhooks (
  id          text   COLLATE "C" PRIMARY KEY,
  secret_hash text   NOT NULL UNIQUE,
  room        text   COLLATE "C" NOT NULL,
  name        text   NOT NULL,
  created_by  text   NOT NULL,
  created_ms  bigint NOT NULL,
  revoked_ms  bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX webhooks_working_name ON ${s}.webhooks (room, name) WHERE revoked_ms = 0;
`,
  },
  {
    // SQLite's version 10: bots, their cursors and delivery leases, per-room
    // notification levels, email addresses and waiting digests (see
    // sqlite-migrations.ts). Keys sort by their bytes ("C"), as SQLite sorts them.
    version: 7,
    sql: (s) => `
CREATE TABLE ${s}.bots (
  user_id        text    COLLATE "C" PRIMARY KEY,
  owner_id       text    COLLATE "C" NOT NULL,
  rooms          text    NOT NULL,
  can_read       boolean NOT NULL,
  token_hash     text    NOT NULL,
  created_ms     bigint  NOT NULL,
  revoked_ms     bigint  NOT NULL DEFAULT 0,
  out_url        text    NOT NULL DEFAULT '',
  out_trigger    text    NOT NULL DEFAULT 'mentions',
  out_words      text    NOT NULL DEFAULT '[]',
  out_secret     text    NOT NULL DEFAULT '',
  lease_node     text    NOT NULL DEFAULT '',
  lease_until_ms bigint  NOT NULL DEFAULT 0,
  last_error     text    NOT NULL DEFAULT '',
  last_error_ms  bigint  NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX bots_token_hash ON ${s}.bots (token_hash) WHERE token_hash <> '';
CREATE INDEX bots_owner ON ${s}.bots (owner_id);
CREATE TABLE ${s}.bot_cursors (
  user_id      text   COLLATE "C" NOT NULL,
  room         text   COLLATE "C" NOT NULL,
  delivered_id bigint NOT NULL,
  PRIMARY KEY (user_id, room)
);
CREATE TABLE ${s}.notify_levels (
  user_id text COLLATE "C" NOT NULL,
  room    text COLLATE "C" NOT NULL,
  level   text NOT NULL CHECK (level IN ('all', 'off')),
  PRIMARY KEY (user_id, room)
);
CREATE INDEX notify_levels_room ON ${s}.notify_levels (room, user_id);
CREATE TABLE ${s}.account_emails (
  user_id text COLLATE "C" PRIMARY KEY,
  email   text NOT NULL
);
CREATE TABLE ${s}.email_digests (
  user_id text   COLLATE "C" PRIMARY KEY,
  due_ms  bigint NOT NULL
);
CREATE INDEX email_digests_due ON ${s}.email_digests (due_ms);
`,
  },
];

/** A schema name as SQL: only plain lower-case names, so it can be spliced in safely. */
export function schemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(
      `"${name}" cannot be a PostgreSQL schema name here: use lower-case letters, digits and _.`,
    );
  }
  return name;
}

/**
 * Creates the schema if needed and applies what is missing, under an
 * advisory lock so that nodes starting together migrate once. A database
 * from a newer server is refused, untouched.
 */
export async function migrate(client: pg.PoolClient, schema: string, nowMs: number) {
  await client.query("SELECT pg_advisory_lock(hashtext($1))", [`grpc-chat:${schema}`]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
  version       integer PRIMARY KEY,
  applied_at_ms bigint  NOT NULL
)`);
    const { rows } = await client.query(
      `SELECT coalesce(max(version), 0) AS v FROM ${schema}.schema_migrations`,
    );
    const current = Number(rows[0]?.v ?? 0);
    const newest = MIGRATIONS.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new StoreUnavailableError(
        `The database schema "${schema}" is at version ${current}, from a newer server than this one (${newest}); run that version, or point --db elsewhere.`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query("BEGIN");
      try {
        await client.query(migration.sql(schema));
        await client.query(
          `INSERT INTO ${schema}.schema_migrations (version, applied_at_ms) VALUES ($1, $2)`,
          [migration.version, nowMs],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`grpc-chat:${schema}`]);
  }
}
