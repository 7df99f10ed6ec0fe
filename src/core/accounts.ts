import { createHash, randomBytes } from "node:crypto";
import type { Account, Store, TokenOwner } from "../store/store.ts";
import type { AuthMode, Caller } from "./caller.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { Identities } from "./identities.ts";
import type { Limits } from "./limits.ts";
import { checkUsername, nameKey } from "./names.ts";
import { nameInUse } from "./online-names.ts";
import { DEFAULT_PASSWORD_COST, hashPassword, verifyPassword } from "./passwords.ts";
import type { ChatStats } from "./stats.ts";
import type { Identity } from "./types.ts";

/** A new login: the token is shown to its owner once and kept only as a hash. */
export interface Login {
  readonly token: string;
  readonly identity: Identity;
  readonly expiresMs: number;
}

export interface AccountsOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly limits: Limits;
  readonly auth: AuthMode;
  /** Where refused sign-ins are counted. */
  readonly stats: ChatStats;
  /** Who is online under which name: a new account may not take a name someone else wears. */
  readonly identities: Identities;
  /** How long a login token lasts. Default 30 days. */
  readonly tokenTtlMs?: number;
  /** scrypt cost as log2(N). Default 15. */
  readonly passwordCost?: number;
}

const MIN_PASSWORD_CHARS = 8;
const MAX_PASSWORD_CHARS = 1024;
// Login for a name nobody has (or a reset account) still costs one hash, so
// timing does not tell which names are registered.
const NO_SUCH_ACCOUNT =
  "scrypt$15$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/** How every secret a client holds (a token, a bot's token, a hook's secret) is kept: its SHA-256, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * Accounts and their tokens, kept in the store: registering, logging in and
 * out, and a bearer token becoming its account. Tokens are kept only as
 * hashes.
 */
export class Accounts {
  /** Whether guests may chat too, or accounts only. */
  readonly mode: AuthMode;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #limits: Limits;
  readonly #stats: ChatStats;
  readonly #identities: Identities;
  readonly #tokenTtlMs: number;
  readonly #passwordCost: number;

  constructor(options: AccountsOptions) {
    this.mode = options.auth;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#limits = options.limits;
    this.#stats = options.stats;
    this.#identities = options.identities;
    this.#tokenTtlMs = options.tokenTtlMs ?? 30 * 86_400_000;
    this.#passwordCost = options.passwordCost ?? DEFAULT_PASSWORD_COST;
  }

  /** The account a bearer token belongs to; UNAUTHENTICATED when it is unknown, expired or revoked. */
  async authenticate(token: string): Promise<Caller> {
    const tokenHash = hashToken(token);
    const owner: TokenOwner | undefined = await asChatError(
      this.#store.tokenAccount(tokenHash, this.#clock.now()),
    );
    if (!owner) {
      this.#stats.authFailed("bad_token");
      throw new ChatError(
        "unauthenticated",
        "The token is not valid (unknown, expired or logged out); log in again for a new one.",
      );
    }
    const { account, expiresMs } = owner;
    const identity = { userId: account.userId, username: account.username };
    this.#identities.seen(identity);
    return { kind: "account", identity, tokenHash, expiresMs };
  }

  /**
   * A new account named `username`, and its first token. A guest may take
   * the name it wears online; no one may take a name another user wears, or
   * one that looks like a registered one (ALREADY_EXISTS).
   */
  async register(caller: Caller, username: string, password: string): Promise<Login> {
    const name = checkUsername(username, this.#limits.maxNameChars);
    checkPassword(password);
    const holder = this.#identities.online.holder(name);
    if (holder && !(caller.kind === "guest" && caller.userId === holder)) throw nameInUse(name);
    const account: Account = {
      userId: `a-${randomBytes(12).toString("base64url")}`,
      username: name,
      nameKey: nameKey(name),
      passwordHash: await hashPassword(password, this.#passwordCost),
      createdMs: this.#clock.now(),
    };
    if (!(await asChatError(this.#store.createAccount(account)))) {
      throw new ChatError(
        "already_exists",
        `The name "${name}" (or one that looks the same) is already registered; log in, or pick another.`,
      );
    }
    return this.#issue(account);
  }

  /** A new token for the account; UNAUTHENTICATED, saying no more, when name and password do not match. */
  async login(username: string, password: string): Promise<Login> {
    const refused = new ChatError(
      "unauthenticated",
      "That name and password do not match an account.",
    );
    let key: string;
    try {
      key = nameKey(checkUsername(username, this.#limits.maxNameChars));
    } catch {
      this.#stats.authFailed("wrong_password");
      throw refused;
    }
    const account = await asChatError(this.#store.accountByName(key));
    // A reset account stores no hash; it costs one all the same, so timing does
    // not tell which accounts an admin reset.
    const stored = account?.passwordHash.startsWith("scrypt$") ? account.passwordHash : undefined;
    const matches = (await verifyPassword(password, stored ?? NO_SUCH_ACCOUNT)) && !!stored;
    if (!account || !matches) {
      this.#stats.authFailed("wrong_password");
      throw refused;
    }
    if (await asChatError(this.#store.accountDisabled(account.userId))) {
      throw new ChatError(
        "permission_denied",
        "This account is disabled by the server's admins; ask them to enable it.",
      );
    }
    return this.#issue(account);
  }

  /** A new password with a one-time code from an admin (AdminResetPassword), and a token. */
  async resetPassword(code: string, password: string): Promise<Login> {
    checkPassword(password);
    const userId = await asChatError(
      this.#store.takeResetCode(hashToken(code.trim()), this.#clock.now()),
    );
    const account = userId && (await asChatError(this.#store.accountById(userId)));
    if (!account) {
      throw new ChatError(
        "unauthenticated",
        "That reset code is unknown, used or expired; ask an admin for a new one.",
      );
    }
    const passwordHash = await hashPassword(password, this.#passwordCost);
    await asChatError(this.#store.setPasswordHash(account.userId, passwordHash));
    return this.#issue(account);
  }

  /** A one-time code for `userId` to set a new password with, valid for `ttlMs`. */
  async resetCode(userId: string, ttlMs: number): Promise<{ code: string; expiresMs: number }> {
    const code = randomBytes(18).toString("base64url");
    const expiresMs = this.#clock.now() + ttlMs;
    await asChatError(this.#store.saveResetCode({ codeHash: hashToken(code), userId, expiresMs }));
    return { code, expiresMs };
  }

  /** Revokes the token the call was made with (FAILED_PRECONDITION for a call without one). */
  async logout(caller: Caller): Promise<void> {
    if (caller.kind !== "account") {
      throw new ChatError("failed_precondition", "Only a call made with a token can log out.");
    }
    await asChatError(this.#store.revokeToken(caller.tokenHash));
  }

  async #issue(account: Account): Promise<Login> {
    const token = randomBytes(32).toString("base64url");
    const expiresMs = this.#clock.now() + this.#tokenTtlMs;
    await asChatError(
      this.#store.saveToken({ tokenHash: hashToken(token), userId: account.userId, expiresMs }),
    );
    return { token, identity: { userId: account.userId, username: account.username }, expiresMs };
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
