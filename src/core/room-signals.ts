import type { Bus, BusPayload } from "../bus/bus.ts";
import type { NotifyLevel } from "../store/integration-store.ts";
import type { NewMessage, Store } from "../store/store.ts";
import { presenceText } from "../wire/presence-text.ts";
import type { CoreLogger } from "./chat-options.ts";
import type { Clock } from "./clock.ts";
import { Envelope } from "./envelope.ts";
import type { RoomFanOut } from "./fan-out.ts";
import type { Presence, PresenceChange } from "./presence.ts";
import type { RoomPublisher } from "./room-publisher.ts";
import { checkAccess } from "./rooms.ts";
import {
  type Identity,
  type MessageId,
  type RoomId,
  SYSTEM_USER_ID,
  SYSTEM_USERNAME,
  type UserId,
} from "./types.ts";
import type { Typing } from "./typing.ts";

export interface RoomSignalsOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly fanOut: RoomFanOut;
  readonly presence: Presence;
  readonly publisher: RoomPublisher;
  readonly typing: Typing;
  /** Rooms with more users online than this get no presence, no typing and no join lines. */
  readonly presenceMaxRoom: number;
  readonly maxRoomChars: number;
  /** Whether joins and leaves are stored as lines of the log. */
  readonly joinLines: boolean;
  readonly logger: CoreLogger | undefined;
}

/**
 * What a room hears besides messages: presence (announced per tick, and the
 * joins and leaves this node caused stored as system lines of the log),
 * typing (never stored), and a user's read marker moving (to that user's
 * streams only). Small rooms only, for presence and typing: a room above
 * the presence bound would drown in them.
 */
export class RoomSignals {
  readonly #options: RoomSignalsOptions;

  constructor(options: RoomSignalsOptions) {
    this.#options = options;
  }

  /** Once per presence tick: what changed goes out, coalesced per room. */
  tick(): void {
    const { clock, presence, presenceMaxRoom, fanOut, typing } = this.#options;
    const timeMs = clock.now();
    for (const change of presence.flush()) {
      if (change.onlineCount > presenceMaxRoom) continue;
      const { room, onlineCount } = change;
      for (const [online, users] of [
        [false, change.left],
        [true, change.joined],
      ] as const) {
        if (users.length === 0) continue;
        fanOut.deliver(
          room,
          new Envelope({ type: "presence", room, online, users, onlineCount, timeMs }),
        );
      }
      if (this.#options.joinLines) this.#storeJoinsAndLeaves(change);
    }
    for (const { room, typing: who } of typing.flush()) {
      if (presence.count(room) > presenceMaxRoom) continue;
      fanOut.deliver(room, new Envelope({ type: "typing", room, typing: who }));
    }
  }

  /**
   * `who` is typing in `room` (or stopped). A room above the presence bound
   * takes none; past the user's rate it is refused.
   */
  typing(who: Identity, room: RoomId, stopped: boolean): void {
    const { typing, presence, presenceMaxRoom, maxRoomChars } = this.#options;
    const checked = checkAccess(who.userId, room, maxRoomChars);
    if (presence.count(checked) > presenceMaxRoom) return;
    if (!stopped) typing.admit(who.userId);
    typing.note(checked, who, stopped, typing.expiryMs);
    this.#publish(checked, {
      type: "typing",
      room: checked,
      user: { userId: who.userId, username: who.username },
      stopped,
      ttlMs: typing.expiryMs,
    });
  }

  /** Tells every stream of the user, here and on other nodes, where their marker is now. */
  readMarker(userId: UserId, room: RoomId, lastReadId: MessageId): void {
    const payload = { type: "read", room, userId, lastReadId } as const;
    this.#options.fanOut.toUser(userId, { type: "read", room, lastReadId });
    this.#publish(room, payload);
  }

  /** Tells every stream of the user, here and on other nodes, their level for the room now. */
  notifyLevel(userId: UserId, room: RoomId, level: NotifyLevel): void {
    this.#options.fanOut.toUser(userId, { type: "notify", room, level });
    this.#publish(room, { type: "notify", room, userId, level });
  }

  /** A signal from another node: true when it was one of these (else it is the room's to deliver). */
  receive(payload: BusPayload): boolean {
    const { fanOut, typing } = this.#options;
    switch (payload.type) {
      case "read":
        fanOut.toUser(payload.userId, {
          type: "read",
          room: payload.room,
          lastReadId: payload.lastReadId,
        });
        return true;
      case "notify":
        fanOut.toUser(payload.userId, {
          type: "notify",
          room: payload.room,
          level: payload.level,
        });
        return true;
      case "typing":
        typing.note(payload.room, payload.user, payload.stopped, payload.ttlMs);
        return true;
      default:
        return false;
    }
  }

  /** Only the bus: this node has handled it already. */
  #publish(room: RoomId, payload: BusPayload): void {
    const { bus, logger } = this.#options;
    bus.publish({ origin: bus.nodeId, room, payload }).catch((error: unknown) => {
      logger?.warn({ err: error, room }, "bus publish failed; other nodes miss this signal");
    });
  }

  /**
   * The joins and leaves this node caused, one line per direction, as the
   * seed's clients saw them ("alice has left the chat"), stored in the log
   * so history and resume show them; another node stores its own.
   */
  #storeJoinsAndLeaves(change: PresenceChange): void {
    const { store, publisher, logger } = this.#options;
    const lines: NewMessage[] = [];
    for (const [online, users] of [
      [true, change.joined],
      [false, change.left],
    ] as const) {
      const mine = users.filter((u) => change.here.has(u.userId));
      if (mine.length === 0) continue;
      lines.push(
        systemLine(
          change.room,
          presenceText(
            mine.map((u) => u.username),
            online,
          ),
        ),
      );
    }
    if (lines.length === 0) return;
    store.append(lines).then(
      (results) => {
        for (const { message } of results) {
          publisher.publish(message.room, { type: "message", message, announced: true });
        }
      },
      (error: unknown) => {
        logger?.warn({ err: error, room: change.room }, "storing a join or leave line failed");
      },
    );
  }
}

/** A line of the room's log written by the server. */
export function systemLine(room: RoomId, text: string): NewMessage {
  return {
    room,
    userId: SYSTEM_USER_ID,
    username: SYSTEM_USERNAME,
    text,
    kind: "system",
    clientMsgId: "",
  };
}
