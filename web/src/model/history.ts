import type { Message } from "../../../src/gen/chat_pb.js";
import { isDirectRoom } from "../../../src/wire/room-names.ts";
import { failure } from "../api.ts";
import type { ChatModel } from "./chat-model.ts";
import { type Change, isChange, type Line, toLine } from "./lines.ts";
import { Room } from "./room.ts";

const PAGE = 50;

/** A page of History into the room: messages in their current state, any change entry applied. */
function mergePage(model: ChatModel, room: Room, messages: readonly Message[]): void {
  const lines: Line[] = [];
  const changes: Change[] = [];
  for (const message of messages) {
    const line = toLine(message);
    if (isChange(line)) changes.push(line);
    else lines.push(line);
  }
  room.merge(lines, model.me.userId);
  for (const change of changes) room.applyChange(change, model.me.userId);
}

/**
 * The newest page of a room's history, so a room opened is not empty. Live
 * messages merge in by id.
 */
export async function fill(model: ChatModel, room: Room): Promise<void> {
  room.filled = true;
  try {
    const page = await model.client.history({ room: room.name, limit: PAGE });
    mergePage(model, room, page.messages);
    room.hasOlder = page.hasMore;
    room.loaded = true;
    room.placeDivider(model.me.userId);
  } catch (error) {
    room.filled = false;
    room.notice(`Could not load the history: ${failure(error).text}`);
  }
  model.changed("messages");
  model.changed("rooms");
}

/** The page before the oldest message shown (scrolling up). */
export async function loadOlder(model: ChatModel, room: Room): Promise<void> {
  const oldest = room.oldestId();
  if (room.loadingOlder || !room.hasOlder || oldest === undefined) return;
  room.loadingOlder = true;
  try {
    const query = { room: room.name, limit: PAGE, beforeId: BigInt(oldest) };
    const page = await model.client.history(query);
    mergePage(model, room, page.messages);
    room.hasOlder = page.hasMore;
  } catch (error) {
    room.notice(`Could not load older messages: ${failure(error).text}`, 0);
  } finally {
    room.loadingOlder = false;
  }
  model.changed("messages");
}

/**
 * The rooms the server knows for us: DMs with their peers' names, rooms to
 * offer, and each room's read marker with its unread and mention counts.
 */
export async function listRooms(model: ChatModel): Promise<void> {
  const names: string[] = [];
  let pageToken = "";
  try {
    for (let pages = 0; pages < 10; pages += 1) {
      const response = await model.client.listRooms({ pageToken, pageSize: 500 });
      for (const info of response.rooms) {
        const peer = info.peer?.username ?? "";
        let room = model.rooms.get(info.name);
        if (room?.direct && peer) room.peer = peer;
        else if (room === undefined && isDirectRoom(info.name)) {
          room = new Room(info.name, { peer, open: false });
          model.rooms.set(info.name, room);
        } else if (room === undefined) names.push(info.name);
        model.notify.listed(info.name, info.notify);
        if (room === undefined) continue;
        const readId = Number(info.lastReadId);
        room.markRead(readId);
        room.markerKnown = true;
        room.listed = {
          count: info.unread,
          mentions: info.mentions,
          readId,
          headId: Number(info.lastId),
        };
        room.placeDivider(model.me.userId);
      }
      pageToken = response.nextPageToken;
      if (pageToken === "") break;
    }
  } catch {
    // A convenience (names, suggestions, counts): the chat works without it.
  }
  model.known = names;
  model.changed("rooms");
  model.changed("messages");
}
