import type { ClusterClaims } from "../bus/bus.ts";
import { ChatError } from "./chat-error.ts";
import { type Clock, sleep } from "./clock.ts";
import type { Limits } from "./limits.ts";
import { describeWait, RateLimiter } from "./rate-limiter.ts";
import type { ChatStats } from "./stats.ts";
import type { UserId } from "./types.ts";

/** Searches a user may run at once before the per-minute rate applies. */
const SEARCH_BURST = 20;

const isGuest = (userId: UserId) => userId.startsWith("g-");

export interface RateLimitsOptions {
  readonly clock: Clock;
  readonly limits: Limits;
  /** Where refused sign-ins are counted. */
  readonly stats: ChatStats;
  /**
   * Where nodes of a cluster share their token buckets. Without it (one
   * node) this node's buckets decide; while it cannot be reached, so do this
   * node's, for this node's clients.
   */
  readonly claims: ClusterClaims | undefined;
}

/**
 * The rates a client is held to: sign-in attempts per address and messages
 * per user. In a cluster the buckets are the cluster's, so a client spread
 * over n nodes does not get n times the rate.
 */
export class RateLimits {
  readonly #clock: Clock;
  readonly #stats: ChatStats;
  readonly #sendRate: RateLimiter;
  readonly #attempts: RateLimiter;
  readonly #guestSends: RateLimiter;
  readonly #guestNames: RateLimiter;
  readonly #searches: RateLimiter;
  readonly #hookPosts: RateLimiter;
  readonly #claims: ClusterClaims | undefined;

  constructor(options: RateLimitsOptions) {
    const { clock, limits } = options;
    this.#clock = clock;
    this.#stats = options.stats;
    this.#claims = options.claims;
    this.#sendRate = new RateLimiter(clock, limits.sendRate, limits.sendBurst);
    const perMinute = limits.authAttemptsPerMinute;
    this.#attempts = new RateLimiter(clock, perMinute / 60, perMinute);
    this.#guestSends = new RateLimiter(clock, limits.guestSendsPerAddress, limits.sendBurst);
    const names = limits.guestNamesPerMinute;
    this.#guestNames = new RateLimiter(clock, names / 60, names);
    this.#searches = new RateLimiter(clock, limits.searchesPerMinute / 60, SEARCH_BURST);
    const posts = limits.webhookPostsPerMinute;
    this.#hookPosts = new RateLimiter(clock, posts / 60, Math.max(1, Math.ceil(posts / 3)));
  }

  /** Counts a post to the incoming webhook `hookId`; throws RESOURCE_EXHAUSTED past --webhook-posts-per-minute. */
  async webhookPost(hookId: string): Promise<void> {
    const waitMs = await this.#take("hook-posts", this.#hookPosts, hookId, 1);
    if (waitMs > 0) {
      throw new ChatError(
        "resource_exhausted",
        `This webhook is posting too fast; try again in ${describeWait(waitMs)}.`,
        { retryAfterMs: waitMs },
      );
    }
  }

  /**
   * Counts a new guest name taken from `address`; throws RESOURCE_EXHAUSTED
   * past the per-minute limit (--guest-names-per-minute).
   */
  async newGuestName(address: string): Promise<void> {
    const waitMs = await this.#take("guest-names", this.#guestNames, address, 1);
    if (waitMs > 0) {
      throw new ChatError(
        "resource_exhausted",
        `Too many new guest names from your address; try again in ${describeWait(waitMs)}, or register an account.`,
        { retryAfterMs: waitMs },
      );
    }
  }

  /** Counts a search by `userId`; throws RESOURCE_EXHAUSTED past --searches-per-minute. */
  async search(userId: UserId): Promise<void> {
    const waitMs = await this.#take("searches", this.#searches, userId, 1);
    if (waitMs > 0) {
      throw new ChatError(
        "resource_exhausted",
        `You are searching faster than ${this.#searches.perSecond * 60} searches a minute; try again in ${describeWait(waitMs)}.`,
        { retryAfterMs: waitMs },
      );
    }
  }

  /**
   * Counts an attempt at Register, Login or JoinChat from `address`; throws
   * RESOURCE_EXHAUSTED past the per-minute limit.
   */
  async attempt(address: string): Promise<void> {
    const waitMs = await this.#take("attempts", this.#attempts, address, 1);
    if (waitMs > 0) {
      this.#stats.authFailed("too_many_attempts");
      throw new ChatError(
        "resource_exhausted",
        `Too many sign-in attempts from your address; try again in ${describeWait(waitMs)}.`,
        { retryAfterMs: waitMs },
      );
    }
  }

  /** Whether sends are held to a rate at all (--send-rate is not 0). */
  get sendRateLimited(): boolean {
    return this.#sendRate.enabled;
  }

  /**
   * Counts `count` messages from `userId` against the send rate, before
   * anything is stored; refuses with RESOURCE_EXHAUSTED, saying when to retry.
   */
  async admitSend(userId: UserId, count: number, address?: string): Promise<void> {
    const waitMs = await this.#take("send", this.#sendRate, userId, count);
    if (waitMs === 0) {
      await this.#admitGuest(userId, count, address);
      return;
    }
    const { perSecond, burst } = this.#sendRate;
    if (!Number.isFinite(waitMs)) {
      throw new ChatError(
        "resource_exhausted",
        `At most ${burst} messages can be sent at once; this is ${count}. Send them in smaller parts.`,
      );
    }
    throw new ChatError(
      "resource_exhausted",
      `You are sending faster than ${perSecond} messages a second; try again in ${describeWait(waitMs)}.`,
      { retryAfterMs: waitMs },
    );
  }

  /**
   * Waits until the send rate allows one more message from `userId`, and
   * counts it. `stillRunning` throws to give up (the server is stopping).
   */
  async waitToSend(userId: UserId, stillRunning: () => void, address?: string): Promise<void> {
    let waitMs = await this.#take("send", this.#sendRate, userId, 1);
    while (waitMs > 0) {
      await sleep(this.#clock, waitMs);
      stillRunning();
      waitMs = await this.#take("send", this.#sendRate, userId, 1);
    }
    if (address === undefined || !isGuest(userId)) return;
    waitMs = await this.#take("guest-send", this.#guestSends, address, 1);
    while (waitMs > 0) {
      await sleep(this.#clock, waitMs);
      stillRunning();
      waitMs = await this.#take("guest-send", this.#guestSends, address, 1);
    }
  }

  /** Guests at one address share a rate: a new secret is free, a new address is not. */
  async #admitGuest(userId: UserId, count: number, address: string | undefined): Promise<void> {
    if (address === undefined || !isGuest(userId)) return;
    const waitMs = await this.#take("guest-send", this.#guestSends, address, count);
    if (waitMs === 0) return;
    throw new ChatError(
      "resource_exhausted",
      Number.isFinite(waitMs)
        ? `Guests at your address are sending faster than ${this.#guestSends.perSecond} messages a second together; try again in ${describeWait(waitMs)}, or register an account.`
        : `Guests at one address may send at most ${this.#guestSends.burst} messages at once.`,
      Number.isFinite(waitMs) ? { retryAfterMs: waitMs } : undefined,
    );
  }

  /**
   * Takes from `key`'s bucket: the cluster's when there is one; this node's
   * while the cluster cannot be asked.
   */
  async #take(bucket: string, local: RateLimiter, key: string, cost: number): Promise<number> {
    if (this.#claims && local.enabled) {
      try {
        return await this.#claims.take(`${bucket}:${key}`, local.perSecond, local.burst, cost);
      } catch {
        // Redis is away (the bus says so).
      }
    }
    return local.take(key, cost);
  }
}
