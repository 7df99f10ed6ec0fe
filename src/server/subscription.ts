import type { Caller } from "../core/caller.ts";
import { ChatError, toChatError } from "../core/chat-error.ts";
import type { ChatStream } from "../core/chat-stream.ts";
import { checkAccess } from "../core/rooms.ts";
import { DEFAULT_ROOM, type Identity } from "../core/types.ts";
import type { JoinRoom, SubscribeRequest } from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import { type LiveCall, openLiveStream, toMessageId } from "./live-stream.ts";

/** Opens a stream of Events (Session, Subscribe) and welcomes it. */
export async function openEventStream(
  context: HandlerContext,
  call: LiveCall,
  identity: Identity,
): Promise<ChatStream> {
  const { chat } = context;
  const stream = await openLiveStream(context, call, identity, { directMessages: true });
  stream.notify({
    type: "welcome",
    identity,
    timeMs: chat.now(),
    maxRooms: chat.limits.maxRooms,
  });
  return stream;
}

export function joinFromRequest(stream: ChatStream, request: JoinRoom): Promise<unknown> {
  return stream.joinRoom(
    request.room || DEFAULT_ROOM,
    toMessageId(request.resumeAfterId),
    request.epoch,
  );
}

/**
 * Subscribe, on any transport: the caller's name and every room are checked
 * before anything opens (a refusal then throws, and nothing was written);
 * once the stream is open, a join that fails ends it with that status.
 */
export async function subscribe(
  context: HandlerContext,
  request: SubscribeRequest,
  caller: Caller,
  call: LiveCall,
): Promise<void> {
  const { chat } = context;
  const { identity } = await chat.identities.nameFor(caller, request.username, call.address);
  const rooms: JoinRoom[] =
    request.rooms.length > 0 ? request.rooms : [{ room: DEFAULT_ROOM, epoch: "" } as JoinRoom];
  if (rooms.length > chat.limits.maxRooms) {
    throw new ChatError(
      "resource_exhausted",
      `A subscription can be to at most ${chat.limits.maxRooms} rooms; this asks for ${rooms.length}.`,
    );
  }
  for (const room of rooms) {
    checkAccess(identity.userId, room.room || DEFAULT_ROOM, chat.limits.maxRoomChars);
  }
  const stream = await openEventStream(context, call, identity);
  try {
    for (const room of rooms) await joinFromRequest(stream, room);
  } catch (error) {
    stream.end(toChatError(error));
  }
}
