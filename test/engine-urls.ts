import { randomBytes } from "node:crypto";
import { after } from "node:test";
import pg from "pg";

// The PostgreSQL and Redis servers of this machine (the tests' pretest step
// starts them when they are installed but stopped). Each suite keeps to a
// schema or key prefix of its own.

export const PG_URL = process.env.GRPC_CHAT_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

export const REDIS_URL = process.env.GRPC_CHAT_TEST_REDIS ?? "redis://127.0.0.1:6379";

/**
 * Called at a test file's top level: returns a function that names a fresh
 * PostgreSQL schema (`prefix` and random hex) each call, and drops every one
 * it named, with everything in it, when the file's tests end.
 */
export function scratchSchemas(prefix: string): () => string {
  const names: string[] = [];
  after(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      for (const name of names) await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    } finally {
      await client.end();
    }
  });
  return () => {
    const name = `${prefix}_${randomBytes(6).toString("hex")}`;
    names.push(name);
    return name;
  };
}
