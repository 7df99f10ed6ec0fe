import type { Store } from "../store/store.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import type { Identities } from "./identities.ts";
import type { Identity, UserId } from "./types.ts";

const USER_ID = /^[ag]-[A-Za-z0-9_-]{6,64}$/;

/**
 * Users named in moderation and admin calls: by id (as member lists show
 * them) or by name (an account's, or a guest's online now), and the names
 * to show for stored ids.
 */
export class People {
  readonly #store: Store;
  readonly #identities: Identities;

  constructor(store: Store, identities: Identities) {
    this.#store = store;
    this.#identities = identities;
  }

  /** Who `ref` names; NOT_FOUND when nobody. */
  async resolve(ref: string): Promise<Identity> {
    const trimmed = ref.trim().replace(/^@/, "");
    if (trimmed === "") throw new ChatError("invalid_argument", "Name the user (a name or an id).");
    if (USER_ID.test(trimmed)) {
      const known = await this.identity(trimmed);
      if (known.username !== "" || trimmed.startsWith("g-")) return known;
    }
    return this.#identities.find(trimmed);
  }

  /** A stored id with the name last known for it ("" when none is). */
  async identity(userId: UserId): Promise<Identity> {
    if (userId.startsWith("a-")) {
      try {
        const account = await this.#store.accountById(userId);
        if (account) return { userId, username: account.username };
      } catch (error) {
        throw toChatError(error);
      }
    }
    return { userId, username: this.#identities.knownName(userId) ?? "" };
  }
}
