// What PostgreSQL's full-text search stands on: the functions that fold a
// message as the core folds a query (schema version 5), and the names and
// predicate of the two indexes built on them (pg-search-indexes.ts).
import { SEARCH_LEVELS } from "./pg-search-terms.ts";

/**
 * Every combining mark (\p{M}) as a regular-expression class for PostgreSQL,
 * whose expressions have no Unicode properties: removing them after NFKD is
 * what the core's fold() does, so the index folds text exactly as queries are
 * folded (unaccent would also turn ø into o, which the core does not).
 */
function combiningMarks(): string {
  const hex = (c: number) =>
    c > 0xffff ? `\\U${c.toString(16).padStart(8, "0")}` : `\\u${c.toString(16).padStart(4, "0")}`;
  const ranges: string[] = [];
  let start = -1;
  for (let c = 0; c <= 0x110000; c++) {
    const mark =
      c < 0x110000 && (c < 0xd800 || c > 0xdfff) && /\p{M}/u.test(String.fromCodePoint(c));
    if (mark && start < 0) start = c;
    if (!mark && start >= 0) {
      ranges.push(start === c - 1 ? hex(start) : `${hex(start)}-${hex(c - 1)}`);
      start = -1;
    }
  }
  return `[${ranges.join("")}]+`;
}

/**
 * Schema version 5. pg_trgm is created where the database keeps extensions
 * (one copy per database, shared by every schema, so never inside ours: a
 * dropped schema would take other schemas' indexes with it). The functions
 * are PL/pgSQL so that the planner sees their real cost instead of inlining
 * them as a few cheap operators; lower() and [[:alnum:]] use ICU's root
 * collation when the server has it, so that case and letters are Unicode's
 * whatever the database's locale.
 */
export function searchFunctionsSql(s: string): string {
  const levels = SEARCH_LEVELS.map(({ name, shift }) => `'~${name}' || (t >> ${shift})`).join(", ");
  return `
DO $do$
DECLARE
  coll text := CASE WHEN EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')
    THEN '"und-x-icu"' ELSE '"default"' END;
  folded text;
BEGIN
  IF current_setting('server_encoding') <> 'UTF8' THEN
    RAISE EXCEPTION 'Search needs a database in UTF8 encoding; database "%" is in %: create one with ENCODING ''UTF8'' and point --db at it.',
      current_database(), current_setting('server_encoding');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    BEGIN
      CREATE EXTENSION pg_trgm;
    EXCEPTION
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'Search needs the PostgreSQL extension pg_trgm, and user "%" may not create it in database "%": have a superuser or the database''s owner run CREATE EXTENSION pg_trgm; in that database, then start again.',
          current_user, current_database()
          USING ERRCODE = 'insufficient_privilege';
      WHEN undefined_file THEN
        RAISE EXCEPTION 'Search needs the PostgreSQL extension pg_trgm, which this PostgreSQL server does not have: install its contrib modules (they ship pg_trgm), then start again.'
          USING ERRCODE = 'undefined_file';
    END;
  END IF;
  folded := format('lower(regexp_replace(normalize(body, NFKD), %L, '''', ''g'') COLLATE %s)',
    ${quote(combiningMarks())}, coll);
  -- Text in ASCII alone (most of it) has nothing for NFKD or the marks to
  -- change: its fold is lower() of it, and its letters and digits are
  -- [a-z0-9], which PostgreSQL matches far faster than the general path.
  EXECUTE format($f$
    CREATE FUNCTION ${s}.search_fold(body text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 20
    AS $b$ BEGIN
      IF octet_length(body) = char_length(body) THEN RETURN lower(body COLLATE "C"); END IF;
      RETURN %s;
    END $b$$f$, folded);
  EXECUTE format($f$
    CREATE FUNCTION ${s}.search_pieces(body text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 30
    AS $b$ BEGIN
      IF octet_length(body) = char_length(body) THEN
        IF body COLLATE "C" !~ '[^A-Za-z0-9[:space:]]' THEN RETURN ''; END IF;
        RETURN array_to_string(ARRAY(
          SELECT piece FROM regexp_split_to_table(lower(body COLLATE "C"), '[[:space:]]+') AS piece
          WHERE piece ~ '[^a-z0-9]'), ' ');
      END IF;
      RETURN array_to_string(ARRAY(
        SELECT piece FROM regexp_split_to_table(%s, '\\s+') AS piece
        WHERE piece COLLATE %s ~ '[^[:alnum:]]'), ' ');
    END $b$$f$,
    folded, coll);
  EXECUTE format($f$
    CREATE FUNCTION ${s}.search_words(body text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 30
    AS $b$ BEGIN
      IF octet_length(body) = char_length(body) THEN
        RETURN regexp_replace(lower(body COLLATE "C"), '[^a-z0-9]+', ' ', 'g');
      END IF;
      RETURN regexp_replace(%s COLLATE %s, '[^[:alnum:]]+', ' ', 'g');
    END $b$$f$,
    folded, coll);
END
$do$;
CREATE FUNCTION ${s}.search_keys(t bigint, room text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT array_to_tsvector(ARRAY[${levels}, '~r' || room]) $$;
`;
}

/** A string as an SQL literal (E'' so that backslashes mean the same under any setting). */
function quote(text: string): string {
  return `E'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** The predicate both indexes share, and that every search repeats so that they are used. */
export const INDEXED_ROWS = "kind = 'chat' AND NOT deleted";

/**
 * The trigram index's further predicate: it holds only texts with a piece
 * with punctuation (search-store.ts punctuatedPieces), which is all a
 * substring search needs; a search with a substring repeats it.
 */
export const pieceRows = (s: string, text = "text") => `${s}.search_pieces(${text}) <> ''`;

/** The word index's name says its text search configuration: another one is another index. */
export const wordIndexName = (language: string) => `messages_search_words_${language}`;
export const TRIGRAM_INDEX = "messages_search_pieces";
