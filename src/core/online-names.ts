import { ChatError } from "./chat-error.ts";
import { nameKey } from "./names.ts";
import type { Identity, UserId } from "./types.ts";

interface Holder {
  readonly userId: UserId;
  readonly username: string;
  streams: number;
}

/**
 * Which names are in use by someone online, and how many live streams each
 * user has. A name belongs to the user whose stream wears it until their last
 * stream with it ends; another user cannot take it meanwhile, not even in a
 * look-alike spelling (names are compared by {@link nameKey}).
 */
export class OnlineNames {
  readonly #byKey = new Map<string, Holder>();
  readonly #streams = new Map<UserId, number>();
  readonly #changed: ((identity: Identity, held: boolean) => void) | undefined;

  /** `changed` hears when a name comes to be worn here, and when its last stream here ends. */
  constructor(changed?: (identity: Identity, held: boolean) => void) {
    this.#changed = changed;
  }

  /** The user online under this name (or one that looks like it), if any. */
  holder(name: string): UserId | undefined {
    return this.#byKey.get(nameKey(name))?.userId;
  }

  /** Who is online under this name (or one that looks like it), if anyone. */
  find(name: string): Identity | undefined {
    const holder = this.#byKey.get(nameKey(name));
    return holder && { userId: holder.userId, username: holder.username };
  }

  streamsOf(userId: UserId): number {
    return this.#streams.get(userId) ?? 0;
  }

  /** Counts a new stream of `identity`; throws ALREADY_EXISTS when another user wears the name. */
  claim(identity: Identity): void {
    const key = nameKey(identity.username);
    const holder = this.#byKey.get(key);
    if (holder && holder.userId !== identity.userId) throw nameInUse(identity.username);
    if (holder) holder.streams += 1;
    else {
      this.#byKey.set(key, { userId: identity.userId, username: identity.username, streams: 1 });
      this.#changed?.(identity, true);
    }
    this.#streams.set(identity.userId, this.streamsOf(identity.userId) + 1);
  }

  release(identity: Identity): void {
    const key = nameKey(identity.username);
    const holder = this.#byKey.get(key);
    if (holder?.userId === identity.userId && --holder.streams === 0) {
      this.#byKey.delete(key);
      this.#changed?.(holder, false);
    }
    const streams = this.streamsOf(identity.userId) - 1;
    if (streams > 0) this.#streams.set(identity.userId, streams);
    else this.#streams.delete(identity.userId);
  }
}

export function nameInUse(name: string): ChatError {
  return new ChatError(
    "already_exists",
    `Someone online is already called "${name}" (or a name that looks the same); pick another name.`,
  );
}
