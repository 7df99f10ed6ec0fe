import { readFileSync } from "node:fs";
import { setLogger } from "@grpc/grpc-js";
import { type Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import { DEFAULT_LIMITS, type Limits } from "../core/limits.ts";
import { DEFAULT_DELIVERY } from "../core/room-cursor.ts";
import type { AuthMode } from "../core/users.ts";
import {
  DEFAULT_DB,
  DEFAULT_PORT,
  type RunningChatServer,
  startChatServer,
} from "../server/chat-server.ts";
import { ROOM_CHARS_CEILING } from "../wire/grpc-service.ts";
import { parseAge, wholeNumber } from "./parse.ts";

interface ServerFlags {
  host: string;
  port: number;
  httpPort: number;
  httpAllowOrigin: string[];
  shutdownDelay: number;
  db: string;
  logLevel: string;
  maxMessageBytes: number;
  maxRooms: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  readerTimeout: number;
  presenceMaxRoom: number;
  historyMaxAge: number;
  historyMaxPerRoom: number;
  durability: "full" | "normal";
  auth: AuthMode;
  tlsCert?: string;
  tlsKey?: string;
  tokenTtl: number;
  sendRate: number;
  sendBurst: number;
  maxSessionsPerUser: number;
  maxConnectionsPerIp: number;
  authAttemptsPerMinute: number;
  maxNameChars: number;
  maxRoomChars: number;
  maxHistory: number;
}

async function runServer(flags: ServerFlags): Promise<void> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    process.stderr.write("grpc-chat: TLS needs both --tls-cert and --tls-key.\n");
    process.exit(2);
  }
  const logger = pino({ level: flags.logLevel }, pino.destination(2));
  // grpc-js logs to stderr in its own format; route it through ours.
  setLogger({ error: (...args: unknown[]) => logger.debug({ source: "grpc-js" }, args.join(" ")) });
  let server: RunningChatServer;
  try {
    server = await startChatServer({
      host: flags.host,
      port: flags.port,
      httpPort: flags.httpPort,
      httpAllowOrigins: flags.httpAllowOrigin,
      shutdownDelayMs: flags.shutdownDelay,
      db: flags.db,
      logger,
      limits: {
        maxMessageBytes: flags.maxMessageBytes,
        maxRooms: flags.maxRooms,
        sendRate: flags.sendRate,
        sendBurst: flags.sendBurst,
        maxSessionsPerUser: flags.maxSessionsPerUser,
        maxConnectionsPerIp: flags.maxConnectionsPerIp,
        authAttemptsPerMinute: flags.authAttemptsPerMinute,
        maxNameChars: flags.maxNameChars,
        maxRoomChars: flags.maxRoomChars,
        maxHistory: flags.maxHistory,
      },
      auth: flags.auth,
      tokenTtlMs: flags.tokenTtl,
      ...(flags.tlsCert && flags.tlsKey
        ? { tls: { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) } }
        : {}),
      delivery: {
        maxQueuedMessages: flags.maxQueuedMessages,
        maxQueuedBytes: flags.maxQueuedBytes,
      },
      readerTimeoutMs: flags.readerTimeout * 1000,
      presenceMaxRoom: flags.presenceMaxRoom,
      retention: { maxAgeMs: flags.historyMaxAge, maxPerRoom: flags.historyMaxPerRoom },
      durability: flags.durability,
    });
  } catch (error) {
    const reason = /EADDRINUSE/.test(String(error))
      ? "a port is in use (is another server running? choose others with --port and --http-port)"
      : (error as Error).message;
    process.stderr.write(
      `grpc-chat: cannot start on ${flags.host}:${flags.port} (HTTP ${flags.httpPort}): ${reason}\n`,
    );
    process.exit(1);
  }
  const { host, port, db, httpUrl } = server;
  logger.info({ host, port, httpUrl, db }, "server started");
  process.stdout.write(
    `grpc-chat server listening on ${host}:${port}${flags.tlsCert ? " (TLS)" : ""}, ` +
      `history in ${db}, auth ${flags.auth}; ` +
      `connect with: npm run client -- --server ${server.address}${flags.tlsCert ? " --tls" : ""}\n` +
      `web client, HTTP API, /metrics and /healthz at ${httpUrl}\n`,
  );
  const stop = (signal: string) => {
    logger.info({ signal }, "shutting down");
    // stop() ends within the delay and its grace period; this timer only guards the promise to exit.
    setTimeout(() => process.exit(0), flags.shutdownDelay + 4_500).unref();
    void server.stop(3_000).then(() => {
      logger.info("stopped");
      logger.flush();
      process.exit(0);
    });
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

export function addServerCommand(program: Command): void {
  program
    .command("server")
    .description("Run the chat server (history in SQLite; no other service needed).")
    .addOption(
      new Option("--host <host>", "interface to listen on")
        .env("GRPC_CHAT_HOST")
        .default("0.0.0.0"),
    )
    .addOption(
      new Option("--port <port>", "port for native gRPC (0: any free port)")
        .env("GRPC_CHAT_PORT")
        .default(DEFAULT_PORT)
        .argParser(wholeNumber(0, 65535)),
    )
    .addOption(
      new Option(
        "--http-port <port>",
        "port for browsers and operators: the web client, the API over Connect and gRPC-Web, /metrics, /healthz, /readyz (0: any free port)",
      )
        .env("GRPC_CHAT_HTTP_PORT")
        .default(8080)
        .argParser(wholeNumber(0, 65535)),
    )
    .addOption(
      new Option(
        "--http-allow-origin <origins>",
        "other origins whose pages may call the HTTP API, comma-separated (https://chat.example.com), or * for any; the page this server serves needs none",
      )
        .env("GRPC_CHAT_HTTP_ALLOW_ORIGIN")
        .default([], "none")
        .argParser(origins),
    )
    .addOption(
      new Option(
        "--shutdown-delay <age>",
        "on SIGTERM, report not ready (/readyz, gRPC health) and keep serving this long before ending streams, so a load balancer moves new clients first",
      )
        .env("GRPC_CHAT_SHUTDOWN_DELAY")
        .default(0, "0")
        .argParser(parseAge),
    )
    .addOption(
      new Option("--db <path>", 'SQLite file for history (directory is created), or ":memory:"')
        .env("GRPC_CHAT_DB")
        .default(DEFAULT_DB),
    )
    .addOption(
      new Option("--log-level <level>", "log level (logs go to stderr as JSON)")
        .env("GRPC_CHAT_LOG_LEVEL")
        .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
        .default("info"),
    )
    .addOption(
      limit(
        "--max-message-bytes <n>",
        "longest message text, in UTF-8 bytes",
        "maxMessageBytes",
        1_000_000,
        1,
      ),
    )
    .addOption(
      limit("--max-rooms <n>", "most rooms one session may be in at once", "maxRooms", 100_000, 1),
    )
    .addOption(
      new Option(
        "--max-queued-messages <n>",
        "messages queued for a reader that is behind; past it, it is fed from history instead",
      )
        .env("GRPC_CHAT_MAX_QUEUED_MESSAGES")
        .default(DEFAULT_DELIVERY.maxQueuedMessages)
        .argParser(wholeNumber(1, 1_000_000)),
    )
    .addOption(
      new Option("--max-queued-bytes <n>", "the same bound in bytes")
        .env("GRPC_CHAT_MAX_QUEUED_BYTES")
        .default(DEFAULT_DELIVERY.maxQueuedBytes)
        .argParser(wholeNumber(1024, 1 << 30)),
    )
    .addOption(
      new Option(
        "--reader-timeout <seconds>",
        "end a stream whose reader takes nothing for this long",
      )
        .env("GRPC_CHAT_READER_TIMEOUT")
        .default(60)
        .argParser(wholeNumber(1, 86_400)),
    )
    .addOption(
      new Option(
        "--presence-max-room <n>",
        "rooms with more users online get no join/leave events (use ListMembers)",
      )
        .env("GRPC_CHAT_PRESENCE_MAX_ROOM")
        .default(200)
        .argParser(wholeNumber(0, 10_000_000)),
    )
    .addOption(
      new Option(
        "--history-max-age <age>",
        'remove messages older than this ("unlimited" keeps all)',
      )
        .env("GRPC_CHAT_HISTORY_MAX_AGE")
        .default(365 * 86_400_000, "365d")
        .argParser(parseAge),
    )
    .addOption(
      new Option("--history-max-per-room <n>", "keep at most this many messages per room (0: all)")
        .env("GRPC_CHAT_HISTORY_MAX_PER_ROOM")
        .default(1_000_000)
        .argParser(wholeNumber(0, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      new Option(
        "--durability <level>",
        "full: an acknowledged message survives power loss; normal: it survives a crash of the server",
      )
        .env("GRPC_CHAT_DURABILITY")
        .choices(["full", "normal"])
        .default("full"),
    )
    .addOption(
      new Option("--auth <mode>", "open: guests chat under a free name; required: accounts only")
        .env("GRPC_CHAT_AUTH")
        .choices(["open", "required"])
        .default("open"),
    )
    .addOption(
      new Option("--tls-cert <file>", "PEM certificate chain: serve TLS (with --tls-key)").env(
        "GRPC_CHAT_TLS_CERT",
      ),
    )
    .addOption(
      new Option("--tls-key <file>", "PEM private key of --tls-cert").env("GRPC_CHAT_TLS_KEY"),
    )
    .addOption(
      new Option("--token-ttl <age>", "how long a login token lasts")
        .env("GRPC_CHAT_TOKEN_TTL")
        .default(30 * 86_400_000, "30d")
        .argParser((value: string) => {
          const ms = parseAge(value);
          if (ms <= 0)
            throw new InvalidArgumentError('a token must expire: give an age such as "30d"');
          return ms;
        }),
    )
    .addOption(
      limit(
        "--send-rate <n>",
        "messages per second per user, sustained (0: no limit)",
        "sendRate",
        1_000_000,
      ),
    )
    .addOption(
      limit(
        "--send-burst <n>",
        "messages a user may send at once before --send-rate applies",
        "sendBurst",
        1_000_000,
        1,
      ),
    )
    .addOption(
      limit(
        "--max-sessions-per-user <n>",
        "live streams one user may have open (0: no limit)",
        "maxSessionsPerUser",
        1_000_000,
      ),
    )
    .addOption(
      limit(
        "--max-connections-per-ip <n>",
        "connections with live streams from one address (0: no limit)",
        "maxConnectionsPerIp",
        1_000_000,
      ),
    )
    .addOption(
      limit(
        "--auth-attempts-per-minute <n>",
        "Register, Login and JoinChat calls per address per minute (0: no limit)",
        "authAttemptsPerMinute",
        1_000_000,
      ),
    )
    .addOption(
      limit("--max-name-chars <n>", "longest username, in characters", "maxNameChars", 256, 1),
    )
    .addOption(
      limit("--max-room-chars <n>", "longest room name", "maxRoomChars", ROOM_CHARS_CEILING, 1),
    )
    .addOption(
      limit(
        "--max-history <n>",
        "largest history page a client may ask for",
        "maxHistory",
        100_000,
        1,
      ),
    )
    .action(runServer);
}

/** The server flags that turn every abuse limit off: for benchmarks and load tests from one address. */
export const NO_LIMIT_FLAGS = [
  "--send-rate",
  "0",
  "--max-sessions-per-user",
  "0",
  "--max-connections-per-ip",
  "0",
  "--auth-attempts-per-minute",
  "0",
];

/** `--http-allow-origin`: each an origin as a browser sends it (scheme://host[:port]), or `*`. */
function origins(value: string): string[] {
  const list = value
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  for (const origin of list) {
    if (origin === "*") continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {}
    if (!parsed || parsed.origin !== origin) {
      throw new InvalidArgumentError(
        `"${origin}" is not an origin; write it as the browser sends it, like https://chat.example.com or http://localhost:3000 (no path, no trailing slash).`,
      );
    }
  }
  return list;
}

/** A limit flag: its environment variable and default come from its Limits field. */
function limit(
  flags: string,
  description: string,
  field: keyof Limits,
  max: number,
  min = 0,
): Option {
  const name = /^--([a-z-]+)/.exec(flags)?.[1] ?? field;
  return new Option(flags, description)
    .env(`GRPC_CHAT_${name.toUpperCase().replaceAll("-", "_")}`)
    .default(DEFAULT_LIMITS[field])
    .argParser(wholeNumber(min, max));
}
