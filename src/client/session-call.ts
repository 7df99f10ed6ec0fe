import { randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type ClientDuplexStream, status } from "@grpc/grpc-js";
import { type ClientFrame, ClientFrameSchema, type Event } from "../gen/chat_pb.js";
import { ROOM_CHARS_CEILING } from "../wire/grpc-service.ts";
import type { AsyncQueue } from "./async-queue.ts";
import { ChatClientError, type SendAck, type SessionEvent, toSessionEvent } from "./events.ts";

export type JoinedEvent = Extract<SessionEvent, { type: "joined" }>;

/** Where a room starts, as a session join takes it. */
export interface JoinStart {
  readonly resumeAfterId?: number | undefined;
  readonly epoch?: string;
}

/** A live chat on one bidirectional stream, in any number of rooms. */
export interface ChatSession extends AsyncIterable<SessionEvent> {
  /** Enters a room; resolves with its joined event, or rejects with the server's reason. */
  join(room: string, start?: JoinStart): Promise<JoinedEvent>;
  /** Leaves a room; resolves when the server confirms. */
  leave(room: string): Promise<void>;
  /** Resolves when the server has stored the message; rejects with the reason it refused. */
  send(
    text: string,
    options?: { room?: string; clientMsgId?: string; replyTo?: number },
  ): Promise<SendAck>;
  /** Ends our side; the server then ends the stream and leaves every room. */
  close(): void;
  /** How the stream ended: undefined after close(), else the server's status. */
  readonly ended: Promise<ChatClientError | undefined>;
}

/**
 * The Session RPC's protocol on an open call: says hello, matches each join,
 * leave and send with its answer, and hands every other event to the reader.
 * `track` queues the call's events and reports how it ended.
 */
export function sessionOverCall(
  call: ClientDuplexStream<ClientFrame, Event>,
  username: string,
  track: (onEnd: (error: ChatClientError | undefined) => void) => {
    queue: AsyncQueue<SessionEvent>;
    ended: Promise<ChatClientError | undefined>;
  },
): ChatSession {
  const sends = new Waiters<SendAck>();
  const joins = new Waiters<JoinedEvent>();
  const leaves = new Waiters<void>();
  // null while open; once ended, how it ended (undefined: closed normally).
  let endedWith: ChatClientError | undefined | null = null;
  const { queue, ended } = track((error) => {
    endedWith = error;
    const reason = error ?? new ChatClientError(status.CANCELLED, "The session has ended.");
    for (const waiters of [sends, joins, leaves]) waiters.rejectAll(reason);
  });

  call.on("data", (event: Event) => {
    const { kind } = event;
    if (kind.case === "ack") {
      const { room, clientMsgId, id, serverTimeMs } = kind.value;
      sends.resolve(clientMsgId, { room, id: Number(id), timeMs: Number(serverTimeMs) });
      return;
    }
    if (kind.case === "rejected") {
      const { clientMsgId, code, reason, retryAfterMs } = kind.value;
      sends.reject(clientMsgId, new ChatClientError(code, reason, Number(retryAfterMs)));
      return;
    }
    const sessionEvent = toSessionEvent(event);
    if (!sessionEvent) return;
    if (sessionEvent.type === "joined") joins.resolve(sessionEvent.room, sessionEvent);
    if (sessionEvent.type === "left") {
      if (sessionEvent.code === status.OK) leaves.resolve(sessionEvent.room, undefined);
      else {
        const refusal = new ChatClientError(sessionEvent.code, sessionEvent.reason);
        joins.reject(sessionEvent.room, refusal);
        leaves.reject(sessionEvent.room, refusal);
      }
    }
    queue.push(sessionEvent);
  });

  const write = <T>(
    waiters: Waiters<T>,
    key: string,
    frame: MessageInitShape<typeof ClientFrameSchema>["kind"],
  ) =>
    new Promise<T>((resolve, reject) => {
      if (endedWith !== null) {
        reject(endedWith ?? new ChatClientError(status.CANCELLED, "The session has ended."));
        return;
      }
      if (frame?.case !== "send" && key.length > ROOM_CHARS_CEILING) {
        // No server takes it, and the answer would name it cut short, unmatched.
        const reason = `A room name is at most ${ROOM_CHARS_CEILING} characters.`;
        reject(new ChatClientError(status.INVALID_ARGUMENT, reason));
        return;
      }
      waiters.add(key, resolve, reject);
      call.write(create(ClientFrameSchema, { kind: frame }));
    });

  call.write(
    create(ClientFrameSchema, {
      kind: { case: "hello", value: { username } },
    }),
  );

  return {
    ended,
    join: (room, start = {}) =>
      write(joins, room, {
        case: "join",
        value: {
          room,
          ...(start.resumeAfterId === undefined
            ? {}
            : { resumeAfterId: BigInt(start.resumeAfterId) }),
          epoch: start.epoch ?? "",
        },
      }),
    leave: (room) => write(leaves, room, { case: "leave", value: { room } }),
    send: (text, options = {}) => {
      const clientMsgId = options.clientMsgId ?? randomUUID();
      return write(sends, clientMsgId, {
        case: "send",
        value: {
          room: options.room ?? "",
          text,
          clientMsgId,
          replyTo: BigInt(options.replyTo ?? 0),
        },
      });
    },
    close: () => call.end(),
    [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
  };
}

/** Promises waiting for an answer keyed by a string (a client_msg_id, a room). */
class Waiters<T> {
  readonly #waiting = new Map<string, Array<{ resolve(v: T): void; reject(e: Error): void }>>();

  add(key: string, resolve: (value: T) => void, reject: (error: Error) => void): void {
    const list = this.#waiting.get(key);
    if (list) list.push({ resolve, reject });
    else this.#waiting.set(key, [{ resolve, reject }]);
  }

  resolve(key: string, value: T): void {
    for (const waiter of this.#take(key)) waiter.resolve(value);
  }

  reject(key: string, error: Error): void {
    for (const waiter of this.#take(key)) waiter.reject(error);
  }

  rejectAll(error: Error): void {
    for (const key of [...this.#waiting.keys()]) this.reject(key, error);
  }

  #take(key: string) {
    const list = this.#waiting.get(key) ?? [];
    this.#waiting.delete(key);
    return list;
  }
}
