import type { Store } from "../store/store.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import type { CoreLogger, StreamOptions } from "./chat-options.ts";
import { ChatStream, type StreamHub } from "./chat-stream.ts";
import type { Clock } from "./clock.ts";
import type { Outbound } from "./envelope.ts";
import type { RoomFanOut } from "./fan-out.ts";
import type { Identities } from "./identities.ts";
import type { Limits } from "./limits.ts";
import { Outlet } from "./outlet.ts";
import type { Presence } from "./presence.ts";
import type { DeliveryOptions, StreamSink } from "./room-cursor.ts";
import type { RoomTails } from "./room-tails.ts";
import { SendPacer } from "./send-pacer.ts";
import type { Sends } from "./sends.ts";
import type { ChatStats } from "./stats.ts";
import type { Identity, MessageId, RoomId, UserId } from "./types.ts";

export interface LiveStreamsOptions {
  readonly store: Store;
  readonly tails: RoomTails | undefined;
  readonly clock: Clock;
  readonly delivery: DeliveryOptions;
  readonly stats: ChatStats;
  readonly limits: Limits;
  readonly identities: Identities;
  readonly fanOut: RoomFanOut;
  readonly presence: Presence;
  readonly presenceMaxRoom: number;
  readonly readerTimeoutMs: number;
  readonly sends: Sends;
  /** Throws unless the user may enter the room; see StreamHub.admitToRoom. */
  readonly admitToRoom: (identity: Identity, room: RoomId) => Promise<void>;
  readonly logger: CoreLogger | undefined;
}

/**
 * This node's live streams: opening one (its Outlet, its place in the
 * fan-out, its user's stream count), ending those whose reader is stuck, and
 * ending all of them at shutdown.
 */
export class LiveStreams {
  readonly #options: LiveStreamsOptions;
  readonly #streams = new Set<ChatStream>();
  readonly #hub: StreamHub;

  constructor(options: LiveStreamsOptions) {
    this.#options = options;
    const { store, limits, presence, fanOut, sends, identities } = options;
    this.#hub = {
      store,
      limits,
      presence,
      register: (cursor) => fanOut.enter(cursor),
      admitToRoom: options.admitToRoom,
      unregister: (cursor) => fanOut.leave(cursor),
      send: (sender, input, origin, pacer, address) =>
        sends.send(sender, input, origin, pacer, address),
      forget: (stream) => {
        if (!this.#streams.delete(stream)) return;
        identities.online.release(stream.identity);
        fanOut.forget(stream);
      },
    };
  }

  /** Bytes waiting in every stream's queue, for metrics: walks the streams, so only when scraped. */
  queuedBytes(): number {
    let bytes = 0;
    for (const stream of this.#streams) bytes += stream.outlet.queued.bytes;
    return bytes;
  }

  /** A stream for `identity` on this node; RESOURCE_EXHAUSTED past the user's limit of open streams. */
  open(identity: Identity, sink: StreamSink, options: StreamOptions): ChatStream {
    const { limits, identities, store, tails, clock, delivery, stats, logger, fanOut } =
      this.#options;
    const maxStreams = limits.maxSessionsPerUser;
    if (maxStreams > 0 && identities.online.streamsOf(identity.userId) >= maxStreams) {
      throw new ChatError(
        "resource_exhausted",
        `You have ${maxStreams} sessions open, the most this server allows; close one first.`,
      );
    }
    identities.online.claim(identity);
    let stream: ChatStream | undefined;
    const outlet = new Outlet({
      sink,
      store,
      tails,
      clock,
      delivery,
      stats,
      caughtUp: (room, lastId) => this.#caughtUp(room, lastId),
      ...(options.skipOwnUser ? { skipUserId: identity.userId } : {}),
      onPageError: (error) => {
        const chatError = toChatError(error);
        if (chatError.code === "internal") {
          logger?.warn({ err: error }, "reading history for a stream failed");
        }
        stream?.abort(chatError);
      },
    });
    stream = new ChatStream(
      identity,
      outlet,
      this.#hub,
      options.pace ? new SendPacer() : undefined,
      options.oneRoom ?? false,
      options.address,
    );
    this.#streams.add(stream);
    if (options.directMessages) fanOut.takeDirectMessages(stream);
    return stream;
  }

  /** Tells every stream `notice`, then ends it with `error`. */
  endAll(notice: string, error: ChatError): void {
    for (const stream of [...this.#streams]) {
      stream.notify({ type: "notice", text: notice, timeMs: this.#options.clock.now() });
      stream.end(error);
    }
  }

  /**
   * Takes this node's streams out of `room` where `refusal` says their user
   * may no longer be there: each is told `before` first (when given), then
   * left with the refusal; a stream on a one-room wire (the seed's) ends
   * with it instead, having no other way to hear it.
   */
  removeFromRoom(
    room: RoomId,
    refusal: (identity: Identity) => ChatError | undefined,
    before?: (identity: Identity) => Outbound | undefined,
  ): void {
    for (const stream of [...this.#streams]) {
      if (!stream.inRoom(room) || stream.ended) continue;
      const error = refusal(stream.identity);
      if (!error) continue;
      const notice = before?.(stream.identity);
      if (notice) stream.notify(notice);
      if (stream.oneRoom) stream.end(error);
      else stream.leaveRoom(room, error);
    }
  }

  /** Ends every stream of `userId` on this node with `error`. */
  endUser(userId: UserId, error: ChatError): void {
    for (const stream of [...this.#streams]) {
      if (stream.identity.userId === userId && !stream.ended) stream.end(error);
    }
  }

  /** This node's open streams, for events to users picked by a rule (report to admins). */
  each(visit: (stream: ChatStream) => void): void {
    for (const stream of this.#streams) if (!stream.ended) visit(stream);
  }

  /** Ends each stream whose transport has taken nothing for the reader timeout. */
  endStalled(): void {
    const { clock, readerTimeoutMs, stats } = this.#options;
    const now = clock.now();
    for (const stream of [...this.#streams]) {
      const since = stream.blockedSince;
      if (since !== undefined && now - since >= readerTimeoutMs) {
        stats.readersEnded += 1;
        stream.abort(
          new ChatError(
            "resource_exhausted",
            `Your client read nothing for ${Math.round(readerTimeoutMs / 1000)} s, so the server ended this stream; reconnect to resume where you left off.`,
          ),
        );
      }
    }
  }

  #caughtUp(room: RoomId, lastId: MessageId): Outbound {
    const { presence, presenceMaxRoom } = this.#options;
    const onlineCount = presence.count(room);
    const online = onlineCount <= presenceMaxRoom ? presence.list(room) : [];
    return { type: "caught_up", room, lastId, online, onlineCount };
  }
}
