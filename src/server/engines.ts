import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Bus, ClusterClaims } from "../bus/bus.ts";
import { createLocalBus } from "../bus/local-bus.ts";
import { connectRedisBus } from "../bus/redis-bus.ts";
import { connectRedisClaims } from "../bus/redis-claims.ts";
import { openPgStore } from "../store/pg-store.ts";
import {
  describeSearchIndexProgress,
  openSqliteStore,
  type SqliteStoreOptions,
} from "../store/sqlite-store.ts";
import type { Store } from "../store/store.ts";

const POSTGRES = /^postgres(ql)?:\/\//i;

export interface EngineOptions {
  /** A SQLite file, ":memory:", or postgres://user@host:port/database[?schema=name]. */
  readonly db: string;
  /** redis://host:port[?prefix=name]: the bus between nodes; none for one process. */
  readonly busUrl?: string | undefined;
  readonly now?: () => number;
  readonly durability?: SqliteStoreOptions["durability"];
  /** PostgreSQL's text search configuration for the word index (default "simple"). */
  readonly searchLanguage?: string | undefined;
  readonly logger: Logger;
}

/** A setting that cannot work, with the sentence that says why. */
export class EngineConfigError extends Error {}

/** Opens only the store `db` names (SQLite file or PostgreSQL URL): for tools that work on the database. */
export async function openStore(db: string): Promise<Store> {
  if (!POSTGRES.test(db)) return openSqliteStore({ path: db });
  const [url, schema] = takeParam(db, "schema");
  return openPgStore({ url, ...(schema ? { schema } : {}) });
}

/**
 * Opens the store and the bus the options name: by default SQLite and the
 * in-process bus (one process, nothing to run); for several nodes,
 * PostgreSQL and Redis, always together.
 */
export async function openEngines(
  options: EngineOptions,
): Promise<{ store: Store; bus: Bus; claims?: ClusterClaims }> {
  const postgres = POSTGRES.test(options.db);
  if (postgres && !options.busUrl) {
    throw new EngineConfigError(
      "--db postgres://... needs --bus redis://...: nodes that share a database must also hear each other, or a message sent on one node would reach clients of the others only when they reconnect.",
    );
  }
  if (!postgres && options.busUrl) {
    throw new EngineConfigError(
      "--bus needs a shared database (--db postgres://...): with SQLite each node keeps a history of its own.",
    );
  }
  if (!postgres) {
    const { logger } = options;
    const store = await openSqliteStore({
      path: options.db,
      ...(options.now ? { now: options.now } : {}),
      ...(options.durability ? { durability: options.durability } : {}),
      // Messages stored before search existed are indexed after start, in batches.
      onSearchIndexProgress: (progress) => logger.info(describeSearchIndexProgress(progress)),
      onSearchIndexError: (error) =>
        logger.error({ err: error }, "indexing old messages for search stopped"),
    });
    return { store, bus: createLocalBus() };
  }
  const [dbUrl, schema] = takeParam(options.db, "schema");
  const store = await openPgStore({
    url: dbUrl,
    ...(schema ? { schema } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.searchLanguage ? { searchLanguage: options.searchLanguage } : {}),
    // Building the search indexes of a big existing table takes a while at start.
    onSearchIndexProgress: ({ index, step, steps, phase, done, total }) =>
      options.logger.info(
        `Search index ${step} of ${steps} (${index}): ${phase}${total > 0 ? ` ${done}/${total} (${Math.floor((done * 100) / total)}%)` : ""}`,
      ),
  });
  const [busUrl, prefix] = takeParam(options.busUrl ?? "", "prefix");
  const { logger } = options;
  let connected = true;
  // One node id for both: the claims' lease is the bus's node.
  const nodeId = randomUUID();
  try {
    const [bus, claims] = await Promise.all([
      connectRedisBus({
        url: busUrl,
        nodeId,
        ...(prefix ? { prefix } : {}),
        onStateChange(now, error) {
          if (now === connected) return;
          connected = now;
          if (now) logger.info("the bus (Redis) is back; streams catch up from the store");
          else
            logger.warn(
              { err: error },
              "the bus (Redis) is unreachable; serving this node's clients, others' messages arrive when it is back",
            );
        },
      }),
      // Names and rates the nodes share, on the same Redis.
      connectRedisClaims({ url: busUrl, nodeId, ...(prefix ? { prefix } : {}) }),
    ]);
    return { store, bus, claims };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The database as it may be shown: a URL without its password. */
export function describeDb(db: string): string {
  if (!POSTGRES.test(db)) return db;
  const url = new URL(db);
  if (url.password) url.password = "***";
  return url.toString();
}

/** `url` without its `name` parameter, and that parameter's value. */
function takeParam(url: string, name: string): [string, string | undefined] {
  const parsed = new URL(url);
  const value = parsed.searchParams.get(name) ?? undefined;
  parsed.searchParams.delete(name);
  return [parsed.toString(), value];
}
