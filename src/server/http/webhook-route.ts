// POST /hooks/<secret>: incoming webhooks, in Slack's shape, so the scripts
// teams already have (CI, alerts, deploys) post here unchanged.
import type { Chat } from "../../core/chat.ts";
import { ChatError, toChatError } from "../../core/chat-error.ts";
import type { HookPost } from "../../core/webhooks.ts";
import { peerOf } from "./connect-routes.ts";
import { head, type Request, type Response, sendText } from "./static-files.ts";

/** A message's text is at most a few thousand characters; this leaves room for JSON around it. */
const MAX_HOOK_BODY_BYTES = 64 * 1024;

const HTTP_STATUS: Partial<Record<ChatError["code"], number>> = {
  invalid_argument: 400,
  not_found: 404,
  resource_exhausted: 429,
  unavailable: 503,
  permission_denied: 403,
};

class BodyTooLarge extends Error {}

async function readBody(request: Request): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > MAX_HOOK_BODY_BYTES) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_HOOK_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const invalid = (sentence: string) => new ChatError("invalid_argument", sentence);

/** Slack's JSON (`text`, optional `username`), its form encoding (`payload=` JSON), or plain text. */
function parsePost(contentType: string, body: Buffer, idempotencyKey: string): HookPost {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const key = idempotencyKey ? { idempotencyKey } : {};
  if (type === "" || type === "text/plain") return { text: body.toString("utf8"), ...key };
  let json: string;
  if (type === "application/json") json = body.toString("utf8");
  else if (type === "application/x-www-form-urlencoded") {
    // Slack's form carries its JSON in `payload`; anything else is what
    // `curl -d 'some text'` sends (curl's default type), taken as the text.
    const payload = new URLSearchParams(body.toString("utf8")).get("payload");
    if (payload === null) return { text: body.toString("utf8"), ...key };
    json = payload;
  } else {
    throw new ChatError(
      "invalid_argument",
      `A webhook takes JSON ({"text": "..."}) or plain text, not ${type}.`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw invalid('The body is not valid JSON; send {"text": "..."} or plain text.');
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid('The JSON must be an object such as {"text": "..."}.');
  }
  const { text, username } = value as Record<string, unknown>;
  if (typeof text !== "string") throw invalid('The JSON needs a "text" string.');
  if (username !== undefined && typeof username !== "string") {
    throw invalid('"username", when given, must be a string.');
  }
  return { text, ...(username ? { username } : {}), ...key };
}

/** Answers a request whose path is the hook prefix followed by `secret`. */
export async function handleWebhook(
  chat: Chat,
  request: Request,
  response: Response,
  secret: string,
): Promise<void> {
  if (request.method !== "POST") {
    response.setHeader("allow", "POST");
    return sendText(response, 405, "A webhook takes POST only.");
  }
  let body: Buffer;
  try {
    body = await readBody(request);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      return sendText(response, 413, `A webhook post is at most ${MAX_HOOK_BODY_BYTES} bytes.`);
    }
    throw error;
  }
  try {
    chat.governance.addressBans.check(peerOf(request).address);
    const key = request.headers["idempotency-key"];
    const post = parsePost(
      String(request.headers["content-type"] ?? ""),
      body,
      typeof key === "string" ? key : "",
    );
    if (post.text.trim() === "") throw invalid("The message is empty; give it some text.");
    const { message } = await chat.webhooks.post(secret, post);
    head(response, 200, { "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify({ ok: true, room: message.room, id: message.id }));
  } catch (error) {
    const chatError = toChatError(error);
    const status = HTTP_STATUS[chatError.code] ?? 500;
    if (chatError.retryAfterMs !== undefined) {
      response.setHeader("retry-after", Math.max(1, Math.ceil(chatError.retryAfterMs / 1000)));
    }
    sendText(
      response,
      status,
      status === 500 ? "The server failed to store this post; try again." : chatError.message,
    );
  }
}
