import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt's cost as log2(N): 2^15 with r = 8 takes 32 MiB and tens of ms per hash. */
export const DEFAULT_PASSWORD_COST = 15;
const BLOCK_SIZE = 8;
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** cost,
    r: BLOCK_SIZE,
    p: 1,
    // scrypt needs 128 * N * r bytes; Node's default ceiling is exactly 32 MiB.
    maxmem: 256 * 2 ** cost * BLOCK_SIZE,
  };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/**
 * A password's scrypt hash with its salt and parameters, in one string
 * ("scrypt$cost$salt$key"), so the cost can be raised later without
 * invalidating what is stored. Runs on libuv's thread pool, not the event loop.
 */
export async function hashPassword(
  password: string,
  cost = DEFAULT_PASSWORD_COST,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return `scrypt$${cost}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** Whether `password` matches `stored`, in time that does not depend on where they differ. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, cost, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !cost || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), Number(cost));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
