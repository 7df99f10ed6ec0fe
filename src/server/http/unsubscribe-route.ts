// GET /unsubscribe?u=<user id>&s=<signature>: the link at the foot of every
// email digest, and its List-Unsubscribe header. One click, no sign-in: the
// signature shows the link came from a mail this server sent.
import type { Chat } from "../../core/chat.ts";
import { type Request, type Response, sendText } from "./static-files.ts";

export async function handleUnsubscribe(
  chat: Chat,
  request: Request,
  response: Response,
): Promise<void> {
  if (request.method !== "GET" && request.method !== "POST") {
    response.setHeader("allow", "GET, POST");
    return sendText(response, 405, "Open the link from the email (GET or POST).");
  }
  const query = new URL(request.url ?? "/", "http://link").searchParams;
  const userId = chat.digests?.unsubscriber(query.get("u") ?? "", query.get("s") ?? "");
  if (!chat.digests || userId === undefined) {
    return sendText(
      response,
      404,
      "This unsubscribe link is not valid here; copy the whole link from the email.",
    );
  }
  await chat.digests.unsubscribe(userId);
  return sendText(
    response,
    200,
    "Done: you will get no more emails from this chat. Set an address again in your client to get them back.",
  );
}
