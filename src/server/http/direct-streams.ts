import type { ServerResponse } from "node:http";
import type { Http2ServerResponse, ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import {
  type DescMessage,
  type DescMethod,
  fromBinary,
  fromJsonString,
  toJsonString,
} from "@bufbuild/protobuf";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import {
  parseContentType as connectContentType,
  headerTimeout as connectTimeout,
  contentTypeStreamJson,
  contentTypeStreamProto,
  createEndStreamSerialization,
  endStreamFlag,
  headerStreamEncoding,
} from "@connectrpc/connect/protocol-connect";
import {
  parseContentType as grpcWebContentType,
  headerEncoding as grpcWebEncoding,
  contentTypeProto as grpcWebProto,
  headerTimeout as grpcWebTimeout,
  setTrailerStatus,
  trailerFlag,
  trailerSerialize,
} from "@connectrpc/connect/protocol-grpc-web";
import { ChatError, toChatError } from "../../core/chat-error.ts";
import type { Encoder } from "../../core/envelope.ts";
import type { StreamSink } from "../../core/room-cursor.ts";
import { ChatService } from "../../gen/chat_pb.js";
import { RETRY_AFTER_METADATA } from "../../wire/grpc-service.ts";
import type { HandlerContext } from "../context.ts";
import { encoderFor } from "../encoders.ts";
import { frame, framed, unframed } from "../frames.ts";
import type { LiveCall } from "../live-stream.ts";
import { admit } from "../method-gate.ts";
import { type MethodRule, ruleOf } from "../methods.ts";
import { observeEnd, type RpcMetrics } from "../rpc-metrics.ts";
import type { ChatServiceImpl } from "../service-impl.ts";
import { tickCork } from "../tick-cork.ts";
import { UndecodableRequest } from "../undecodable.ts";
import { peerOf, toConnectError } from "./connect-routes.ts";
import { head, type Request, type Response } from "./static-files.ts";

/** The browser protocols this writes itself; anything else is connect-node's. */
type Protocol = "connect" | "connect-json" | "grpc-web";

const CONTENT_TYPES: Record<Protocol, string> = {
  connect: contentTypeStreamProto,
  "connect-json": contentTypeStreamJson,
  "grpc-web": grpcWebProto,
};

const FRAME_HEADER_BYTES = 5;

/**
 * The request's protocol, when it is one this writes and asks nothing of it
 * that connect-node does better: a compressed request message (its codecs),
 * or a deadline (its timers). gRPC-Web's base64 text form is left too.
 */
function protocolOf(request: Request): Protocol | undefined {
  const contentType = request.headers["content-type"] ?? null;
  // Connect names its headers capitalised; Node gives them in lower case.
  const header = (name: string) => request.headers[name.toLowerCase()];
  const plain = (name: string) => {
    const coding = header(name);
    return coding === undefined || coding === "identity";
  };
  const grpcWeb = grpcWebContentType(contentType);
  if (grpcWeb) {
    const simple = grpcWeb.binary && !grpcWeb.text && plain(grpcWebEncoding);
    return simple && header(grpcWebTimeout) === undefined ? "grpc-web" : undefined;
  }
  const connect = connectContentType(contentType);
  if (!connect?.stream || !plain(headerStreamEncoding) || header(connectTimeout) !== undefined)
    return undefined;
  return connect.binary ? "connect" : "connect-json";
}

const jsonEncoders = new WeakMap<Encoder, Encoder>();

/**
 * `encoder`'s message as a Connect JSON frame: made from the binary bytes the
 * fan-out already has, once per message (an Envelope caches each encoder's
 * bytes), then the same bytes for every JSON stream.
 */
function jsonFramed(encoder: Encoder, schema: DescMessage): Encoder {
  let json = jsonEncoders.get(encoder);
  if (!json) {
    const binary = framed(encoder);
    json = (payload) => {
      const bytes = binary(payload);
      if (bytes === null) return null;
      const message = fromBinary(schema, unframed(bytes));
      return frame(Buffer.from(toJsonString(schema, message)));
    };
    jsonEncoders.set(encoder, json);
  }
  return json;
}

/** What ends a stream in each protocol: Connect's end-of-stream frame or gRPC-Web's trailers. */
function endFrame(
  protocol: Protocol,
  error: ChatError | undefined,
  logger: HandlerContext["logger"],
) {
  const connectError = error ? toConnectError(error, logger) : undefined;
  const metadata = new Headers();
  const retryAfter = connectError?.metadata.get(RETRY_AFTER_METADATA);
  if (retryAfter) metadata.set(RETRY_AFTER_METADATA, retryAfter);
  if (protocol === "grpc-web") {
    return encodeEnvelope(trailerFlag, trailerSerialize(setTrailerStatus(metadata, connectError)));
  }
  const end = createEndStreamSerialization(undefined).serialize({
    metadata,
    ...(connectError ? { error: connectError } : {}),
  });
  return encodeEnvelope(endStreamFlag, end);
}

/** The one request message of a server stream, decoded; a ChatError a person can act on if it is not one. */
async function readRequest(
  request: Request,
  protocol: Protocol,
  input: DescMessage,
  maxBytes: number,
): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes + FRAME_HEADER_BYTES) {
      throw new ChatError(
        "resource_exhausted",
        `The request is larger than the ${maxBytes} bytes this server takes.`,
      );
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const length = body.byteLength >= FRAME_HEADER_BYTES ? body.readUInt32BE(1) : -1;
  if (length < 0 || body.byteLength !== FRAME_HEADER_BYTES + length) {
    throw new ChatError(
      "invalid_argument",
      `The request body must be one ${input.typeName} in one frame (5-byte header, then the message).`,
    );
  }
  if (body[0] !== 0) {
    throw new ChatError(
      "invalid_argument",
      "The request frame is flagged compressed, but the request names no encoding.",
    );
  }
  const message = body.subarray(FRAME_HEADER_BYTES);
  try {
    return protocol === "connect-json"
      ? fromJsonString(input, message.toString("utf8"))
      : fromBinary(input, message);
  } catch (error) {
    if (protocol !== "connect-json")
      throw new UndecodableRequest(input.typeName, error).toChatError();
    throw new ChatError(
      "invalid_argument",
      `The request is not a ${input.typeName} in JSON: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/**
 * The HTTP response as a LiveCall. Frames go out as the fan-out made them,
 * the same bytes for every stream of a protocol, corked until the end of the
 * tick so a burst leaves in one write, as on the native port.
 */
function responseCall(
  response: Response,
  request: Request,
  sinkEncoder: Encoder,
  ending: (error: ChatError | undefined) => Uint8Array,
): LiveCall {
  // HTTP/2: write to the stream itself, past the compatibility layer.
  // HTTP/1.1: cork the socket, not the response, whose own corking holds a
  // tick's writes as one chunk but reports them as unwritten (write returns
  // false) with no 'drain' to follow.
  const out: ServerHttp2Stream | ServerResponse =
    "stream" in response ? (response as Http2ServerResponse).stream : (response as ServerResponse);
  const corker = tickCork("stream" in response ? out : (request.socket as Socket));
  const { address, peer } = peerOf(request);
  let ended = false;
  let closed = false;
  const cancels: Array<() => void> = [];
  const dones: Array<() => void> = [];
  response.once("close", () => {
    closed = true;
    if (!ended) for (const cancel of cancels.splice(0)) cancel();
    for (const done of dones.splice(0)) done();
  });
  const gone = () => closed || out.destroyed || out.writableEnded;
  const sink: StreamSink = {
    encoder: sinkEncoder,
    write(bytes) {
      if (ended || gone()) return true;
      corker.cork();
      return out.write(bytes);
    },
    onDrain: (callback) => out.once("drain", callback),
    end(error) {
      if (ended) return;
      ended = true;
      if (gone()) return;
      // What this tick wrote goes before the last frame.
      corker.flush();
      response.end(ending(error));
    },
  };
  return {
    transport: "http",
    sink,
    address,
    peer,
    get cancelled() {
      return closed && !ended;
    },
    onCancel(callback) {
      if (closed && !ended) callback();
      else if (!closed) cancels.push(callback);
    },
    onDone(callback) {
      if (closed) callback();
      else dones.push(callback);
    },
  };
}

type Run = (input: unknown, call: unknown) => unknown;

/**
 * The HTTP port's server streams (Subscribe) written here rather than by
 * connect-node, which serialises every message again for every stream and
 * writes each on its own: here each message is encoded once per protocol
 * (binary frames are the native port's very bytes) and written corked per
 * tick. Same gate, same handler, same statuses. Returns a handler that
 * answers a request when it is one of these and says whether it did;
 * anything it does not take (another protocol, compression, a deadline)
 * goes on to connect-node.
 */
export function directStreams(
  context: HandlerContext,
  impl: ChatServiceImpl,
  metrics: RpcMetrics,
  maxRequestBytes: number,
): (request: Request, response: Response, path: string) => boolean {
  const { chat, logger } = context;
  const methods = new Map<
    string,
    { method: DescMethod; rule: MethodRule<never>; run: Run; encoder: Encoder }
  >();
  for (const method of ChatService.methods) {
    const rule = ruleOf(method.localName);
    if (method.methodKind !== "server_streaming" || !rule?.transports.includes("http")) continue;
    const run = impl[method.localName as keyof ChatServiceImpl] as Run;
    methods.set(`/${ChatService.typeName}/${method.name}`, {
      method,
      rule,
      run,
      encoder: encoderFor(method.output),
    });
  }

  const serve = async (
    request: Request,
    response: Response,
    protocol: Protocol,
    { method, rule, run, encoder }: NonNullable<ReturnType<typeof methods.get>>,
  ) => {
    // Both protocols answer 200 even for a refusal (it travels in the last frame).
    head(response, 200, { "content-type": CONTENT_TYPES[protocol] });
    if ("stream" in response) response.writeHead(200);
    else response.flushHeaders();
    const sinkEncoder =
      protocol === "connect-json" ? jsonFramed(encoder, method.output) : framed(encoder);
    const call = responseCall(response, request, sinkEncoder, (error) =>
      endFrame(protocol, error, logger),
    );
    const live = observeEnd(call, metrics.of(method, "http").start());
    try {
      const message = await readRequest(request, protocol, method.input, maxRequestBytes);
      const header = (key: string) => {
        const value = request.headers[key];
        return Array.isArray(value) ? value[0] : value;
      };
      const admitted = await admit(chat, rule, header, message, call.address);
      await run(message, { ...admitted, live });
    } catch (error) {
      // Nothing is open yet: the refusal is the whole answer.
      live.sink.end(toChatError(error));
    }
  };

  return (request, response, path) => {
    const target = methods.get(path);
    if (!target || request.method !== "POST") return false;
    const protocol = protocolOf(request);
    if (!protocol) return false;
    serve(request, response, protocol, target).catch((error: unknown) => {
      logger.error({ err: error, path }, "a server stream failed");
      response.destroy();
    });
    return true;
  };
}
