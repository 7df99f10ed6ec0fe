import { createHash } from "node:crypto";

// The build names each asset after its content and the server caches what is
// so named for ever: both read the convention from here, so they cannot drift.

const HASH_CHARS = 12;
const HASHED = new RegExp(`\\.[0-9a-f]{${HASH_CHARS}}\\.[a-z0-9.]+$`);

/** `styles.css` with these bytes becomes `styles.<hash>.css` (`app.js.map`: `app.<hash>.js.map`). */
export function hashedName(name: string, content: Uint8Array): string {
  const hash = createHash("sha256").update(content).digest("hex").slice(0, HASH_CHARS);
  const dot = name.indexOf(".");
  return dot < 0 ? `${name}.${hash}` : `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

/** Whether a file's name carries its content's hash: a new content is a new name. */
export function isHashedName(name: string): boolean {
  return HASHED.test(name);
}
