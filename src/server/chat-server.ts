import pino, { type Logger } from "pino";
import type { Bus } from "../bus/bus.ts";
import { createLocalBus } from "../bus/local-bus.ts";
import { type ChatOptions, createChat } from "../core/chat.ts";
import type { SqliteStoreOptions } from "../store/sqlite-store.ts";
import type { Store } from "../store/store.ts";
import { chatService } from "./chat-service.ts";
import { ConnectionsPerAddress } from "./connections.ts";
import { describeDb, openEngines } from "./engines.ts";
import { FallbackWrites } from "./fallback-writes.ts";
import { createGrpcTransport, type GrpcTransportOptions } from "./grpc.ts";
import { hookPoster } from "./hook-poster.ts";
import { createHttpTransport, type HttpTransport } from "./http/http-server.ts";
import { ServerMetrics } from "./http/metrics.ts";
import { smtpEmail } from "./mailer.ts";
import { NO_RPC_METRICS } from "./rpc-metrics.ts";

export interface ChatServerOptions
  extends GrpcTransportOptions,
    Omit<ChatOptions, "store" | "bus" | "logger"> {
  /** Interface to listen on. Default "0.0.0.0" (all). */
  readonly host?: string;
  /** Port for native gRPC; 0 picks a free one. Default 50051. */
  readonly port?: number;
  /**
   * Port for HTTP: the API over Connect and gRPC-Web, the web client,
   * /metrics, /healthz, /readyz; 0 picks a free one. None when not given
   * (the command line's default is 8080).
   */
  readonly httpPort?: number;
  /** Other origins whose pages may call the API (CORS); `*` for any. Default none. */
  readonly httpAllowOrigins?: readonly string[];
  /** Where the built web client is. Default: this package's web/dist. */
  readonly webRoot?: string;
  /**
   * On stop, how long the server reports not ready (health, /readyz) while
   * it goes on serving, before it ends streams: time for a load balancer to
   * send new clients elsewhere. Default 0.
   */
  readonly shutdownDelayMs?: number;
  /**
   * SQLite file for history, or ":memory:", or postgres://... (with `busUrl`).
   * Default "./data/chat.db". Ignored when `store` is given.
   */
  readonly db?: string;
  /** redis://...: the bus between nodes, with a postgres:// `db`. Ignored when `bus` is given. */
  readonly busUrl?: string;
  /** How durable a commit is; see SqliteStoreOptions. Default "full". */
  readonly durability?: SqliteStoreOptions["durability"];
  /** PostgreSQL's text search configuration for search (default "simple"). */
  readonly searchLanguage?: string;
  readonly store?: Store;
  readonly bus?: Bus;
  readonly logger?: Logger;
  /** smtp://…: mentions and DMs left unread are emailed (--smtp-url). Default: no emails. */
  readonly smtpUrl?: string;
  /** The From: of those emails (--email-from). */
  readonly emailFrom?: string;
  /** How long a mention waits unread before it is emailed (--email-delay). Default 10 minutes. */
  readonly emailDelayMs?: number;
  /** The HTTP port's address as people reach it, for links in emails (--public-url). Default: its local address. */
  readonly publicUrl?: string;
  /** Outgoing hooks may reach loopback and private addresses (--outgoing-hooks-private). Default false. */
  readonly outgoingHooksPrivate?: boolean;
}

export interface RunningChatServer {
  readonly host: string;
  readonly port: number;
  /** "host:port" a client on this machine can dial. */
  readonly address: string;
  /** The HTTP port's base URL a browser on this machine can open, when there is one. */
  readonly httpUrl: string | undefined;
  readonly db: string;
  /**
   * Tells every live stream the server is stopping, ends them with
   * UNAVAILABLE, stops taking calls, closes the store. Resolves within about
   * the shutdown delay plus `graceMs` (default 3,000) whatever clients do.
   */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 50051;
export const DEFAULT_DB = "./data/chat.db";
export const DEFAULT_EMAIL_FROM = "grpc-chat <chat@localhost>";
export const DEFAULT_EMAIL_DELAY_MS = 10 * 60_000;

export async function startChatServer(options: ChatServerOptions = {}): Promise<RunningChatServer> {
  const host = options.host ?? "0.0.0.0";
  const db = options.db ?? DEFAULT_DB;
  const logger = options.logger ?? pino({ level: "silent" });
  const clock = options.clock;
  // Metrics are served on the HTTP port: without one, nothing is collected.
  const metrics = options.httpPort === undefined ? undefined : new ServerMetrics();
  const engines = options.store
    ? { store: options.store, bus: options.bus ?? createLocalBus() }
    : await openEngines({
        db,
        busUrl: options.busUrl,
        logger,
        ...(clock ? { now: () => clock.now() } : {}),
        ...(options.durability ? { durability: options.durability } : {}),
        ...(options.searchLanguage ? { searchLanguage: options.searchLanguage } : {}),
      });
  const store = metrics ? metrics.timeStore(engines.store) : engines.store;
  let publicUrl = options.publicUrl?.replace(/\/+$/, "");
  const email =
    options.smtpUrl === undefined
      ? undefined
      : smtpEmail({
          smtpUrl: options.smtpUrl,
          from: options.emailFrom ?? DEFAULT_EMAIL_FROM,
          delayMs: options.emailDelayMs ?? DEFAULT_EMAIL_DELAY_MS,
          publicUrl: () => publicUrl ?? "",
        });
  const chat = createChat({
    hookPoster: hookPoster(options.outgoingHooksPrivate ?? false),
    ...options,
    ...(email ? { email } : {}),
    store,
    bus: options.bus ?? engines.bus,
    ...("claims" in engines ? { claims: engines.claims } : {}),
    logger,
  });
  // Every call is checked against these from the first one on.
  await chat.started;
  const connections = new ConnectionsPerAddress(chat.limits.maxConnectionsPerIp);
  const fallback = new FallbackWrites(logger);
  metrics?.watch(chat, connections, fallback);
  const context = { chat, logger, connections, publicUrl: () => publicUrl ?? "" };
  const service = chatService(context);
  const transport = createGrpcTransport(
    context,
    service,
    { metrics: metrics?.rpc ?? NO_RPC_METRICS, fallback },
    options,
  );
  let http: HttpTransport | undefined;
  let port: number;
  let httpPort: number | undefined;
  try {
    port = await transport.listen(host, options.port ?? DEFAULT_PORT);
    if (options.httpPort !== undefined && metrics) {
      http = createHttpTransport(context, service, metrics, {
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.httpAllowOrigins ? { allowOrigins: options.httpAllowOrigins } : {}),
        ...(options.webRoot ? { webRoot: options.webRoot } : {}),
      });
      httpPort = await http.listen(host, options.httpPort);
    }
  } catch (error) {
    await transport.close(0);
    await chat.close();
    throw error;
  }
  const dialHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  const hostPart = dialHost.includes(":") ? `[${dialHost}]` : dialHost;
  if (httpPort !== undefined) {
    publicUrl ??= `${options.tls ? "https" : "http"}://${hostPart}:${httpPort}`;
  }
  let stopping: Promise<void> | undefined;

  return {
    host,
    port,
    address: `${hostPart}:${port}`,
    httpUrl:
      httpPort === undefined
        ? undefined
        : `${options.tls ? "https" : "http"}://${hostPart}:${httpPort}/`,
    db: describeDb(db),
    stop(graceMs = 3_000) {
      stopping ??= (async () => {
        transport.draining();
        http?.draining();
        const delayMs = options.shutdownDelayMs ?? 0;
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        chat.shutdown("The server is shutting down.");
        await Promise.all([transport.close(graceMs), http?.close(graceMs)]);
        await chat.close();
        email?.close();
      })();
      return stopping;
    },
  };
}
