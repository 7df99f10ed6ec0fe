import { toChatLine } from "../../../src/client/chat-line.ts";
import { isDirectRoom } from "../../../src/wire/room-names.ts";
import { failure } from "../api.ts";
import type { ChatModel } from "./chat-model.ts";
import { Room } from "./room.ts";

const PAGE = 50;

/**
 * The newest page of a room's history, so a room opened is not empty (and
 * its unread count has something to count). Live messages merge in by id.
 */
export async function fill(model: ChatModel, room: Room): Promise<void> {
  room.filled = true;
  try {
    const page = await model.client.history({ room: room.name, limit: PAGE });
    room.merge(page.messages.map(toChatLine));
    room.hasOlder = page.hasMore;
    if (model.current === room.name && model.visible) room.markRead();
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
    room.merge(page.messages.map(toChatLine));
    room.hasOlder = page.hasMore;
  } catch (error) {
    room.notice(`Could not load older messages: ${failure(error).text}`, 0);
  } finally {
    room.loadingOlder = false;
  }
  model.changed("messages");
}

/** The rooms the server knows for us: DMs with their peers' names, and rooms to offer. */
export async function listRooms(model: ChatModel): Promise<void> {
  const names: string[] = [];
  let pageToken = "";
  try {
    for (let pages = 0; pages < 10; pages += 1) {
      const response = await model.client.listRooms({ pageToken, pageSize: 500 });
      for (const info of response.rooms) {
        const peer = info.peer?.username ?? "";
        const room = model.rooms.get(info.name);
        if (room?.direct && peer) room.peer = peer;
        else if (room === undefined && isDirectRoom(info.name)) {
          model.rooms.set(info.name, new Room(info.name, { peer, open: false }));
        } else if (room === undefined) names.push(info.name);
      }
      pageToken = response.nextPageToken;
      if (pageToken === "") break;
    }
  } catch {
    // A convenience (names, suggestions): the chat works without it.
  }
  model.known = names;
  model.changed("rooms");
}
