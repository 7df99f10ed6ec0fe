// One small client interface over the three ways a call reaches the server:
// native gRPC (grpc-js), Connect and gRPC-Web (the browser's protocols, from
// @connectrpc/connect-node), so a test can make the same calls on each and
// compare what comes back.
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { create, type DescMethod, type JsonValue, toJson } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { ChatService } from "../src/gen/chat_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { chatServiceDefinition, RETRY_AFTER_METADATA } from "../src/wire/grpc-service.ts";
import { startTestServer } from "./helpers.ts";

export type Outcome =
  | { readonly ok: JsonValue }
  | { readonly code: number; readonly message: string; readonly retryAfterMs?: string };

export type Headers = Record<string, string>;

/** A call's reply as JSON; fails the test, saying `what`, when it was refused. */
export function okOf(outcome: Outcome, what: string): Record<string, unknown> {
  assert.ok("ok" in outcome, `${what}: ${JSON.stringify(outcome)}`);
  return outcome.ok as Record<string, unknown>;
}

/** A refusal's sentence; fails the test unless the call was refused with `code`. */
export function refusedWith(outcome: Outcome, code: number, what: string): string {
  assert.ok("code" in outcome, `${what} should be refused, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.code, code, `${what}: ${outcome.message}`);
  return outcome.message;
}

/** A new account on `client`'s server, as the headers its calls carry. */
export async function account(client: AnyClient, username: string): Promise<Headers> {
  const password = "correct horse battery";
  const token = okOf(await client.unary("register", { username, password }), "register");
  return { authorization: `Bearer ${token.token}` };
}

export interface AnyClient {
  readonly name: string;
  unary(method: string, request: object, headers?: Headers): Promise<Outcome>;
  /** Subscribe's events as JSON, until `stop` is called or the stream ends (its end is the last item). */
  subscribe(request: object, headers?: Headers): { events: AsyncIterator<Outcome>; stop(): void };
  close(): void;
}

function methodOf(localName: string): DescMethod {
  const method = ChatService.methods.find((m) => m.localName === localName);
  if (!method) throw new Error(`no method ${localName}`);
  return method;
}

function fromConnectError(error: unknown): Outcome {
  const e = ConnectError.from(error);
  const retryAfterMs = e.metadata.get(RETRY_AFTER_METADATA) ?? undefined;
  return { code: e.code, message: e.rawMessage, ...(retryAfterMs ? { retryAfterMs } : {}) };
}

function connectClient(name: string, baseUrl: string, grpcWeb: boolean): AnyClient {
  // Connect in JSON (what curl speaks), gRPC-Web in binary (what the web page speaks).
  const options = { baseUrl, httpVersion: "1.1" as const, useBinaryFormat: grpcWeb };
  const transport = grpcWeb ? createGrpcWebTransport(options) : createConnectTransport(options);
  const client = createClient(ChatService, transport) as unknown as Record<
    string,
    (request: object, options: object) => unknown
  >;
  return {
    name,
    async unary(method, request, headers = {}) {
      try {
        const response = await (client[method]?.(request, { headers }) as Promise<never>);
        return { ok: toJson(methodOf(method).output, response) };
      } catch (error) {
        return fromConnectError(error);
      }
    },
    subscribe(request, headers = {}) {
      const abort = new AbortController();
      const stream = client.subscribe?.(request, {
        headers,
        signal: abort.signal,
      }) as AsyncIterable<never>;
      const output = methodOf("subscribe").output;
      async function* events(): AsyncGenerator<Outcome> {
        try {
          for await (const event of stream) yield { ok: toJson(output, event) };
          yield { code: 0, message: "ended" };
        } catch (error) {
          yield fromConnectError(error);
        }
      }
      return { events: events(), stop: () => abort.abort() };
    },
    close() {},
  };
}

function nativeClient(address: string): AnyClient {
  const Client = makeGenericClientConstructor(chatServiceDefinition, "ChatService");
  const client = new Client(address, credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  }) as unknown as Record<string, (...args: unknown[]) => unknown> & { close(): void };
  const metadataOf = (headers: Headers) => {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    return metadata;
  };
  const fromStatus = (error: ServiceError): Outcome => {
    const retryAfterMs = error.metadata?.get(RETRY_AFTER_METADATA)[0];
    return {
      code: error.code,
      message: error.details,
      ...(retryAfterMs ? { retryAfterMs: String(retryAfterMs) } : {}),
    };
  };
  return {
    name: "native gRPC",
    unary(method, request, headers = {}) {
      return new Promise((resolve) => {
        const message = create(methodOf(method).input, request as Record<string, unknown>);
        client[method]?.(
          message,
          metadataOf(headers),
          (error: ServiceError | null, response: never) =>
            resolve(error ? fromStatus(error) : { ok: toJson(methodOf(method).output, response) }),
        );
      });
    },
    subscribe(request, headers = {}) {
      const message = create(methodOf("subscribe").input, request as Record<string, unknown>);
      const call = client.subscribe?.(message, metadataOf(headers)) as NodeJS.ReadableStream & {
        cancel(): void;
      };
      const output = methodOf("subscribe").output;
      async function* events(): AsyncGenerator<Outcome> {
        try {
          for await (const event of call) yield { ok: toJson(output, event as never) };
          yield { code: 0, message: "ended" };
        } catch (error) {
          yield fromStatus(error as ServiceError);
        }
      }
      return { events: events(), stop: () => call.cancel() };
    },
    close: () => client.close(),
  };
}

/**
 * A test server with its HTTP port, and a client of each transport, started
 * before the tests of the suite (or file) this is called in and stopped after.
 */
export function onEveryTransport(): {
  readonly server: RunningChatServer;
  readonly clients: readonly AnyClient[];
} {
  let server: RunningChatServer | undefined;
  let clients: AnyClient[] = [];
  before(async () => {
    server = await startTestServer({ httpPort: 0 });
    clients = clientsFor(server);
  });
  after(async () => {
    for (const client of clients) client.close();
    await server?.stop();
  });
  return {
    get server() {
      assert.ok(server, "the server starts in before()");
      return server;
    },
    get clients() {
      return clients;
    },
  };
}

/** The same service three ways: native gRPC, Connect and gRPC-Web. */
export function clientsFor(server: { address: string; httpUrl: string | undefined }): AnyClient[] {
  const base = (server.httpUrl ?? "").replace(/\/$/, "");
  return [
    nativeClient(server.address),
    connectClient("Connect", base, false),
    connectClient("gRPC-Web", base, true),
  ];
}
