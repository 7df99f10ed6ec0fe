import type { UserId } from "./types.ts";

/**
 * The username each user_id last joined with (the seed's JoinChat registry).
 * Bounded: past `capacity` entries the least recently seen user is forgotten
 * (they are treated as new at their next JoinChat).
 */
export class UserDirectory {
  readonly #names = new Map<UserId, string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(userId: UserId): string | undefined {
    return this.#names.get(userId);
  }

  /** Records the name; returns whether the user was already known. */
  set(userId: UserId, username: string): boolean {
    const known = this.#names.delete(userId);
    this.#names.set(userId, username);
    if (this.#names.size > this.#capacity) {
      const oldest = this.#names.keys().next();
      if (!oldest.done) this.#names.delete(oldest.value);
    }
    return known;
  }
}
