import type { NotifyLevel } from "../store/integration-store.ts";
import type { Store } from "../store/store.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import { Bots } from "./bots.ts";
import type { ChatOptions, CoreLogger } from "./chat-options.ts";
import type { Clock } from "./clock.ts";
import { EmailDigests } from "./email-digests.ts";
import type { Identities } from "./identities.ts";
import type { Limits } from "./limits.ts";
import { NotifySettings } from "./notify-settings.ts";
import { OutgoingHooks } from "./outgoing-hooks.ts";
import type { ReadMarkers } from "./read-markers.ts";
import type { RoomRules } from "./room-rules.ts";
import type { Sends } from "./sends.ts";
import type { RoomId, StoredMessage, UserId } from "./types.ts";

/** What the integrations need of the rest of the chat. */
export interface IntegrationsDeps {
  readonly options: ChatOptions;
  readonly store: Store;
  readonly clock: Clock;
  readonly nodeId: string;
  readonly logger: CoreLogger | undefined;
  readonly limits: Limits;
  readonly rules: RoomRules;
  readonly identities: Identities;
  /** Made after these: a hook's reply is sent through it. */
  readonly sends: () => Sends;
  readonly readMarkers: () => ReadMarkers;
  /** Ends a user's live streams on every node, saying why. */
  readonly endStreams: (userId: UserId, reason: string) => void;
  /** Tells a user's sessions on every node their new level for a room. */
  readonly notifyChanged: (userId: UserId, room: RoomId, level: NotifyLevel) => void;
}

/**
 * How the chat reaches people and tools beyond its streams: bots and their
 * outgoing hooks, notification levels, and email digests, made and started
 * together.
 */
export class Integrations {
  readonly bots: Bots;
  readonly outgoing: OutgoingHooks | undefined;
  readonly digests: EmailDigests | undefined;
  readonly notify: NotifySettings;
  readonly #deps: IntegrationsDeps;

  constructor(deps: IntegrationsDeps) {
    this.#deps = deps;
    const { options, store, clock, logger, limits } = deps;
    this.notify = new NotifySettings(store, deps.notifyChanged);
    this.outgoing =
      options.hookPoster &&
      new OutgoingHooks({
        store,
        clock,
        nodeId: deps.nodeId,
        post: options.hookPoster,
        reply: async (bot, room, text, replyTo) => {
          await deps.sends().send(bot, { room, text, replyTo });
        },
        logger,
        ...options.hooks,
      });
    this.bots = new Bots({
      store,
      clock,
      rules: deps.rules,
      identities: deps.identities,
      maxNameChars: limits.maxNameChars,
      maxRoomChars: limits.maxRoomChars,
      changed: (bot) => this.outgoing?.changed(bot),
      endStreams: deps.endStreams,
    });
    this.digests =
      options.email &&
      new EmailDigests({
        store,
        clock,
        readMarkers: deps.readMarkers,
        send: options.email.send,
        delayMs: options.email.delayMs,
        publicUrl: options.email.publicUrl,
        key: store.idKey,
        logger,
      });
  }

  /** Starts what runs on timers; each stop goes into `timers`. */
  start(timers: Array<() => void>): void {
    const { clock, logger, options } = this.#deps;
    const outgoing = this.outgoing;
    if (outgoing) {
      const refresh = () =>
        outgoing.refresh().catch((error: unknown) => {
          logger?.warn({ err: error }, "reading the bots' outgoing hooks failed");
        });
      void refresh();
      // Bots made or revoked on other nodes.
      timers.push(clock.every(30_000, refresh), () => outgoing.close());
    }
    const digests = this.digests;
    if (digests && options.email) {
      const sweepMs =
        options.email.sweepMs ?? Math.min(30_000, Math.max(1_000, options.email.delayMs / 10));
      timers.push(
        clock.every(sweepMs, () => {
          digests.sweep().catch((error: unknown) => {
            logger?.warn({ err: error }, "sending email digests failed");
          });
        }),
      );
    }
  }

  /** For Sends: told of each message this node stored, when digests are on. */
  get onStored(): ((message: StoredMessage) => void) | undefined {
    const digests = this.digests;
    if (!digests) return undefined;
    return (message) => {
      // Only a DM or a message naming someone can be meant for a person's inbox.
      if (!isDirectRoom(message.room) && !message.text.includes("@")) return;
      digests.noteMessage(message).catch((error: unknown) => {
        this.#deps.logger?.warn({ err: error }, "scheduling an email digest failed");
      });
    };
  }
}
