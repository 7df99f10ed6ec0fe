import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Compression,
  compressedFlag,
  createAsyncIterable,
  type EnvelopedMessage,
  transformSplitEnvelope,
  type UniversalHandler,
  type UniversalServerRequest,
} from "@connectrpc/connect/protocol";
import {
  parseContentType as connectContentType,
  headerStreamEncoding,
  headerUnaryEncoding,
} from "@connectrpc/connect/protocol-connect";
import {
  parseContentType as grpcWebContentType,
  headerEncoding as grpcWebEncoding,
} from "@connectrpc/connect/protocol-grpc-web";
import { UndecodableRequest } from "../undecodable.ts";

/** How a binary request body carries its message: bare (Connect unary) or in frames, and its compression header. */
interface Framing {
  readonly framed: boolean;
  readonly encodingHeader: string;
}

function framingOf(contentType: string | null): Framing | undefined {
  const grpcWeb = grpcWebContentType(contentType);
  if (grpcWeb) {
    return grpcWeb.binary && !grpcWeb.text
      ? { framed: true, encodingHeader: grpcWebEncoding }
      : undefined;
  }
  const connect = connectContentType(contentType);
  if (!connect?.binary) return undefined;
  return connect.stream
    ? { framed: true, encodingHeader: headerStreamEncoding }
    : { framed: false, encodingHeader: headerUnaryEncoding };
}

const FRAME_HEADER_BYTES = 5;

interface Limits {
  readonly readMaxBytes: number;
  /** The codings the adapter accepts; a message in another is left to it to refuse. */
  readonly acceptCompression: readonly Compression[];
}

/**
 * A handler that refuses a binary request message that does not decode with
 * INVALID_ARGUMENT, in the native port's words, before connect-node parses
 * it: connect-node's binary parse calls any failure INTERNAL (blaming itself
 * for the client's bytes), and no option of its reaches that parse. JSON
 * bodies need nothing: connect-node already answers them INVALID_ARGUMENT.
 *
 * Every method the HTTP port serves takes exactly one request message, which
 * connect-node reads whole before it runs a handler; this reads it whole
 * first, decodes it once more, and hands on the same bytes. A body too big
 * for one message is handed on unread, for connect-node to refuse.
 */
export function refuseUndecodable(handler: UniversalHandler, limits: Limits): UniversalHandler {
  const { protocolNames, service, method, requestPath, allowedMethods, supportedContentType } =
    handler;
  const checked = (request: UniversalServerRequest) => {
    const framing = framingOf(request.header.get("content-type"));
    const { body } = request;
    if (framing === undefined || !isByteStream(body)) return handler(request);
    const check = (bytes: Uint8Array) =>
      checkMessages(bytes, framing, request, method.input, limits);
    const limit = limits.readMaxBytes + (framing.framed ? FRAME_HEADER_BYTES : 0);
    return handler({ ...request, body: checkedBody(body, check, limit) });
  };
  return Object.assign(checked, {
    protocolNames,
    service,
    method,
    requestPath,
    allowedMethods,
    supportedContentType,
  });
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

async function* checkedBody(
  body: AsyncIterable<Uint8Array>,
  check: (bytes: Uint8Array) => Promise<void>,
  limit: number,
): AsyncGenerator<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > limit) {
      yield* chunks;
      for (next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      return;
    }
  }
  const bytes = Buffer.concat(chunks);
  await check(bytes);
  yield bytes;
}

/** Throws the native port's INVALID_ARGUMENT when a message in `bytes` is not an `input`. */
async function checkMessages(
  bytes: Uint8Array,
  framing: Framing,
  request: UniversalServerRequest,
  input: DescMessage,
  { readMaxBytes, acceptCompression }: Limits,
): Promise<void> {
  const coding = request.header.get(framing.encodingHeader);
  const compression =
    coding === null || coding === "identity"
      ? null
      : acceptCompression.find((c) => c.name === coding);
  // A coding connect-node does not take is its to refuse, in its words.
  if (compression === undefined) return;
  // Split as connect-node splits them, so a malformed frame fails here as it would there.
  const frames: AsyncIterable<EnvelopedMessage> = framing.framed
    ? transformSplitEnvelope(readMaxBytes)(createAsyncIterable([bytes]))
    : createAsyncIterable([{ flags: compression ? compressedFlag : 0, data: bytes }]);
  for await (const { flags, data } of frames) {
    // Only message frames are ours to judge.
    if ((flags & ~compressedFlag) !== 0) continue;
    if (flags & compressedFlag && compression === null) continue;
    const message =
      flags & compressedFlag ? await compression?.decompress(data, readMaxBytes) : data;
    try {
      fromBinary(input, message ?? data);
    } catch (error) {
      const sentence = new UndecodableRequest(input.typeName, error).toChatError().message;
      throw new ConnectError(sentence, Code.InvalidArgument, undefined, undefined, error);
    }
  }
}
