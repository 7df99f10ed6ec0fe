import pino, { type Logger } from "pino";
import type { Bus } from "../bus/bus.ts";
import { createLocalBus } from "../bus/local-bus.ts";
import { type ChatOptions, createChat } from "../core/chat.ts";
import { openSqliteStore, type SqliteStoreOptions } from "../store/sqlite-store.ts";
import type { Store } from "../store/store.ts";
import { ConnectionsPerAddress } from "./connections.ts";
import { createGrpcTransport, type GrpcTransportOptions } from "./grpc.ts";

export interface ChatServerOptions
  extends GrpcTransportOptions,
    Omit<ChatOptions, "store" | "bus" | "logger"> {
  /** Interface to listen on. Default "0.0.0.0" (all). */
  readonly host?: string;
  /** Port for native gRPC; 0 picks a free one. Default 50051. */
  readonly port?: number;
  /** SQLite file for history, or ":memory:". Default "./data/chat.db". Ignored when `store` is given. */
  readonly db?: string;
  /** How durable a commit is; see SqliteStoreOptions. Default "full". */
  readonly durability?: SqliteStoreOptions["durability"];
  readonly store?: Store;
  readonly bus?: Bus;
  readonly logger?: Logger;
}

export interface RunningChatServer {
  readonly host: string;
  readonly port: number;
  /** "host:port" a client on this machine can dial. */
  readonly address: string;
  readonly db: string;
  /**
   * Tells every live stream the server is stopping, ends them with
   * UNAVAILABLE, stops taking calls, closes the store. Resolves within about
   * `graceMs` (default 3,000) whatever clients do.
   */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 50051;
export const DEFAULT_DB = "./data/chat.db";

export async function startChatServer(options: ChatServerOptions = {}): Promise<RunningChatServer> {
  const host = options.host ?? "0.0.0.0";
  const db = options.db ?? DEFAULT_DB;
  const logger = options.logger ?? pino({ level: "silent" });
  const clock = options.clock;
  const store =
    options.store ??
    (await openSqliteStore({
      path: db,
      ...(clock ? { now: () => clock.now() } : {}),
      ...(options.durability ? { durability: options.durability } : {}),
    }));
  const chat = createChat({
    ...options,
    store,
    bus: options.bus ?? createLocalBus(),
    logger,
  });
  const connections = new ConnectionsPerAddress(chat.limits.maxConnectionsPerIp);
  const transport = createGrpcTransport({ chat, logger, connections }, options);
  let port: number;
  try {
    port = await transport.listen(host, options.port ?? DEFAULT_PORT);
  } catch (error) {
    await chat.close();
    throw error;
  }
  const dialHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  let stopping: Promise<void> | undefined;

  return {
    host,
    port,
    address: `${dialHost.includes(":") ? `[${dialHost}]` : dialHost}:${port}`,
    db,
    stop(graceMs = 3_000) {
      stopping ??= (async () => {
        transport.draining();
        chat.shutdown("The server is shutting down.");
        await transport.close(graceMs);
        await chat.close();
      })();
      return stopping;
    },
  };
}
