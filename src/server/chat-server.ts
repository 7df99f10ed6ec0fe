import pino, { type Logger } from "pino";
import type { Bus } from "../bus/bus.ts";
import { createLocalBus } from "../bus/local-bus.ts";
import { createChat } from "../core/chat.ts";
import type { Clock } from "../core/clock.ts";
import type { Limits } from "../core/limits.ts";
import { createSqliteStore } from "../store/sqlite-store.ts";
import type { Store } from "../store/store.ts";
import { createGrpcTransport, type GrpcTransportOptions } from "./grpc.ts";

export interface ChatServerOptions extends GrpcTransportOptions {
  /** Interface to listen on. Default "0.0.0.0" (all). */
  readonly host?: string;
  /** Port for native gRPC; 0 picks a free one. Default 50051. */
  readonly port?: number;
  /** SQLite file for history, or ":memory:". Default "./data/chat.db". Ignored when `store` is given. */
  readonly db?: string;
  readonly store?: Store;
  readonly bus?: Bus;
  readonly clock?: Clock;
  readonly limits?: Partial<Limits>;
  /** Items held for a slow reader before its stream is cut off. Default 1024. */
  readonly maxQueued?: number;
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
  const chat = createChat({
    store:
      options.store ??
      createSqliteStore({ path: db, ...(options.clock ? { clock: options.clock } : {}) }),
    bus: options.bus ?? createLocalBus(),
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const transport = createGrpcTransport(
    { chat, logger, maxQueued: options.maxQueued ?? 1024 },
    options,
  );
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
