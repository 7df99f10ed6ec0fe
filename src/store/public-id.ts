import { createHmac } from "node:crypto";

/**
 * The id everyone else sees for a caller who names itself (a seed client's
 * user_id, or a guest's): a one-way function of that secret under the
 * history's own key, so it is stable across restarts, says nothing of the
 * secret, and cannot be computed back into it, even for a short, guessable
 * secret, by anyone without the key.
 */
export function guestPublicId(idKey: string, secret: string): string {
  return `g-${createHmac("sha256", idKey).update(secret, "utf8").digest("base64url").slice(0, 22)}`;
}
