import type { Member } from "../core/chat.ts";
import type { Encoder } from "../core/envelope.ts";
import type { Identity, MessageId, RoomId } from "../core/types.ts";
import type { HandlerContext } from "./context.ts";
import { toServiceError } from "./status.ts";
import {
  createStreamSubscriber,
  type StreamSubscriber,
  type WritableCall,
} from "./stream-subscriber.ts";

export interface EnterOptions {
  readonly identity: Identity;
  readonly room: RoomId;
  readonly resumeAfterId?: MessageId;
  /** Writes what must come before any replayed or live item (a welcome). */
  readonly beforeStart?: (member: Member) => void;
}

/** A streaming call that is (or is about to be) a member of a room. */
export interface LiveStream {
  readonly subscriber: StreamSubscriber;
  /** Joins the room and starts delivery; undefined when the call ended meanwhile. */
  enter(options: EnterOptions): Promise<Member | undefined>;
  /**
   * Leaves the room at once (so the leave is announced now), then ends the
   * stream, with `error`'s status if given, once queued items are written.
   */
  finish(error?: unknown): Promise<void>;
}

/**
 * Shared by every streaming RPC that delivers live items: the seed's
 * ChatStream, Session and Subscribe. A cancel (client gone, or found dead by
 * keepalive), a cut-off and a normal end all leave the room exactly once.
 */
export function openLiveStream(
  context: HandlerContext,
  call: WritableCall,
  encoder: Encoder,
): LiveStream {
  let member: Member | undefined;
  let left = false;

  const leave = async () => {
    if (left) return;
    left = true;
    try {
      if (!member) return;
      context.logger.debug({ user: member.identity.userId, room: member.room }, "stream left");
      await member.leave();
    } catch (error) {
      context.logger.warn({ err: error }, "announcing a leave failed");
    }
  };

  const subscriber = createStreamSubscriber({
    call,
    encoder,
    maxQueued: context.maxQueued,
    onEnd: () => void leave(),
  });
  call.on("cancelled", () => subscriber.end());

  return {
    subscriber,
    async enter(options) {
      const joined = await context.chat.connect({
        identity: options.identity,
        room: options.room,
        subscriber,
        ...(options.resumeAfterId ? { resumeAfterId: options.resumeAfterId } : {}),
      });
      if (left) {
        await joined.leave();
        return undefined;
      }
      member = joined;
      context.logger.debug({ user: joined.identity.userId, room: joined.room }, "stream entered");
      options.beforeStart?.(joined);
      await joined.start();
      return joined;
    },
    async finish(error) {
      await leave();
      subscriber.end(error === undefined ? undefined : toServiceError(error, context.logger));
    },
  };
}
