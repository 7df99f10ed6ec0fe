// A bot in 20 lines: answers "!time" in the rooms its token may read, and
// comes back by itself after a lost connection. Make it (CreateBot with read)
// and run: BOT_TOKEN=bot_... npm run -s example:bot
import { createChatClient } from "../src/client/chat-client.ts";
import { LiveChat } from "../src/client/live-chat.ts";

const client = createChatClient({
  address: process.env.GRPC_CHAT_SERVER ?? "localhost:50051",
  username: "",
  token: process.env.BOT_TOKEN ?? "",
});
const me = await client.whoAmI();
const chat = new LiveChat(client, { rooms: (me.botRooms ?? []).map((room) => ({ room })) });
for await (const event of chat) {
  if (event.type === "caught_up") console.log(`${me.username} is answering !time in ${event.room}`);
  if (event.type !== "message" || event.message.userId === me.userId) continue;
  if (event.message.text.trim() !== "!time") continue;
  const now = new Date().toISOString();
  await chat.send(`It is ${now}.`, event.message.room, { replyTo: event.message.id });
}
