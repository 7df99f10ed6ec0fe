import { randomBytes } from "node:crypto";
import { after } from "node:test";
import pg from "pg";
import { openPgStore } from "../src/store/pg-store.ts";
import { PG_URL } from "./engine-urls.ts";
import { storeContract } from "./store-contract.ts";

// Each test gets a schema of its own, dropped at the end.

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
