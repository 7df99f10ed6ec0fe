// The HTTP port answers a client's mistakes as the client's: a 4xx with a
// sentence, or the status the native port gives for the same bytes; never a
// 500, never an error in the log. Each request goes over a raw TCP socket, so
// nothing between the test and the server tidies it up first.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import { Client, credentials, type ServiceError, status } from "@grpc/grpc-js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { capturedLogger, type LogLine, WARN } from "./captured-logger.ts";
import { startTestServer, within } from "./helpers.ts";

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Sends `request` as it is and reads the answer until the server closes (Connection: close). */
function raw(port: number, request: Buffer | string): Promise<RawResponse> {
  const received = new Promise<Buffer>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
  return within(received, 5_000, `an answer to ${String(request).split("\r\n")[0]}`).then(
    (bytes) => {
      const split = bytes.indexOf("\r\n\r\n");
      const [statusLine = "", ...fields] = bytes
        .subarray(0, split)
        .toString("latin1")
        .split("\r\n");
      const headers: Record<string, string> = {};
      for (const field of fields) {
        const colon = field.indexOf(":");
        headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
      }
      let body = bytes.subarray(split + 4);
      if (headers["transfer-encoding"] === "chunked") body = unchunked(body);
      return { status: Number(statusLine.split(" ")[1]), headers, body };
    },
  );
}

function unchunked(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; ; ) {
    const end = bytes.indexOf("\r\n", at);
    const size = Number.parseInt(bytes.subarray(at, end).toString(), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(bytes.subarray(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
}

const get = (target: string) => `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

function post(path: string, headers: Record<string, string>, body: Uint8Array, version = "1.1") {
  const lines = [`POST ${path} HTTP/${version}`, "Connection: close"];
  for (const [name, value] of Object.entries({ Host: "x", ...headers })) {
    if (value) lines.push(`${name}: ${value}`);
  }
  lines.push(`Content-Length: ${body.byteLength}`, "", "");
  return Buffer.concat([Buffer.from(lines.join("\r\n")), body]);
}

const frame = (message: Uint8Array, flags = 0) => {
  const header = Buffer.alloc(5);
  header.writeUInt8(flags, 0);
  header.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([header, message]);
};

/** The frames of a framed body (gRPC-Web, Connect streaming), in order. */
function framesOf(body: Buffer): Array<{ flags: number; data: Buffer }> {
  const frames = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    frames.push({ flags: body[at] as number, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames;
}

/** The status a gRPC-Web answer ends with, from its trailer frame. */
function grpcWebStatus(response: RawResponse) {
  const last = framesOf(response.body).at(-1);
  assert.equal(last?.flags, 0x80, "a trailer frame last");
  const trailer = trailerParse(last.data);
  return {
    code: Number(trailer.get("grpc-status")),
    message: decodeURIComponent(trailer.get("grpc-message") ?? ""),
  };
}

/** Field 1, length-delimited, claiming 16383 bytes that are not there: no message decodes from it. */
const UNDECODABLE = Buffer.from([0x0a, 0xff, 0xff]);

const PING = "/chat.ChatService/Ping";
const SUBSCRIBE = "/chat.ChatService/Subscribe";

const sentence = (type: string) => `The server could not decode a request message as a ${type}.`;

describe("client faults on the HTTP port", () => {
  let server: RunningChatServer;
  let port: number;
  const { logger, lines } = capturedLogger();
  before(async () => {
    server = await startTestServer({ httpPort: 0, logger });
    port = Number(new URL(server.httpUrl ?? "").port);
  });
  after(() => server.stop());

  /** What the server logged above debug while `run` ran. */
  const loggedBy = async <T>(run: () => Promise<T>): Promise<[T, LogLine[]]> => {
    const from = lines.length;
    const result = await run();
    return [result, lines.slice(from).filter((line) => line.level >= WARN)];
  };

  test("a path that cannot be decoded is 400 or 404 with a sentence, and no error is logged", async () => {
    const expected: Array<[string, number]> = [
      ["/%E0%A4%A", 400],
      ["/%", 400],
      ["/%zz", 400],
      ["/app%2", 400],
      ["/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json", 404],
      ["/%ed%a0%80", 404],
      ["//[", 404],
      ["/[", 404],
      ["*", 400],
      ["http://[/index.html", 400],
    ];
    for (const [target, code] of expected) {
      const [response, logged] = await loggedBy(() => raw(port, get(target)));
      assert.equal(response.status, code, target);
      assert.match(response.body.toString(), /^[A-Z].+\.\n$/, `${target}: a sentence`);
      assert.deepEqual(logged, [], `${target}: logged`);
    }
  });

  test("anything outside the web root is 404, in every spelling of ..", async () => {
    // web/dist/../index.html and web/dist/../../package.json exist: a way out would serve them.
    const outside = [
      "/../index.html",
      "/../../package.json",
      "/./../index.html",
      "/%2e%2e/index.html",
      "/%2E%2E/%2e%2e/package.json",
      "/.%2e/index.html",
      "/..%2findex.html",
      "/..%2F..%2Fpackage.json",
      "/%2e%2e%2f%2e%2e%2fpackage.json",
      "/..\\index.html",
      "/..%5c..%5cpackage.json",
      "/%5c..%5cindex.html",
      "/index.html%00",
      "/%00/../index.html",
      "/..%00/index.html",
      "/%c0%ae%c0%ae/index.html",
      "/%c0%ae%c0%ae%c0%afindex.html",
      "/%e0%80%ae%e0%80%ae/index.html",
      "/..%c0%afindex.html",
      "/%25%32%65%25%32%65/index.html",
      "/.hidden",
      "/app.js/..",
    ];
    for (const target of outside) {
      const [response, logged] = await loggedBy(() => raw(port, get(target)));
      assert.equal(response.status, 404, target);
      assert.equal(response.body.toString(), "Not found.\n", target);
      assert.deepEqual(logged, [], `${target}: logged`);
    }
    // The same requests can succeed: what is inside the root is served, however spelt.
    for (const target of ["/", "/index.html", "/%69ndex.html", "http://x/index.html?q=%zz"]) {
      const response = await raw(port, get(target));
      assert.equal(response.status, 200, target);
      assert.match(response.body.toString(), /^<!doctype html>/, target);
    }
  });

  test("a request with no host, or one that is not a host name, is 400", async () => {
    const body = Buffer.from("{}");
    const json = { "Content-Type": "application/json" };
    for (const request of [
      post(PING, { ...json, Host: "" }, body, "1.0"),
      post(PING, { ...json, Host: "[" }, body),
      post(PING, { ...json, Host: "a b" }, body),
    ]) {
      const [response, logged] = await loggedBy(() => raw(port, request));
      assert.equal(response.status, 400, String(request).split("\r\n")[0]);
      assert.match(response.body.toString(), /host/i);
      assert.deepEqual(logged, []);
    }
    const hosted = await raw(port, post(PING, json, body, "1.0"));
    assert.equal(hosted.status, 200);
  });

  test("binary that does not decode is INVALID_ARGUMENT in the native port's words, on every protocol", async () => {
    const native = await new Promise<ServiceError>((resolve) => {
      const client = new Client(server.address, credentials.createInsecure());
      const identity = (bytes: Buffer) => bytes;
      client.makeUnaryRequest(PING, identity, identity, UNDECODABLE, (error) => {
        client.close();
        resolve(error as ServiceError);
      });
    });
    assert.equal(native.code, status.INVALID_ARGUMENT);
    assert.equal(native.details, sentence("chat.PingRequest"));

    const connectUnary = async (headers: Record<string, string>, body: Uint8Array) => {
      const [response, logged] = await loggedBy(() => raw(port, post(PING, headers, body)));
      assert.deepEqual(logged, []);
      assert.equal(response.status, 400);
      return JSON.parse(response.body.toString());
    };
    const refusal = { code: "invalid_argument", message: native.details };
    assert.deepEqual(
      await connectUnary({ "Content-Type": "application/proto" }, UNDECODABLE),
      refusal,
    );
    assert.deepEqual(
      await connectUnary(
        { "Content-Type": "application/proto", "Content-Encoding": "gzip" },
        gzipSync(UNDECODABLE),
      ),
      refusal,
    );

    const grpcWeb = async (path: string, headers: Record<string, string>, body: Buffer) => {
      const [response, logged] = await loggedBy(() => raw(port, post(path, headers, body)));
      assert.deepEqual(logged, []);
      assert.equal(response.status, 200);
      return grpcWebStatus(response);
    };
    for (const contentType of ["application/grpc-web+proto", "application/grpc-web"]) {
      assert.deepEqual(await grpcWeb(PING, { "Content-Type": contentType }, frame(UNDECODABLE)), {
        code: Code.InvalidArgument,
        message: native.details,
      });
    }
    assert.deepEqual(
      await grpcWeb(
        PING,
        { "Content-Type": "application/grpc-web+proto", "Grpc-Encoding": "gzip" },
        frame(gzipSync(UNDECODABLE), 1),
      ),
      { code: Code.InvalidArgument, message: native.details },
    );
    assert.deepEqual(
      await grpcWeb(
        SUBSCRIBE,
        { "Content-Type": "application/grpc-web+proto" },
        frame(UNDECODABLE),
      ),
      { code: Code.InvalidArgument, message: sentence("chat.SubscribeRequest") },
    );

    // Subscribe over Connect's streaming protocol: the error is in its end-of-stream frame.
    const [stream, logged] = await loggedBy(() =>
      raw(
        port,
        post(SUBSCRIBE, { "Content-Type": "application/connect+proto" }, frame(UNDECODABLE)),
      ),
    );
    assert.deepEqual(logged, []);
    const end = framesOf(stream.body).at(-1);
    assert.equal(end?.flags, 0x02, "an end-of-stream frame");
    assert.deepEqual(JSON.parse(end.data.toString()), {
      error: { code: "invalid_argument", message: sentence("chat.SubscribeRequest") },
    });

    // The check lets good bytes through untouched: an empty Ping is a good one.
    const pong = await raw(port, post(PING, { "Content-Type": "application/proto" }, Buffer.of()));
    assert.equal(pong.status, 200);
    assert.equal(pong.headers["content-type"], "application/proto");
  });

  test("JSON that is not JSON, or not the message's shape, is INVALID_ARGUMENT saying what is wrong", async () => {
    for (const [path, body, expected] of [
      [PING, "{nope", /cannot decode message chat\.PingRequest from JSON/],
      ["/chat.ChatService/Send", '{"room": 5}', /chat\.SendRequest\.room.*expected string/],
      ["/chat.ChatService/Send", "[1]", /cannot decode message chat\.SendRequest/],
    ] as const) {
      const request = post(path, { "Content-Type": "application/json" }, Buffer.from(body));
      const [response, logged] = await loggedBy(() => raw(port, request));
      assert.deepEqual(logged, []);
      assert.equal(response.status, 400, body);
      const error = JSON.parse(response.body.toString()) as { code: string; message: string };
      assert.equal(error.code, "invalid_argument", body);
      assert.match(error.message, expected);
    }
    const request = post(
      PING,
      { "Content-Type": "application/grpc-web+json" },
      frame(Buffer.from("{nope")),
    );
    const [response, logged] = await loggedBy(() => raw(port, request));
    assert.deepEqual(logged, []);
    const { code, message } = grpcWebStatus(response);
    assert.equal(code, Code.InvalidArgument);
    assert.match(message, /cannot decode message chat\.PingRequest from JSON/);
  });
});
