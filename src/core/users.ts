import { createHash, randomBytes } from "node:crypto";
import type { ClusterClaims } from "../bus/bus.ts";
import { guestPublicId } from "../store/public-id.ts";
import type { Account, Store, TokenOwner } from "../store/store.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import { type Clock, sleep } from "./clock.ts";
import { checkSecret, type Limits } from "./limits.ts";
import { checkUsername, excerpt, nameKey } from "./names.ts";
import { nameInUse, OnlineNames } from "./online-names.ts";
import { DEFAULT_PASSWORD_COST, hashPassword, verifyPassword } from "./passwords.ts";
import { describeWait, RateLimiter } from "./rate-limit.ts";
import { ChatStats } from "./stats.ts";
import type { Identity, UserId } from "./types.ts";
import { UserDirectory } from "./user-directory.ts";

/** `open`: guests may chat under a free name; `required`: only accounts may. */
export type AuthMode = "open" | "required";

/** Who a call is, decided once per call from its credentials (never from a message). */
export type Caller =
  | {
      readonly kind: "account";
      readonly identity: Identity;
      readonly tokenHash: string;
      readonly expiresMs: number;
    }
  | { readonly kind: "guest"; readonly userId: UserId }
  | { readonly kind: "anonymous" };

/** The public id a caller acts as; undefined for one with no identity. */
export function callerId(caller: Caller): UserId | undefined {
  if (caller.kind === "account") return caller.identity.userId;
  return caller.kind === "guest" ? caller.userId : undefined;
}

/** A new login: the token is shown to its owner once and kept only as a hash. */
export interface Login {
  readonly token: string;
  readonly identity: Identity;
  readonly expiresMs: number;
}

export interface UsersOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly limits: Limits;
  readonly auth?: AuthMode;
  /** How long a login token lasts. Default 30 days. */
  readonly tokenTtlMs?: number;
  /** scrypt cost as log2(N). Default 15. */
  readonly passwordCost?: number;
  /** How many user names (guests' chosen, accounts' seen) are remembered. Default 100,000. */
  readonly maxKnownUsers?: number;
  /** Where refused sign-ins are counted. */
  readonly stats?: ChatStats;
  /**
   * Where nodes of a cluster agree on online names and rates. Without it
   * (one node) this node's memory decides; while it cannot be reached, so
   * does this node's memory, for this node's clients.
   */
  readonly claims?: ClusterClaims | undefined;
}

const MIN_PASSWORD_CHARS = 8;
const MAX_PASSWORD_CHARS = 1024;
// Login for a name nobody has still costs one hash, so timing does not tell
// which names are registered.
const NO_SUCH_ACCOUNT =
  "scrypt$15$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function unauthenticated(message: string): ChatError {
  return new ChatError("unauthenticated", message);
}

/**
 * Everyone the server knows: accounts and their tokens (in the store), the
 * names guests chose, and who is online under which name. This is where a
 * name is granted or refused, and where a token becomes a user.
 */
export class Users {
  readonly mode: AuthMode;
  readonly online: OnlineNames;
  readonly stats: ChatStats;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #limits: Limits;
  readonly #tokenTtlMs: number;
  readonly #passwordCost: number;
  readonly #names: UserDirectory;
  readonly #sendRate: RateLimiter;
  readonly #attempts: RateLimiter;
  readonly #claims: ClusterClaims | undefined;

  constructor(options: UsersOptions) {
    this.mode = options.auth ?? "open";
    this.stats = options.stats ?? new ChatStats();
    this.#store = options.store;
    this.#clock = options.clock;
    this.#limits = options.limits;
    this.#tokenTtlMs = options.tokenTtlMs ?? 30 * 86_400_000;
    this.#passwordCost = options.passwordCost ?? DEFAULT_PASSWORD_COST;
    this.#names = new UserDirectory(options.maxKnownUsers ?? 100_000);
    this.#sendRate = new RateLimiter(options.clock, this.#limits.sendRate, this.#limits.sendBurst);
    const perMinute = this.#limits.authAttemptsPerMinute;
    this.#attempts = new RateLimiter(options.clock, perMinute / 60, perMinute);
    const claims = options.claims;
    this.#claims = claims;
    // The cluster follows this node's holders: a name is claimed again when a
    // stream first wears it here (a release sent just before may have undone
    // the check's claim) and released when the last one ends.
    this.online = new OnlineNames(
      claims &&
        ((identity, held) => {
          const key = nameKey(identity.username);
          const done = held
            ? claims.claimName(key, identity.userId)
            : claims.releaseName(key, identity.userId);
          done.catch(() => {});
        }),
    );
  }

  /**
   * Before a stream opens wearing `identity`'s name: across the cluster the
   * name must not be another user's (ALREADY_EXISTS). While the cluster
   * cannot be asked, this node's own rule alone applies.
   */
  async claimAcrossNodes(identity: Identity): Promise<void> {
    if (!this.#claims) return;
    let granted = true;
    try {
      granted = await this.#claims.claimName(nameKey(identity.username), identity.userId);
    } catch {
      // Redis is away (the bus says so): this node's own rule decides.
    }
    if (!granted) throw nameInUse(identity.username);
  }

  /** A claim made for a stream that then did not open: given back unless a stream here wears the name. */
  unclaimIfUnused(identity: Identity): void {
    if (!this.#claims || this.online.holder(identity.username) === identity.userId) return;
    this.#claims.releaseName(nameKey(identity.username), identity.userId).catch(() => {});
  }

  /** A caller who presents a guest secret (open mode only). */
  guest(secret: string): Caller {
    if (this.mode === "required") {
      this.stats.authFailed("account_required");
      throw unauthenticated(
        "This server requires an account: log in (or register) and send the token.",
      );
    }
    return { kind: "guest", userId: guestPublicId(this.#store.idKey, checkSecret(secret)) };
  }

  /** The account a bearer token belongs to; UNAUTHENTICATED when it is unknown, expired or revoked. */
  async authenticate(token: string): Promise<Caller> {
    const tokenHash = hashToken(token);
    let owner: TokenOwner | undefined;
    try {
      owner = await this.#store.tokenAccount(tokenHash, this.#clock.now());
    } catch (error) {
      throw toChatError(error);
    }
    if (!owner) {
      this.stats.authFailed("bad_token");
      throw unauthenticated(
        "The token is not valid (unknown, expired or logged out); log in again for a new one.",
      );
    }
    const { account, expiresMs } = owner;
    this.#names.set(account.userId, account.username);
    return {
      kind: "account",
      identity: { userId: account.userId, username: account.username },
      tokenHash,
      expiresMs,
    };
  }

  /**
   * Counts an attempt at Register, Login or JoinChat from `address`; throws
   * RESOURCE_EXHAUSTED past the per-minute limit.
   */
  async attempt(address: string): Promise<void> {
    const waitMs = await this.#take("attempts", this.#attempts, address, 1);
    if (waitMs > 0) {
      this.stats.authFailed("too_many_attempts");
      throw new ChatError(
        "resource_exhausted",
        `Too many sign-in attempts from your address; try again in ${describeWait(waitMs)}.`,
        { retryAfterMs: waitMs },
      );
    }
  }

  /**
   * Counts `count` messages from `userId` against the send rate, before
   * anything is stored; refuses with RESOURCE_EXHAUSTED, saying when to retry.
   */
  async admitSend(userId: UserId, count: number): Promise<void> {
    const waitMs = await this.#take("send", this.#sendRate, userId, count);
    if (waitMs === 0) return;
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
  async waitToSend(userId: UserId, stillRunning: () => void): Promise<void> {
    let waitMs = await this.#take("send", this.#sendRate, userId, 1);
    while (waitMs > 0) {
      await sleep(this.#clock, waitMs);
      stillRunning();
      waitMs = await this.#take("send", this.#sendRate, userId, 1);
    }
  }

  /**
   * Takes from `key`'s bucket: the cluster's when there is one, so a client
   * spread over n nodes does not get n times the rate; this node's while the
   * cluster cannot be asked.
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

  async register(caller: Caller, username: string, password: string): Promise<Login> {
    const name = checkUsername(username, this.#limits.maxNameChars);
    checkPassword(password);
    const holder = this.online.holder(name);
    if (holder && !(caller.kind === "guest" && caller.userId === holder)) throw nameInUse(name);
    const account: Account = {
      userId: `a-${randomBytes(12).toString("base64url")}`,
      username: name,
      nameKey: nameKey(name),
      passwordHash: await hashPassword(password, this.#passwordCost),
      createdMs: this.#clock.now(),
    };
    if (!(await this.#guard(this.#store.createAccount(account)))) {
      throw new ChatError(
        "already_exists",
        `The name "${name}" (or one that looks the same) is already registered; log in, or pick another.`,
      );
    }
    return this.#issue(account);
  }

  async login(username: string, password: string): Promise<Login> {
    const refused = unauthenticated("That name and password do not match an account.");
    let key: string;
    try {
      key = nameKey(checkUsername(username, this.#limits.maxNameChars));
    } catch {
      this.stats.authFailed("wrong_password");
      throw refused;
    }
    const account = await this.#guard(this.#store.accountByName(key));
    const matches = await verifyPassword(password, account?.passwordHash ?? NO_SUCH_ACCOUNT);
    if (!account || !matches) {
      this.stats.authFailed("wrong_password");
      throw refused;
    }
    return this.#issue(account);
  }

  async logout(caller: Caller): Promise<void> {
    if (caller.kind !== "account") {
      throw new ChatError("failed_precondition", "Only a call made with a token can log out.");
    }
    await this.#guard(this.#store.revokeToken(caller.tokenHash));
  }

  /**
   * Who `caller` writes as, for a call that carries no name (a unary Send,
   * OpenDirect, SetTopic): a guest must have chosen one first.
   */
  async speaker(caller: Caller): Promise<Identity> {
    if (caller.kind === "guest" && this.nameOf(caller) === undefined) {
      throw new ChatError(
        "failed_precondition",
        "This user_id has no name yet (or the server restarted since); call JoinChat or open a Session first.",
      );
    }
    return (await this.nameFor(caller, "")).identity;
  }

  /** The name a guest last chose, if the server remembers one. */
  nameOf(caller: Caller): string | undefined {
    if (caller.kind === "account") return caller.identity.username;
    if (caller.kind === "guest") return this.#names.get(caller.userId);
    return undefined;
  }

  /** The name last seen for a user (guest or account), if the server remembers one. */
  knownName(userId: UserId): string | undefined {
    return this.#names.get(userId);
  }

  /**
   * Who a name belongs to, for a direct message: its account's owner, else
   * whoever wears it online. NOT_FOUND when neither.
   */
  async find(name: string): Promise<Identity> {
    const account = await this.#guard(this.#store.accountByName(nameKey(name)));
    if (account) return { userId: account.userId, username: account.username };
    const online = this.online.find(name);
    if (online) return online;
    throw new ChatError(
      "not_found",
      `No one called "${excerpt(name, this.#limits.maxNameChars)}" is online or has an account.`,
    );
  }

  /**
   * The identity `caller` chats under, asking for `requested` (empty: the
   * name it had). An account always has its own name. A guest's name must be
   * free: not registered to an account, not worn by another user online.
   * `known` says whether the caller had a name before.
   */
  async nameFor(
    caller: Caller,
    requested: string,
  ): Promise<{ identity: Identity; known: boolean }> {
    if (caller.kind === "account") return { identity: caller.identity, known: true };
    if (caller.kind === "anonymous") {
      throw unauthenticated("Say who you are: send the metadata key user_id, or a token.");
    }
    const previous = this.#names.get(caller.userId);
    const name =
      requested.trim() === "" ? previous : checkUsername(requested, this.#limits.maxNameChars);
    if (name === undefined) {
      throw new ChatError(
        "invalid_argument",
        `A username is required (1-${this.#limits.maxNameChars} characters).`,
      );
    }
    const holder = this.online.holder(name);
    if (holder !== undefined && holder !== caller.userId) throw nameInUse(name);
    if (holder === undefined) {
      // Asked of the cluster too; held only while a stream wears it.
      const identity = { userId: caller.userId, username: name };
      await this.claimAcrossNodes(identity);
      this.unclaimIfUnused(identity);
    }
    if (await this.#guard(this.#store.accountByName(nameKey(name)))) {
      throw new ChatError(
        "already_exists",
        `The name "${name}" belongs to a registered account; log in as it, or pick another name.`,
      );
    }
    this.#names.set(caller.userId, name);
    return { identity: { userId: caller.userId, username: name }, known: previous !== undefined };
  }

  async #issue(account: Account): Promise<Login> {
    const token = randomBytes(32).toString("base64url");
    const expiresMs = this.#clock.now() + this.#tokenTtlMs;
    await this.#guard(
      this.#store.saveToken({ tokenHash: hashToken(token), userId: account.userId, expiresMs }),
    );
    return { token, identity: { userId: account.userId, username: account.username }, expiresMs };
  }

  async #guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw toChatError(error);
    }
  }
}

function checkPassword(password: string): void {
  const chars = [...password].length;
  if (chars < MIN_PASSWORD_CHARS || chars > MAX_PASSWORD_CHARS) {
    throw new ChatError(
      "invalid_argument",
      `A password is ${MIN_PASSWORD_CHARS}-${MAX_PASSWORD_CHARS} characters long.`,
    );
  }
}
