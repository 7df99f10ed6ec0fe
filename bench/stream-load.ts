// Load on our own API for `fanout --transport`: Subscribe streams over the
// native port (gRPC) or the HTTP port (Connect binary or JSON, gRPC-Web), all
// written by hand over node:http and node:http2 and read frame by frame, so a
// client costs the same whichever protocol it speaks and the server's CPU per
// delivery is what differs. Each client has a connection of its own; a
// sender sends with unary Send on the native port, over its own connection.
import { request as httpRequest } from "node:http";
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as http2Connect,
} from "node:http2";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { SendRequestSchema, SubscribeRequestSchema } from "../src/gen/chat_pb.js";
import { USER_ID_METADATA } from "../src/wire/grpc-service.ts";
import type { SeedConnection } from "./seed-load.ts";
import { lengthField, utf8Text } from "./seed-load.ts";

export const STREAM_TRANSPORTS = ["native", "connect", "connect-json", "grpc-web"] as const;
export type StreamTransport = (typeof STREAM_TRANSPORTS)[number];

/** Where a server's two ports are: the native port as host:port, the HTTP port as a URL. */
export interface StreamServer {
  readonly native: string;
  readonly http: string;
  /** The certificate to trust when the server speaks TLS. */
  readonly ca?: Buffer;
}

const CONTENT_TYPES: Record<StreamTransport, string> = {
  native: "application/grpc+proto",
  connect: "application/connect+proto",
  "connect-json": "application/connect+json",
  "grpc-web": "application/grpc-web+proto",
};

const SUBSCRIBE_PATH = "/chat.ChatService/Subscribe";
const SEND_PATH = "/chat.ChatService/Send";
const ROOM = "lobby";

function envelope(payload: Uint8Array): Buffer {
  const bytes = Buffer.allocUnsafe(payload.byteLength + 5);
  bytes[0] = 0;
  bytes.writeUInt32BE(payload.byteLength, 1);
  bytes.set(payload, 5);
  return bytes;
}

/** Calls `onFrame` with each whole frame in the chunks it is given. */
function frameReader(onFrame: (flags: number, payload: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (pending.length - offset >= 5) {
      const length = pending.readUInt32BE(offset + 1);
      if (pending.length - offset - 5 < length) break;
      onFrame(pending[offset] as number, pending.subarray(offset + 5, offset + 5 + length));
      offset += 5 + length;
    }
    pending = pending.subarray(offset);
  };
}

/** A message event's text: Event.message (2), Message.text (6); undefined for any other event. */
function eventText(transport: StreamTransport, payload: Buffer): string | undefined {
  if (transport === "connect-json") {
    return (JSON.parse(payload.toString("utf8")) as { message?: { text?: string } }).message?.text;
  }
  const message = lengthField(payload, 2);
  const text = message && lengthField(message, 6);
  return text ? utf8Text(text) : undefined;
}

function h2(url: string, ca: Buffer | undefined): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(url, ca ? { ca } : {});
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

/** Opens a Subscribe to the lobby on `transport`; resolves once its response has begun. */
async function subscribe(
  transport: StreamTransport,
  server: StreamServer,
  headers: Record<string, string>,
  body: Uint8Array,
  onChunk: (chunk: Buffer) => void,
): Promise<{ close(): void }> {
  const scheme = server.ca ? "https" : "http";
  const h2Url = transport === "native" ? `${scheme}://${server.native}` : server.http;
  if (transport === "native" || server.ca) {
    const session = await h2(h2Url, server.ca);
    const stream: ClientHttp2Stream = session.request({
      ":method": "POST",
      ":path": SUBSCRIBE_PATH,
      ...headers,
      ...(transport === "native" ? { te: "trailers" } : {}),
    });
    stream.on("data", onChunk);
    stream.on("error", () => {});
    stream.end(body);
    await new Promise((resolve, reject) => {
      stream.once("response", resolve);
      stream.once("error", reject);
    });
    return { close: () => session.destroy() };
  }
  const url = new URL(SUBSCRIBE_PATH, server.http);
  const request = httpRequest(url, { method: "POST", headers, agent: false });
  request.on("error", () => {});
  request.end(body);
  const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
    request.once("response", resolve);
    request.once("error", reject);
  });
  response.on("data", onChunk);
  response.on("error", () => {});
  return { close: () => request.destroy() };
}

/**
 * One client: a Subscribe on `transport` as `name`, in the lobby; `onMessage`
 * gets each message's text. `write` sends through unary Send on the native
 * port, several in flight at once (the connection keeps them in order).
 */
export async function connectStream(
  transport: StreamTransport,
  server: StreamServer,
  name: string,
  onMessage: (text: string) => void,
): Promise<SeedConnection> {
  const secret = `bench-${name}-${Math.random().toString(36).slice(2)}`;
  const request = create(SubscribeRequestSchema, { username: name, rooms: [{ room: ROOM }] });
  const body =
    transport === "connect-json"
      ? envelope(Buffer.from(toJsonString(SubscribeRequestSchema, request)))
      : envelope(toBinary(SubscribeRequestSchema, request));
  let joined: () => void = () => {};
  const live = new Promise<void>((resolve) => {
    joined = resolve;
  });
  const read = frameReader((flags, payload) => {
    // Connect's end of stream (2) and gRPC-Web's trailers (0x80) end it; only messages (0) count.
    if (flags !== 0) return;
    const text = eventText(transport, payload);
    if (text === undefined) {
      joined();
      return;
    }
    onMessage(text);
  });
  const stream = await subscribe(
    transport,
    server,
    { "content-type": CONTENT_TYPES[transport], [USER_ID_METADATA]: secret },
    body,
    read,
  );
  // The first event (the welcome) says the stream is open and the name is taken.
  await live;
  let sender: ClientHttp2Session | undefined;
  let opening: Promise<ClientHttp2Session> | undefined;
  const send = async (text: string) => {
    opening ??= h2(`${server.ca ? "https" : "http"}://${server.native}`, server.ca);
    sender ??= await opening;
    const call = sender.request({
      ":method": "POST",
      ":path": SEND_PATH,
      "content-type": "application/grpc+proto",
      te: "trailers",
      [USER_ID_METADATA]: secret,
    });
    call.on("error", () => {});
    call.resume();
    call.end(
      envelope(toBinary(SendRequestSchema, create(SendRequestSchema, { room: ROOM, text }))),
    );
  };
  return {
    name,
    write(text) {
      void send(text);
      return true;
    },
    drained: () => Promise.resolve(),
    close() {
      stream.close();
      sender?.destroy();
    },
  };
}
