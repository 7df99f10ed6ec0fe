import { ChatError, toChatError } from "../core/chat-error.ts";
import type { ChatStream } from "../core/chat-stream.ts";
import { excerpt } from "../core/names.ts";
import { RefusalGuard } from "../core/refusal-guard.ts";
import { checkRoom } from "../core/rooms.ts";
import { DEFAULT_ROOM } from "../core/types.ts";
import type { JoinRoom, SendRequest } from "../gen/chat_pb.js";
import { ROOM_CHARS_CEILING } from "../wire/grpc-service.ts";
import type { HandlerContext } from "./context.ts";
import { finishStream, toReplyTo } from "./live-stream.ts";
import { Pipeline, STREAM_SENDS_IN_FLIGHT } from "./pipeline.ts";
import type { ChatServicePart } from "./service-impl.ts";
import { joinFromRequest, openEventStream, subscribe } from "./subscription.ts";

/** Our live API: Session (bidirectional, many rooms) and Subscribe (the browser path). */
export function sessionService(context: HandlerContext): ChatServicePart<"session" | "subscribe"> {
  const { chat, logger } = context;

  /** A refused join is reported on the stream; the session goes on. */
  const joinOrReport = async (stream: ChatStream, request: JoinRoom) => {
    try {
      await joinFromRequest(stream, request);
    } catch (error) {
      const chatError = report(error);
      stream.notify({
        type: "left",
        room: roomLabel(request.room || DEFAULT_ROOM),
        code: chatError.code,
        reason: chatError.message,
      });
    }
  };

  /** A leave for a name that cannot be a room is refused like a bad join; the session goes on. */
  const leave = (stream: ChatStream, room: string) => {
    try {
      checkRoom(room, chat.limits.maxRoomChars);
    } catch (error) {
      const chatError = report(error);
      stream.notify({
        type: "left",
        room: roomLabel(room),
        code: chatError.code,
        reason: chatError.message,
      });
      return;
    }
    stream.leaveRoom(room);
  };

  /**
   * A room name as it may be echoed: whole up to the longest any server
   * allows (so the client can tell which request this answers), past that
   * cut, never sent back whole.
   */
  const roomLabel = (room: string) => excerpt(room, ROOM_CHARS_CEILING);

  /** Stores a send and answers ack or rejected; a refused send never ends the session. */
  const send = async (stream: ChatStream, request: SendRequest, guard: RefusalGuard) => {
    const room = request.room || DEFAULT_ROOM;
    const { clientMsgId } = request;
    try {
      const { message } = await stream.send({
        room,
        text: request.text,
        clientMsgId,
        replyTo: toReplyTo(request.replyTo),
      });
      stream.notify({ type: "ack", room, clientMsgId, id: message.id, timeMs: message.timeMs });
    } catch (error) {
      const chatError = report(error);
      if (chatError.retryAfterMs) guard.refused(chatError.retryAfterMs);
      stream.notify({
        type: "rejected",
        room,
        clientMsgId,
        code: chatError.code,
        reason: chatError.message,
        retryAfterMs: chatError.retryAfterMs ?? 0,
      });
    }
  };

  /** Normalises a failure, logging one nobody expected (its details never go on the wire). */
  const report = (error: unknown): ChatError => {
    const chatError = toChatError(error);
    if (chatError.code === "internal")
      logger.error({ err: chatError.cause ?? chatError }, "a request failed");
    return chatError;
  };

  return {
    async session(frames, call) {
      let stream: ChatStream | undefined;
      const sends = new Pipeline(STREAM_SENDS_IN_FLIGHT);
      const guard = new RefusalGuard(chat.clock);
      try {
        await frames.each(async (frame) => {
          if (stream === undefined) {
            if (frame.kind.case !== "hello") {
              throw new ChatError(
                "invalid_argument",
                "The first frame of a Session must be a hello.",
              );
            }
            const { identity } = await chat.identities.nameFor(
              call.caller,
              frame.kind.value.username,
              call.address,
            );
            stream = await openEventStream(context, call.live, identity);
            return;
          }
          if (stream.ended) return;
          // A client that does not read what it asked for is not read either.
          await stream.writable();
          switch (frame.kind.case) {
            case "join":
              return joinOrReport(stream, frame.kind.value);
            case "leave":
              return leave(stream, frame.kind.value.room || DEFAULT_ROOM);
            case "send":
              await guard.beforeNext();
              return sends.add(send(stream, frame.kind.value, guard));
            case "hello":
              throw new ChatError("invalid_argument", "A Session takes one hello, at the start.");
            default:
              throw new ChatError(
                "invalid_argument",
                "This server does not know that kind of frame; is the client newer than the server?",
              );
          }
        });
        await sends.drain();
        finishStream(call, stream);
      } catch (error) {
        await sends.drain();
        finishStream(call, stream, error);
      }
    },

    async subscribe(request, call) {
      await subscribe(context, request, call.caller, call.live);
    },
  };
}
