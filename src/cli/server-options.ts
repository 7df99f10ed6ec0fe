import { InvalidArgumentError, Option } from "commander";
import type { AuthMode } from "../core/caller.ts";
import { DEFAULT_LIMITS, type Limits } from "../core/limits.ts";
import { DEFAULT_DELIVERY } from "../core/room-cursor.ts";
import {
  DEFAULT_DB,
  DEFAULT_EMAIL_DELAY_MS,
  DEFAULT_EMAIL_FROM,
  DEFAULT_PORT,
} from "../server/chat-server.ts";
import { ROOM_CHARS_CEILING } from "../wire/grpc-service.ts";
import { parseAge, wholeNumber } from "./parse.ts";

/** What `grpc-chat server` is told, after commander has parsed and checked it. */
export interface ServerFlags {
  host: string;
  port: number;
  httpPort: number;
  httpAllowOrigin: string[];
  shutdownDelay: number;
  db: string;
  bus?: string;
  logLevel: string;
  maxMessageBytes: number;
  maxRooms: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  readerTimeout: number;
  presenceMaxRoom: number;
  joinLines: boolean;
  admin: string[];
  editWindow: number;
  historyMaxAge: number;
  historyMaxPerRoom: number;
  durability: "full" | "normal";
  searchLanguage: string;
  auth: AuthMode;
  tlsCert?: string;
  tlsKey?: string;
  smtpUrl?: string;
  emailFrom: string;
  emailDelay: number;
  publicUrl?: string;
  outgoingHooksPrivate: boolean;
  tokenTtl: number;
  sendRate: number;
  sendBurst: number;
  maxSessionsPerUser: number;
  maxConnectionsPerIp: number;
  authAttemptsPerMinute: number;
  guestSendsPerAddress: number;
  guestNamesPerMinute: number;
  searchesPerMinute: number;
  webhookPostsPerMinute: number;
  maxNameChars: number;
  maxRoomChars: number;
  maxHistory: number;
}

/** Every flag of `grpc-chat server`, each with its environment variable and default. */
export function serverOptions(): Option[] {
  return [
    new Option("--host <host>", "interface to listen on").env("GRPC_CHAT_HOST").default("0.0.0.0"),
    new Option("--port <port>", "port for native gRPC (0: any free port)")
      .env("GRPC_CHAT_PORT")
      .default(DEFAULT_PORT)
      .argParser(wholeNumber(0, 65535)),
    new Option(
      "--http-port <port>",
      "port for browsers and operators: the web client, the API over Connect and gRPC-Web, /metrics, /healthz, /readyz (0: any free port)",
    )
      .env("GRPC_CHAT_HTTP_PORT")
      .default(8080)
      .argParser(wholeNumber(0, 65535)),
    new Option(
      "--http-allow-origin <origins>",
      "other origins whose pages may call the HTTP API, comma-separated (https://chat.example.com), or * for any; the page this server serves needs none",
    )
      .env("GRPC_CHAT_HTTP_ALLOW_ORIGIN")
      .default([], "none")
      .argParser(origins),
    new Option(
      "--shutdown-delay <age>",
      "on SIGTERM, report not ready (/readyz, gRPC health) and keep serving this long before ending streams, so a load balancer moves new clients first",
    )
      .env("GRPC_CHAT_SHUTDOWN_DELAY")
      .default(0, "0")
      .argParser(parseAge),
    new Option(
      "--db <path|url>",
      'SQLite file for history (directory is created), or ":memory:"; or postgres://user@host:port/database (with --bus) for several nodes',
    )
      .env("GRPC_CHAT_DB")
      .default(DEFAULT_DB),
    new Option(
      "--bus <url>",
      "redis://host:port: how nodes sharing a PostgreSQL --db hear each other (none: one process)",
    ).env("GRPC_CHAT_BUS"),
    new Option(
      "--log-level <level>",
      "log level (logs go to stderr: readable lines on a terminal, JSON otherwise)",
    )
      .env("GRPC_CHAT_LOG_LEVEL")
      .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    limit(
      "--max-message-bytes <n>",
      "longest message text, in UTF-8 bytes",
      "maxMessageBytes",
      1_000_000,
      1,
    ),
    limit("--max-rooms <n>", "most rooms one session may be in at once", "maxRooms", 100_000, 1),
    new Option(
      "--max-queued-messages <n>",
      "messages queued for a reader that is behind; past it, it is fed from history instead",
    )
      .env("GRPC_CHAT_MAX_QUEUED_MESSAGES")
      .default(DEFAULT_DELIVERY.maxQueuedMessages)
      .argParser(wholeNumber(1, 1_000_000)),
    new Option("--max-queued-bytes <n>", "the same bound in bytes")
      .env("GRPC_CHAT_MAX_QUEUED_BYTES")
      .default(DEFAULT_DELIVERY.maxQueuedBytes)
      .argParser(wholeNumber(1024, 1 << 30)),
    new Option(
      "--reader-timeout <seconds>",
      "end a stream whose reader takes nothing for this long",
    )
      .env("GRPC_CHAT_READER_TIMEOUT")
      .default(60)
      .argParser(wholeNumber(1, 86_400)),
    new Option(
      "--presence-max-room <n>",
      "rooms with more users online get no join/leave events (use ListMembers)",
    )
      .env("GRPC_CHAT_PRESENCE_MAX_ROOM")
      .default(200)
      .argParser(wholeNumber(0, 10_000_000)),
    new Option(
      "--join-lines <on|off>",
      "store joins and leaves as lines of the room's history (rooms within --presence-max-room)",
    )
      .env("GRPC_CHAT_JOIN_LINES")
      .choices(["on", "off"])
      .default(true, "on")
      .argParser((value) => value === "on"),
    new Option(
      "--admin <names>",
      "accounts that are server admins, comma-separated: they own lobby and every room without an owner, and may moderate anywhere (they register or log in as usual)",
    )
      .env("GRPC_CHAT_ADMIN")
      .default([], "none")
      .argParser((value: string) =>
        value
          .split(",")
          .map((name) => name.trim())
          .filter((name) => name !== ""),
      ),
    new Option(
      "--edit-window <age>",
      'how long after sending a message its author may edit it ("unlimited": always)',
    )
      .env("GRPC_CHAT_EDIT_WINDOW")
      .default(0, "unlimited")
      .argParser(parseAge),
    new Option("--history-max-age <age>", 'remove messages older than this ("unlimited" keeps all)')
      .env("GRPC_CHAT_HISTORY_MAX_AGE")
      .default(365 * 86_400_000, "365d")
      .argParser(parseAge),
    new Option("--history-max-per-room <n>", "keep at most this many messages per room (0: all)")
      .env("GRPC_CHAT_HISTORY_MAX_PER_ROOM")
      .default(1_000_000)
      .argParser(wholeNumber(0, Number.MAX_SAFE_INTEGER)),
    new Option(
      "--durability <level>",
      "full: an acknowledged message survives power loss; normal: it survives a crash of the server",
    )
      .env("GRPC_CHAT_DURABILITY")
      .choices(["full", "normal"])
      .default("full"),
    new Option(
      "--search-language <name>",
      "PostgreSQL only: the text search configuration of the word index (simple: no stemming; english, french, ...)",
    )
      .env("GRPC_CHAT_SEARCH_LANGUAGE")
      .default("simple"),
    new Option("--auth <mode>", "open: guests chat under a free name; required: accounts only")
      .env("GRPC_CHAT_AUTH")
      .choices(["open", "required"])
      .default("open"),
    new Option("--tls-cert <file>", "PEM certificate chain: serve TLS (with --tls-key)").env(
      "GRPC_CHAT_TLS_CERT",
    ),
    new Option("--tls-key <file>", "PEM private key of --tls-cert").env("GRPC_CHAT_TLS_KEY"),
    new Option(
      "--smtp-url <url>",
      "smtp://user:pass@host:port (or smtps://): email mentions and DMs left unread to accounts that gave an address",
    ).env("GRPC_CHAT_SMTP_URL"),
    new Option("--email-from <address>", "the From: of those emails")
      .env("GRPC_CHAT_EMAIL_FROM")
      .default(DEFAULT_EMAIL_FROM),
    new Option("--email-delay <age>", "how long a mention or DM waits unread before it is emailed")
      .env("GRPC_CHAT_EMAIL_DELAY")
      .default(DEFAULT_EMAIL_DELAY_MS, "10m")
      .argParser(parseAge),
    new Option(
      "--outgoing-hooks-private <on|off>",
      "let bots' outgoing hooks POST to this machine and private networks (loopback, 10/8, 192.168/16, ...): for local tools",
    )
      .env("GRPC_CHAT_OUTGOING_HOOKS_PRIVATE")
      .choices(["on", "off"])
      .default(false, "off")
      .argParser((value) => value === "on"),
    new Option(
      "--public-url <url>",
      "the HTTP port's address as people reach it, for links in emails (default: its local address)",
    ).env("GRPC_CHAT_PUBLIC_URL"),
    new Option("--token-ttl <age>", "how long a login token lasts")
      .env("GRPC_CHAT_TOKEN_TTL")
      .default(30 * 86_400_000, "30d")
      .argParser((value: string) => {
        const ms = parseAge(value);
        if (ms <= 0)
          throw new InvalidArgumentError('a token must expire: give an age such as "30d"');
        return ms;
      }),
    limit(
      "--send-rate <n>",
      "messages per second per user, sustained (0: no limit)",
      "sendRate",
      1_000_000,
    ),
    limit(
      "--send-burst <n>",
      "messages a user may send at once before --send-rate applies",
      "sendBurst",
      1_000_000,
      1,
    ),
    limit(
      "--max-sessions-per-user <n>",
      "live streams one user may have open (0: no limit)",
      "maxSessionsPerUser",
      1_000_000,
    ),
    limit(
      "--max-connections-per-ip <n>",
      "connections with live streams from one address (0: no limit)",
      "maxConnectionsPerIp",
      1_000_000,
    ),
    limit(
      "--auth-attempts-per-minute <n>",
      "Register, Login and JoinChat calls per address per minute (0: no limit)",
      "authAttemptsPerMinute",
      1_000_000,
    ),
    limit(
      "--guest-sends-per-address <n>",
      "messages per second from all guests at one address together (0: no limit)",
      "guestSendsPerAddress",
      1_000_000,
    ),
    limit(
      "--guest-names-per-minute <n>",
      "new guest names one address may take per minute (0: no limit)",
      "guestNamesPerMinute",
      1_000_000,
    ),
    limit(
      "--searches-per-minute <n>",
      "searches one user may run per minute, up to 20 at once (0: no limit)",
      "searchesPerMinute",
      1_000_000,
    ),
    limit(
      "--webhook-posts-per-minute <n>",
      "posts each incoming webhook may make per minute, a third of that at once (0: no limit)",
      "webhookPostsPerMinute",
      1_000_000,
    ),
    limit("--max-name-chars <n>", "longest username, in characters", "maxNameChars", 256, 1),
    limit("--max-room-chars <n>", "longest room name", "maxRoomChars", ROOM_CHARS_CEILING, 1),
    limit(
      "--max-history <n>",
      "largest history page a client may ask for",
      "maxHistory",
      100_000,
      1,
    ),
  ];
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
  "--guest-sends-per-address",
  "0",
  "--guest-names-per-minute",
  "0",
  "--searches-per-minute",
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
