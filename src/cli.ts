import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { setLogger, status } from "@grpc/grpc-js";
import { Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import { ChatClientError, createChatClient } from "./client/chat-client.ts";
import { DEFAULT_LIMITS } from "./core/limits.ts";
import { DEFAULT_DELIVERY } from "./core/room-cursor.ts";
import {
  DEFAULT_DB,
  DEFAULT_PORT,
  type RunningChatServer,
  startChatServer,
} from "./server/chat-server.ts";
import { ChatController, type ChatView } from "./tui/chat-controller.ts";
import { runLineMode } from "./tui/line-mode.ts";

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** "30d", "12h", "90m", "45s" as ms; "0" or "unlimited" as 0 (keep everything). */
function parseAge(value: string): number {
  if (value === "0" || value === "unlimited") return 0;
  const match = /^(\d+)(s|m|h|d)$/.exec(value);
  if (!match)
    throw new InvalidArgumentError('expected an age such as "90d", "12h", "30m", or "unlimited"');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    match[2] as "s" | "m" | "h" | "d"
  ];
  return Number(match[1]) * unit;
}

interface ServerFlags {
  host: string;
  port: number;
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
}

async function runServer(flags: ServerFlags): Promise<void> {
  const logger = pino({ level: flags.logLevel }, pino.destination(2));
  // grpc-js logs to stderr in its own format; route it through ours.
  setLogger({ error: (...args: unknown[]) => logger.debug({ source: "grpc-js" }, args.join(" ")) });
  let server: RunningChatServer;
  try {
    server = await startChatServer({
      host: flags.host,
      port: flags.port,
      db: flags.db,
      logger,
      limits: { maxMessageBytes: flags.maxMessageBytes, maxRooms: flags.maxRooms },
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
      ? "the port is in use (is another server running? choose another with --port)"
      : (error as Error).message;
    process.stderr.write(`grpc-chat: cannot start on ${flags.host}:${flags.port}: ${reason}\n`);
    process.exit(1);
  }
  logger.info({ host: server.host, port: server.port, db: server.db }, "server started");
  process.stdout.write(
    `grpc-chat server listening on ${server.host}:${server.port}, history in ${server.db}; ` +
      `connect with: npm run client -- --server ${server.address}\n`,
  );
  const stop = (signal: string) => {
    logger.info({ signal }, "shutting down");
    // stop() ends within its grace period; this timer only guards the promise to exit in 5 s.
    setTimeout(() => process.exit(0), 4_500).unref();
    void server.stop(3_000).then(() => {
      logger.info("stopped");
      logger.flush();
      process.exit(0);
    });
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

const program = new Command("grpc-chat")
  .description("A chat server and terminal client speaking gRPC with real streaming.")
  .showHelpAfterError();

program
  .command("server")
  .description("Run the chat server (history in SQLite; no other service needed).")
  .addOption(
    new Option("--host <host>", "interface to listen on").env("GRPC_CHAT_HOST").default("0.0.0.0"),
  )
  .addOption(
    new Option("--port <port>", "port for native gRPC (0: any free port)")
      .env("GRPC_CHAT_PORT")
      .default(DEFAULT_PORT)
      .argParser(wholeNumber(0, 65535)),
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
    new Option("--max-message-bytes <n>", "longest message text, in UTF-8 bytes")
      .env("GRPC_CHAT_MAX_MESSAGE_BYTES")
      .default(DEFAULT_LIMITS.maxMessageBytes)
      .argParser(wholeNumber(1, 1_000_000)),
  )
  .addOption(
    new Option("--max-rooms <n>", "most rooms one session may be in at once")
      .env("GRPC_CHAT_MAX_ROOMS")
      .default(DEFAULT_LIMITS.maxRooms)
      .argParser(wholeNumber(1, 100_000)),
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
    new Option("--history-max-age <age>", 'remove messages older than this ("unlimited" keeps all)')
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
  .action(runServer);

program
  .command("client")
  .description("Chat from a terminal: full screen on a terminal, one line per message when piped.")
  .addOption(
    new Option("--server <host:port>", "server to connect to")
      .env("GRPC_CHAT_SERVER")
      .default("localhost:50051"),
  )
  .addOption(
    new Option("--name <name>", "your username (asked for when missing)").env("GRPC_CHAT_NAME"),
  )
  .option("--line", "line mode even on a terminal")
  .action(async (options: { server: string; name?: string; line?: boolean }) => {
    // ink draws no live screen when CI is set, so a CI job on a terminal gets lines.
    const fullScreen =
      !options.line && !process.env.CI && process.stdin.isTTY && process.stdout.isTTY;
    const lines = createInterface({ input: process.stdin, terminal: false });
    const input = lines[Symbol.asyncIterator]();
    let name = options.name;
    if (name === undefined) {
      if (fullScreen) process.stdout.write("Enter your username: ");
      name = ((await input.next()).value ?? "").trim();
    }
    const username = name || `User-${randomBytes(3).toString("hex")}`;
    const client = createChatClient({ address: options.server, username });
    const controllerFor = (view: ChatView) => new ChatController(client, view);
    let code: number;
    try {
      if (fullScreen) {
        lines.close();
        const { runFullScreen } = await import("./tui/full-screen.ts");
        code = await runFullScreen({ controllerFor, server: options.server, username });
      } else {
        code = await runLineMode(controllerFor, input, process.stdout);
      }
    } catch (error) {
      const e = ChatClientError.from(error);
      const reason =
        e.code === status.UNAVAILABLE
          ? `cannot reach the server at ${options.server}; is it running?`
          : e.message;
      process.stderr.write(`grpc-chat: ${reason}\n`);
      code = 1;
    }
    process.exit(code);
  });

await program.parseAsync();
