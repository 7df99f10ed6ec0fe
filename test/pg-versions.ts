// What PostgreSQL schema version 7 (bots, notification levels, emails,
// digests) added, undone again: the migration tests undo it before version 6.
export const UNDO_VERSION_7 = (name: string) => `
DROP TABLE ${name}.bots, ${name}.bot_cursors, ${name}.notify_levels, ${name}.account_emails,
  ${name}.email_digests;
DELETE FROM ${name}.schema_migrations WHERE version = 7`;

// What PostgreSQL schema version 6 (webhooks) added, undone again: the
// migration tests undo it before version 5.
export const UNDO_VERSION_6 = (name: string) => `
DROP TABLE ${name}.webhooks;
DELETE FROM ${name}.schema_migrations WHERE version = 6`;

// What PostgreSQL schema version 5 (search) added, its functions and the
// indexes built on them, undone again to turn a fresh schema back into
// version 4, where the migration tests start; pg_trgm is the database's and
// stays.
export const UNDO_VERSION_5 = (name: string) => `
DROP FUNCTION ${name}.search_fold(text), ${name}.search_pieces(text), ${name}.search_words(text),
  ${name}.search_keys(bigint, text) CASCADE;
DELETE FROM ${name}.schema_migrations WHERE version = 5`;
