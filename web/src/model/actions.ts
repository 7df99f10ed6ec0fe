import { failure } from "../api.ts";
import { utf8Bytes } from "../server-info.ts";
import type { ChatModel } from "./chat-model.ts";
import { loadOlder } from "./history.ts";
import { toLine } from "./lines.ts";
import type { Room } from "./room.ts";

/**
 * Changes to messages already sent. Each call's result arrives as an entry
 * on the subscription, like anyone else's change, so the page shows it once
 * and in the log's order. A refusal throws an Error with the server's sentence.
 */

export async function call<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    throw new Error(failure(error).text);
  }
}

export async function editMessage(
  model: ChatModel,
  room: string,
  id: number,
  text: string,
): Promise<void> {
  if (text.trim() === "") {
    throw new Error("An edit cannot be empty; delete the message instead.");
  }
  const max = model.limits?.maxMessageBytes;
  const bytes = utf8Bytes(text);
  if (max !== undefined && bytes > max) {
    throw new Error(
      `Not saved: the new text is ${bytes} bytes long (UTF-8) and the server takes at most ${max}. Shorten it.`,
    );
  }
  await call(model.client.edit({ room, id: BigInt(id), text }));
}

export async function deleteMessage(model: ChatModel, room: string, id: number): Promise<void> {
  await call(model.client.delete({ room, id: BigInt(id) }));
}

/** Adds (or, with `remove`, takes back) the user's reaction; a bare name gets its colons. */
export async function react(
  model: ChatModel,
  room: string,
  id: number,
  emoji: string,
  remove: boolean,
): Promise<void> {
  const trimmed = emoji.trim();
  if (trimmed === "") throw new Error("Pick an emoji, or type a name like :tada:.");
  const reaction = /^[\p{L}\p{N}_+-]+$/u.test(trimmed) ? `:${trimmed}:` : trimmed;
  await call(model.client.react({ room, id: BigInt(id), emoji: reaction, remove }));
}

/**
 * The original of a reply that is not loaded, asked for once (History from
 * just below its id, one message); `changed` when it has arrived.
 */
export function fetchQuote(model: ChatModel, room: Room, id: number): void {
  if (room.quotes.has(id)) return;
  room.quotes.set(id, null);
  model.client.history({ room: room.name, afterId: BigInt(id - 1), limit: 1 }).then(
    (page) => {
      const message = page.messages[0];
      if (message !== undefined && Number(message.id) === id) {
        room.quotes.set(id, toLine(message));
        model.changed("messages");
      }
    },
    () => {
      // Asked again the next time the room is opened.
      room.quotes.delete(id);
    },
  );
}

/** Loads older pages until `id` is shown (or the room's start is reached): true when it is. */
export async function loadBackTo(model: ChatModel, room: Room, id: number): Promise<boolean> {
  for (let pages = 0; pages < 40 && !room.has(id) && room.hasOlder; pages += 1) {
    const oldest = room.oldestId();
    if (oldest !== undefined && oldest < id) break;
    await loadOlder(model, room);
    if (room.oldestId() === oldest) break;
  }
  return room.has(id);
}
