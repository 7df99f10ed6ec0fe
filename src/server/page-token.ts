import { ChatError } from "../core/chat-error.ts";

const MAX_PAGE = 1000;

/** A page token: where the previous page ended, opaque to clients. */
export function encodePageToken(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

export function decodePageToken(token: string): string[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(parts) && parts.length > 0 && parts.every((p) => typeof p === "string")) {
      return parts;
    }
  } catch {
    // Reported below, in words.
  }
  throw new ChatError(
    "invalid_argument",
    "The page_token is not one this server gave out; start again with an empty one.",
  );
}

/** A requested page size: 0 means the default; 1-1000 otherwise. */
export function checkPageSize(requested: number, byDefault: number): number {
  if (requested < 0 || requested > MAX_PAGE) {
    throw new ChatError("invalid_argument", `A page_size is 1-${MAX_PAGE} (0 means ${byDefault}).`);
  }
  return requested || byDefault;
}
