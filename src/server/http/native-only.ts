import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  parseContentType as connectContentType,
  contentTypeStreamJson,
  contentTypeStreamProto,
  contentTypeUnaryJson,
  createEndStreamSerialization,
  endStreamFlag,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import {
  parseContentType as grpcWebContentType,
  contentTypeJson as grpcWebJson,
  contentTypeProto as grpcWebProto,
  setTrailerStatus,
  trailerFlag,
  trailerSerialize,
} from "@connectrpc/connect/protocol-grpc-web";
import { ChatService } from "../../gen/chat_pb.js";
import { ruleOf } from "../methods.ts";
import { head, type Request, type Response } from "./static-files.ts";

export const NATIVE_ONLY_MESSAGE =
  "This call is served on the native gRPC port only; on this port use Subscribe and Send.";

/** The methods the method table does not serve on the HTTP port, by path. */
const NATIVE_ONLY = new Map<string, DescMethod>(
  ChatService.methods
    .filter((method) => !ruleOf(method.localName)?.transports.includes("http"))
    .map((method) => [`/${ChatService.typeName}/${method.name}`, method]),
);

/** The method at `path` when the HTTP port does not serve it. */
export function nativeOnlyMethod(path: string): DescMethod | undefined {
  return NATIVE_ONLY.get(path);
}

/**
 * Answers UNIMPLEMENTED, naming the native port, in the protocol the request
 * speaks: gRPC-Web (status in a trailer frame), Connect streaming (an
 * end-of-stream frame) or Connect unary (the JSON error, and anything not
 * recognised gets this). Answered here, before connect-node, because it
 * refuses a bidirectional stream on HTTP/1.1 with a bare 505 before any
 * handler can run, and a client stream there too.
 */
export function refuseNativeOnly(request: Request, response: Response): void {
  const error = new ConnectError(NATIVE_ONLY_MESSAGE, Code.Unimplemented);
  const contentType = request.headers["content-type"] ?? null;
  const grpcWeb = grpcWebContentType(contentType);
  if (grpcWeb) {
    const frame = encodeEnvelope(
      trailerFlag,
      trailerSerialize(setTrailerStatus(new Headers(), error)),
    );
    if (grpcWeb.text) {
      head(response, 200, { "content-type": "application/grpc-web-text+proto" });
      response.end(Buffer.from(frame).toString("base64"));
      return;
    }
    head(response, 200, { "content-type": grpcWeb.binary ? grpcWebProto : grpcWebJson });
    response.end(frame);
    return;
  }
  const connect = connectContentType(contentType);
  if (connect?.stream) {
    const end = createEndStreamSerialization(undefined).serialize({
      metadata: new Headers(),
      error,
    });
    head(response, 200, {
      "content-type": connect.binary ? contentTypeStreamProto : contentTypeStreamJson,
    });
    response.end(encodeEnvelope(endStreamFlag, end));
    return;
  }
  head(response, codeToHttpStatus(error.code), { "content-type": contentTypeUnaryJson });
  response.end(errorToJsonBytes(error, undefined));
}
