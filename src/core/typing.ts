import { ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import { RateLimiter } from "./rate-limiter.ts";
import type { Identity, RoomId, UserId } from "./types.ts";

export interface TypingOptions {
  readonly clock: Clock;
  /** How long "typing" lasts after the last signal. */
  readonly expiryMs: number;
  /** Signals one user may send per second, sustained (a burst of 5 on top). */
  readonly perSecond: number;
}

export const DEFAULT_TYPING_EXPIRY_MS = 6_000;

/** Who is typing in one room, by user, until when. */
type RoomTyping = Map<UserId, { readonly identity: Identity; readonly until: number }>;

/**
 * Who is typing where, on this node, from this node's users and (over the
 * bus) other nodes'. Never stored. A room's set is handed out at most once
 * per tick and only when it changed, so a room full of typists costs one
 * event per tick; a user who stops signalling drops out at expiry.
 */
export class Typing {
  readonly #options: TypingOptions;
  readonly #rooms = new Map<RoomId, RoomTyping>();
  readonly #changed = new Set<RoomId>();
  readonly #rate: RateLimiter;

  constructor(options: TypingOptions) {
    this.#options = options;
    this.#rate = new RateLimiter(options.clock, options.perSecond, 5);
  }

  get expiryMs(): number {
    return this.#options.expiryMs;
  }

  /** A signal from this node's user: refused (RESOURCE_EXHAUSTED) past the user's rate. */
  admit(userId: UserId): void {
    const waitMs = this.#rate.take(userId);
    if (waitMs > 0) {
      throw new ChatError(
        "resource_exhausted",
        "Typing is signalled too often; once every few seconds is enough.",
        { retryAfterMs: waitMs },
      );
    }
  }

  /**
   * Records a signal; resolves whether it changes what others were told (a
   * refresh of someone already typing does not, so it need not travel).
   */
  note(room: RoomId, identity: Identity, stopped: boolean, ttlMs: number): boolean {
    let typing = this.#rooms.get(room);
    const was = typing?.get(identity.userId);
    if (stopped) {
      if (!was || !typing) return false;
      typing.delete(identity.userId);
      if (typing.size === 0) this.#rooms.delete(room);
      this.#changed.add(room);
      return true;
    }
    if (!typing) {
      typing = new Map();
      this.#rooms.set(room, typing);
    }
    typing.set(identity.userId, { identity, until: this.#options.clock.now() + ttlMs });
    if (was && was.identity.username === identity.username) return false;
    this.#changed.add(room);
    return true;
  }

  /** Rooms whose set changed since the last call (expiries included), each with who types now. */
  flush(): Array<{ room: RoomId; typing: Identity[] }> {
    const now = this.#options.clock.now();
    for (const [room, typing] of this.#rooms) {
      for (const [userId, { until }] of typing) {
        if (until <= now) {
          typing.delete(userId);
          this.#changed.add(room);
        }
      }
      if (typing.size === 0) this.#rooms.delete(room);
    }
    const changes = [...this.#changed].map((room) => ({
      room,
      typing: [...(this.#rooms.get(room)?.values() ?? [])]
        .map((t) => t.identity)
        .sort((a, b) => a.username.localeCompare(b.username)),
    }));
    this.#changed.clear();
    return changes;
  }
}
