import type { ClusterClaims } from "../bus/bus.ts";
import { guestPublicId } from "../store/public-id.ts";
import type { Store } from "../store/store.ts";
import type { AuthMode, Caller } from "./caller.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import { checkSecret, type Limits } from "./limits.ts";
import { checkUsername, excerpt, nameKey } from "./names.ts";
import { nameInUse, OnlineNames } from "./online-names.ts";
import type { ChatStats } from "./stats.ts";
import type { Identity, UserId } from "./types.ts";
import { UserDirectory } from "./user-directory.ts";

export interface IdentitiesOptions {
  readonly store: Store;
  readonly limits: Limits;
  readonly auth: AuthMode;
  /** Where refused guests are counted. */
  readonly stats: ChatStats;
  /** How many user names (guests' chosen, accounts' seen) are remembered. Default 100,000. */
  readonly maxKnownUsers?: number;
  /**
   * Where nodes of a cluster agree on online names. Without it (one node)
   * this node's memory decides; while it cannot be reached, so does this
   * node's memory, for this node's clients.
   */
  readonly claims: ClusterClaims | undefined;
  /** Counts a new guest name against its address; throws past the limit. */
  readonly newGuestName?: (address: string) => Promise<void>;
}

/**
 * Who chats under which name: a guest's public id from its secret, the
 * names guests chose and accounts were seen with, who is online under which
 * name, and the name's claim across the nodes of a cluster. This is where a
 * name is granted or refused.
 */
export class Identities {
  readonly online: OnlineNames;
  readonly #store: Store;
  readonly #limits: Limits;
  readonly #auth: AuthMode;
  readonly #stats: ChatStats;
  readonly #names: UserDirectory;
  readonly #claims: ClusterClaims | undefined;
  readonly #newGuestName: ((address: string) => Promise<void>) | undefined;

  constructor(options: IdentitiesOptions) {
    this.#newGuestName = options.newGuestName;
    this.#store = options.store;
    this.#limits = options.limits;
    this.#auth = options.auth;
    this.#stats = options.stats;
    this.#names = new UserDirectory(options.maxKnownUsers ?? 100_000);
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
   * cannot be asked, this node's own rule alone applies. A claim whose
   * stream then does not open is given back with {@link unclaimIfUnused}.
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
    if (this.#auth === "required") {
      this.#stats.authFailed("account_required");
      throw new ChatError(
        "unauthenticated",
        "This server requires an account: log in (or register) and send the token.",
      );
    }
    return { kind: "guest", userId: guestPublicId(this.#store.idKey, checkSecret(secret)) };
  }

  /** Notes the name a user was seen with (an account whose token was shown), for {@link knownName}. */
  seen(identity: Identity): void {
    this.#names.set(identity.userId, identity.username);
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
    const account = await asChatError(this.#store.accountByName(nameKey(name)));
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
    address?: string,
  ): Promise<{ identity: Identity; known: boolean }> {
    if (caller.kind === "account") return { identity: caller.identity, known: true };
    if (caller.kind === "anonymous") {
      throw new ChatError(
        "unauthenticated",
        "Say who you are: send the metadata key user_id, or a token.",
      );
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
    if (await asChatError(this.#store.accountByName(nameKey(name)))) {
      throw new ChatError(
        "already_exists",
        `The name "${name}" belongs to a registered account; log in as it, or pick another name.`,
      );
    }
    // A guest taking a new name: new identities are free, so their address pays.
    if (name !== previous && address !== undefined) await this.#newGuestName?.(address);
    this.#names.set(caller.userId, name);
    return { identity: { userId: caller.userId, username: name }, known: previous !== undefined };
  }
}
