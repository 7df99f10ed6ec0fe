import { createServer, type Server } from "node:http";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { Socket } from "node:net";
import { cors, createContextValues } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, connectNodeAdapter } from "@connectrpc/connect-node";
import { UNSUBSCRIBE_PATH } from "../../core/email-digests.ts";
import { WEBHOOK_PATH_PREFIX } from "../../core/webhooks.ts";
import { RETRY_AFTER_METADATA, USER_ID_METADATA } from "../../wire/grpc-service.ts";
import type { HandlerContext } from "../context.ts";
import type { ChatServiceImpl } from "../service-impl.ts";
import { STATUS } from "../status.ts";
import { connectRoutes, PEER, peerOf } from "./connect-routes.ts";
import { directStreams } from "./direct-streams.ts";
import type { ServerMetrics } from "./metrics.ts";
import { nativeOnlyMethod, refuseNativeOnly } from "./native-only.ts";
import { refuseUndecodable } from "./refuse-undecodable.ts";
import {
  DEFAULT_WEB_ROOT,
  head,
  type Request,
  type Response,
  sendText,
  serveStatic,
} from "./static-files.ts";
import { handleUnsubscribe } from "./unsubscribe-route.ts";
import { handleWebhook } from "./webhook-route.ts";

export interface HttpTransportOptions {
  /** Serve HTTPS (HTTP/2, and HTTP/1.1 for older clients) with this certificate; plain HTTP/1.1 without. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /**
   * Origins (`https://chat.example.com`) whose pages may call the API from
   * another origin, or `*` for any. Default none: only the page this server
   * serves (same origin) can, which needs no CORS at all.
   */
  readonly allowOrigins?: readonly string[];
  /** Where the built web client is. Default: this package's web/dist. */
  readonly webRoot?: string;
}

/** The HTTP port: the chat API for browsers, the web client, metrics and probes. */
export interface HttpTransport {
  listen(host: string, port: number): Promise<number>;
  /** From now on /readyz answers 503. */
  draining(): void;
  /** Stops taking requests; after `graceMs` closes whatever connections are left. */
  close(graceMs: number): Promise<void>;
}

/** The largest request body taken, as on the native port (grpc-js's default). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

// The page needs nothing from anywhere else, and says so.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

const API_PREFIX = "/chat.ChatService/";

/**
 * Why connect-node could not build this request's URL from its host (it
 * throws, which would be a 500): HTTP/1.0 needs no Host header, and a Host
 * header can hold anything.
 */
function badAuthority(request: Request): string | undefined {
  const authority = "authority" in request ? request.authority : request.headers.host;
  if (!authority) return "The request names no host: send a Host header.";
  try {
    new URL(`http://${authority}`);
    return undefined;
  } catch {
    return "The request's Host header is not a host name.";
  }
}

export function createHttpTransport(
  context: HandlerContext,
  service: ChatServiceImpl,
  metrics: ServerMetrics,
  options: HttpTransportOptions = {},
): HttpTransport {
  const { chat } = context;
  const webRoot = options.webRoot ?? DEFAULT_WEB_ROOT;
  const allowOrigins = new Set(options.allowOrigins ?? []);
  const shutdown = new AbortController();
  let draining = false;

  const acceptCompression = [compressionGzip, compressionBrotli];
  const api = connectNodeAdapter({
    routes(router) {
      connectRoutes(context, service, metrics.rpc)(router);
      router.handlers.forEach((handler, i) => {
        router.handlers[i] = refuseUndecodable(handler, {
          readMaxBytes: MAX_REQUEST_BYTES,
          acceptCompression,
        });
      });
    },
    acceptCompression,
    contextValues: (request) => createContextValues().set(PEER, peerOf(request)),
    shutdownSignal: shutdown.signal,
    // gRPC itself is the native port's; here Connect and gRPC-Web, which browsers can speak.
    grpc: false,
    readMaxBytes: MAX_REQUEST_BYTES,
  });

  const directStream = directStreams(context, service, metrics.rpc, MAX_REQUEST_BYTES);

  /** CORS for an allowed other origin; true when the request was a preflight and is answered. */
  const crossOrigin = (request: Request, response: Response): boolean => {
    const origin = request.headers.origin;
    if (typeof origin !== "string" || !(allowOrigins.has(origin) || allowOrigins.has("*"))) {
      if (request.method === "OPTIONS") {
        sendText(response, 403, "This origin may not call the chat API; see --http-allow-origin.");
        return true;
      }
      return false;
    }
    response.setHeader("access-control-allow-origin", origin);
    response.setHeader("vary", "Origin");
    response.setHeader(
      "access-control-expose-headers",
      [...cors.exposedHeaders, RETRY_AFTER_METADATA, `trailer-${RETRY_AFTER_METADATA}`].join(", "),
    );
    if (request.method !== "OPTIONS") return false;
    head(response, 204, {
      "access-control-allow-methods": cors.allowedMethods.join(", "),
      "access-control-allow-headers": [
        ...cors.allowedHeaders,
        "authorization",
        USER_ID_METADATA,
      ].join(", "),
      "access-control-max-age": 7200,
    });
    response.end();
    return true;
  };

  const handle = async (request: Request, response: Response) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    if (options.tls) response.setHeader("strict-transport-security", "max-age=31536000");
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith(API_PREFIX)) {
      if (crossOrigin(request, response)) return;
      const hostless = badAuthority(request);
      if (hostless) return sendText(response, 400, hostless);
      const nativeOnly = nativeOnlyMethod(path);
      if (nativeOnly) {
        metrics.rpc.of(nativeOnly, "http").start()(STATUS.UNIMPLEMENTED);
        return refuseNativeOnly(request, response);
      }
      if (directStream(request, response, path)) return;
      api(request, response);
      return;
    }
    if (path.startsWith(WEBHOOK_PATH_PREFIX)) {
      return handleWebhook(chat, request, response, path.slice(WEBHOOK_PATH_PREFIX.length));
    }
    switch (path) {
      case UNSUBSCRIBE_PATH:
        return handleUnsubscribe(chat, request, response);
      case "/healthz":
        return sendText(response, 200, "ok");
      case "/readyz": {
        const ready = !draining && (await chat.ready());
        // Still ready without the bus: this node serves its own clients, and
        // taking every node out at once would serve nobody.
        const alone =
          "ready, but the bus (Redis) is unreachable: messages from other nodes arrive when it is back";
        return sendText(
          response,
          ready ? 200 : 503,
          ready
            ? chat.busConnected
              ? "ready"
              : alone
            : draining
              ? "not ready: shutting down"
              : "not ready: the store does not answer",
        );
      }
      case "/metrics":
        head(response, 200, { "content-type": metrics.registry.contentType });
        response.end(await metrics.registry.metrics());
        return;
      default:
        return serveStatic(webRoot, request, response, context.logger);
    }
  };

  const onRequest = (request: Request, response: Response) => {
    handle(request, response).catch((error: unknown) => {
      context.logger.error({ err: error, url: request.url }, "an HTTP request failed");
      if (!response.headersSent)
        sendText(response, 500, "The server failed to answer this request.");
      // Cut short: ending it would pass a partial body off as whole.
      else response.destroy();
    });
  };

  const server: Server | Http2SecureServer = options.tls
    ? createSecureServer({ ...options.tls, allowHTTP1: true }, onRequest)
    : createServer(onRequest);
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address();
          resolve(typeof address === "object" && address ? address.port : port);
        });
      });
    },
    draining() {
      draining = true;
    },
    close(graceMs) {
      return new Promise((resolve) => {
        // Streams were ended with UNAVAILABLE by the core; what is still running after the grace is cut.
        const force = setTimeout(() => {
          shutdown.abort();
          for (const socket of sockets) socket.destroy();
        }, graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        if ("closeIdleConnections" in server) server.closeIdleConnections();
      });
    },
  };
}
