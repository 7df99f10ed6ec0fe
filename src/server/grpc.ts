import { fileURLToPath } from "node:url";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";
import { ChatService } from "../gen/chat_pb.js";
import { chatServiceDefinition } from "../wire/grpc-service.ts";
import { withCallers } from "./auth.ts";
import { chatRpcs } from "./chat-rpcs.ts";
import type { HandlerContext } from "./context.ts";
import { seedService } from "./seed-service.ts";
import { sessionService } from "./session-service.ts";
import { grpcUnaries } from "./unary.ts";
import { tolerantRequests } from "./undecodable.ts";

const CHAT_PROTO = fileURLToPath(new URL("../../proto/chat.proto", import.meta.url));
const SERVICE_NAME = "chat.ChatService";

export interface GrpcTransportOptions {
  /**
   * How often the server pings an idle connection, in ms; a peer that does
   * not answer within `keepaliveTimeoutMs` is dropped and its streams end
   * (and its leaves are announced). Defaults 30,000 and 10,000.
   */
  readonly keepaliveMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** Serve TLS with this PEM certificate chain and key; plaintext without. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

/** The native gRPC transport: the chat service, health and reflection on one grpc-js server. */
export interface GrpcTransport {
  /** Binds and starts serving; resolves to the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Marks the service NOT_SERVING for health probes. */
  draining(): void;
  /** Waits up to `graceMs` for calls to finish, then cancels the rest. */
  close(graceMs: number): Promise<void>;
}

export function createGrpcTransport(
  context: HandlerContext,
  options: GrpcTransportOptions = {},
): GrpcTransport {
  const server = new Server({
    "grpc.keepalive_time_ms": options.keepaliveMs ?? 30_000,
    "grpc.keepalive_timeout_ms": options.keepaliveTimeoutMs ?? 10_000,
    "grpc.keepalive_permit_without_calls": 1,
    // Chat clients keep a stream open and ping it; let them, within reason.
    "grpc.http2.min_ping_interval_without_data_ms": 5_000,
  });
  server.addService(
    tolerantRequests(chatServiceDefinition, ChatService),
    withCallers(context.chat, context.logger, {
      ...seedService(context),
      ...sessionService(context),
      ...grpcUnaries(context.logger, chatRpcs(context)),
    }),
  );

  const health = new HealthImplementation({ "": "SERVING", [SERVICE_NAME]: "SERVING" });
  health.addToServer(server);
  new ReflectionService(loadSync([CHAT_PROTO, healthProtoPath])).addToServer(server);

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(
          `${host.includes(":") ? `[${host}]` : host}:${port}`,
          options.tls
            ? ServerCredentials.createSsl(
                null,
                [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
                false,
              )
            : ServerCredentials.createInsecure(),
          (error, bound) => (error ? reject(error) : resolve(bound)),
        );
      });
    },
    draining() {
      health.setStatus("", "NOT_SERVING");
      health.setStatus(SERVICE_NAME, "NOT_SERVING");
    },
    close(graceMs) {
      return new Promise((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
