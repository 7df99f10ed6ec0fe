import type { NotifyLevel } from "../store/integration-store.ts";
import type { Store } from "../store/store.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import { checkEmail } from "./email-digests.ts";
import type { Identity, RoomId, UserId } from "./types.ts";

/**
 * What each user asked to be told about: a level per room (every message,
 * mentions and DMs, or nothing), which every client and the emails follow,
 * and the address unread mentions are mailed to.
 */
export class NotifySettings {
  readonly #store: Store;
  readonly #announce: (userId: UserId, room: RoomId, level: NotifyLevel) => void;

  /** `announce` tells the user's every session, on every node, of a new level. */
  constructor(store: Store, announce: (userId: UserId, room: RoomId, level: NotifyLevel) => void) {
    this.#store = store;
    this.#announce = announce;
  }

  async set(who: Identity, room: RoomId, level: NotifyLevel): Promise<NotifyLevel> {
    await asChatError(this.#store.setNotify(who.userId, room, level));
    this.#announce(who.userId, room, level);
    return level;
  }

  /** The user's levels by room; a room not in it is at "mentions". */
  levels(who: Identity): Promise<ReadonlyMap<RoomId, NotifyLevel>> {
    return asChatError(this.#store.notifyLevels(who.userId));
  }

  /** An account's address for digests; "" stops them. */
  async setEmail(who: Identity, raw: string): Promise<string> {
    if (!who.userId.startsWith("a-")) {
      throw new ChatError("failed_precondition", "Only a person's account can be sent emails.");
    }
    const email = checkEmail(raw);
    await asChatError(this.#store.setEmail(who.userId, email));
    return email;
  }

  emailOf(who: Identity): Promise<string> {
    return asChatError(this.#store.emailOf(who.userId));
  }
}
