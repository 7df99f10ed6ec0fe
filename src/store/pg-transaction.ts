import type pg from "pg";
import { isTransient } from "./pg-errors.ts";

/**
 * Runs `body` on one pooled connection inside a transaction (opened with
 * `begin`), committed if it resolves and rolled back if it throws.
 */
export async function inPgTransaction<T>(
  pool: pg.Pool,
  body: (client: pg.PoolClient) => Promise<T>,
  begin = "BEGIN",
): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query(begin);
    const result = await body(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    broken = error;
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    // A connection that failed is not handed to the next caller.
    client.release(broken instanceof Error && isTransient(broken) ? broken : undefined);
  }
}
