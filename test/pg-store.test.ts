import { randomBytes } from "node:crypto";
import { after } from "node:test";
import pg from "pg";
import { openPgStore } from "../src/store/pg-store.ts";
import { storeContract } from "./store-contract.ts";

/** The PostgreSQL server of this machine (CI starts it); each test gets a schema of its own. */
export const PG_URL = process.env.GRPC_CHAT_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

const schemas: string[] = [];
after(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
});

storeContract("PgStore", (now) => {
  const schema = `test_${randomBytes(6).toString("hex")}`;
  schemas.push(schema);
  return openPgStore({ url: PG_URL, schema, now });
});
