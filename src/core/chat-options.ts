import type { Bus, ClusterClaims } from "../bus/bus.ts";
import type { Store } from "../store/store.ts";
import type { AuthMode } from "./caller.ts";
import type { Clock } from "./clock.ts";
import type { DigestMail } from "./email-digests.ts";
import type { Limits } from "./limits.ts";
import type { HookPoster, OutgoingHooksOptions } from "./outgoing-hooks.ts";
import type { Retention } from "./retention.ts";
import type { DeliveryOptions } from "./room-cursor.ts";
import type { RoomTailsOptions } from "./room-tails.ts";

/** The narrow slice of a pino logger the core uses. */
export interface CoreLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** Email digests of unread mentions (--smtp-url). */
export interface EmailOptions {
  readonly send: (mail: DigestMail) => Promise<void>;
  /** How long a mention waits unread before it is mailed (--email-delay). */
  readonly delayMs: number;
  /** Where the HTTP port is reached (no trailing slash), for unsubscribe links. */
  readonly publicUrl: () => string;
  /** How often due digests are looked for. Default: a tenth of the delay, 1-30 s. */
  readonly sweepMs?: number;
}

export interface ChatOptions {
  /** Where bots' outgoing hooks are POSTed; without it they are not delivered. */
  readonly hookPoster?: HookPoster;
  /** Timings of outgoing hooks (tests shorten them). */
  readonly hooks?: Pick<OutgoingHooksOptions, "leaseMs" | "pollMs" | "giveUpMs" | "firstRetryMs">;
  /** Without it no emails are sent. */
  readonly email?: EmailOptions;
  /** Accounts that are server admins, by name (--admin). */
  readonly admins?: readonly string[];
  /** How often admins granted on the database and address bans are read again (ms). */
  readonly rulesReloadMs?: number;
  readonly store: Store;
  readonly bus: Bus;
  /** Where the nodes of a cluster agree on online names and rates; none for one node. */
  readonly claims?: ClusterClaims | undefined;
  readonly clock?: Clock;
  readonly limits?: Partial<Limits>;
  readonly delivery?: Partial<DeliveryOptions>;
  readonly logger?: CoreLogger;
  /** Who may chat: guests under a free name ("open", default) or accounts only. */
  readonly auth?: AuthMode;
  /** How long a login token lasts. Default 30 days. */
  readonly tokenTtlMs?: number;
  /** scrypt cost for passwords, as log2(N). Default 15. */
  readonly passwordCost?: number;
  /** How many guest names JoinChat remembers. Default 100,000. */
  readonly maxKnownUsers?: number;
  /** A stream whose transport takes nothing for this long is ended. Default 60,000 ms. */
  readonly readerTimeoutMs?: number;
  /** Presence changes are collected this long and sent as one event per room. Default 250 ms. */
  readonly presenceTickMs?: number;
  /** Rooms with more users online than this get no presence events. Default 200. */
  readonly presenceMaxRoom?: number;
  /**
   * Store announced joins and leaves as system lines of the room's log (rooms
   * within the presence bound only). Default true.
   */
  readonly joinLines?: boolean;
  /** How long "typing" lasts after a user's last signal, in ms. Default 6,000. */
  readonly typingExpiryMs?: number;
  /** How often this node tells the others it is alive. Default 1,000 ms. */
  readonly nodeHeartbeatMs?: number;
  /** Another node not heard from for this long is taken for dead, and its users offline. Default 5,000 ms. */
  readonly nodeExpiryMs?: number;
  readonly retention?: Retention;
  /**
   * Bounds on the newest messages kept in memory per room for reads near the
   * head; false keeps none. Only kept with a synchronous bus (one process).
   */
  readonly roomTails?: Partial<RoomTailsOptions> | false;
  /** How often retention runs (and once at start). Default 60,000 ms. */
  readonly retentionIntervalMs?: number;
}

/** How a live stream behaves, beyond whose it is. */
export interface StreamOptions {
  /** The stream never gets its user's messages (the seed's wire); otherwise only its own sends are left out. */
  readonly skipOwnUser?: boolean;
  /**
   * The stream enters a direct-message room of its user by itself when a
   * message arrives there (not on the seed's one-room wire).
   */
  readonly directMessages?: boolean;
  /**
   * A send over the rate waits for its turn instead of being refused, for a
   * wire with no way to refuse one message (the seed's ChatStream): the
   * client is then held back by flow control.
   */
  readonly pace?: boolean;
  /**
   * The wire has one room and no way to say it was left (the seed's
   * ChatStream): a kick or ban ends the stream with its reason.
   */
  readonly oneRoom?: boolean;
  /** The client's address, for the limits guests share per address. */
  readonly address?: string;
}
