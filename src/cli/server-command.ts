import { readFileSync } from "node:fs";
import { setLogger } from "@grpc/grpc-js";
import type { Command } from "commander";
import pino, { type Logger } from "pino";
import { type RunningChatServer, startChatServer } from "../server/chat-server.ts";
import { type ServerFlags, serverOptions } from "./server-options.ts";

export { NO_LIMIT_FLAGS } from "./server-options.ts";

/**
 * Logs for whoever reads stderr: on a terminal that is a person, beside the
 * start-up lines on stdout, so lines for a person (pino-pretty, as a pino
 * transport: a worker thread, flushed at exit); anywhere else a machine
 * (a file, journald, a collector), so JSON lines.
 */
function stderrLogger(level: string): Logger {
  if (!process.stderr.isTTY) return pino({ level }, pino.destination(2));
  return pino(
    { level },
    pino.transport({
      target: "pino-pretty",
      options: { destination: 2, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" },
    }),
  );
}

async function runServer(flags: ServerFlags): Promise<void> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    process.stderr.write("grpc-chat: TLS needs both --tls-cert and --tls-key.\n");
    process.exit(2);
  }
  const logger = stderrLogger(flags.logLevel);
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
      ...(flags.bus ? { busUrl: flags.bus } : {}),
      logger,
      limits: {
        maxMessageBytes: flags.maxMessageBytes,
        maxRooms: flags.maxRooms,
        sendRate: flags.sendRate,
        sendBurst: flags.sendBurst,
        maxSessionsPerUser: flags.maxSessionsPerUser,
        maxConnectionsPerIp: flags.maxConnectionsPerIp,
        authAttemptsPerMinute: flags.authAttemptsPerMinute,
        guestSendsPerAddress: flags.guestSendsPerAddress,
        guestNamesPerMinute: flags.guestNamesPerMinute,
        searchesPerMinute: flags.searchesPerMinute,
        webhookPostsPerMinute: flags.webhookPostsPerMinute,
        maxNameChars: flags.maxNameChars,
        maxRoomChars: flags.maxRoomChars,
        maxHistory: flags.maxHistory,
        editWindowMs: flags.editWindow,
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
      joinLines: flags.joinLines,
      admins: flags.admin,
      retention: { maxAgeMs: flags.historyMaxAge, maxPerRoom: flags.historyMaxPerRoom },
      durability: flags.durability,
      searchLanguage: flags.searchLanguage,
      ...(flags.smtpUrl ? { smtpUrl: flags.smtpUrl } : {}),
      emailFrom: flags.emailFrom,
      emailDelayMs: flags.emailDelay,
      ...(flags.publicUrl ? { publicUrl: flags.publicUrl } : {}),
      outgoingHooksPrivate: flags.outgoingHooksPrivate,
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
  // Before the start-up line: whoever reads it may signal at once, and an
  // unhandled SIGTERM would kill the process without a clean stop.
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
  const { host, port, db, httpUrl } = server;
  logger.info({ host, port, httpUrl, db }, "server started");
  process.stdout.write(
    `grpc-chat server listening on ${host}:${port}${flags.tlsCert ? " (TLS)" : ""}, ` +
      `history in ${db}, auth ${flags.auth}; ` +
      `connect with: npm run client -- --server ${server.address}${flags.tlsCert ? " --tls" : ""}\n` +
      `web client, HTTP API, /metrics and /healthz at ${httpUrl}\n`,
  );
}

export function addServerCommand(program: Command): void {
  const command = program
    .command("server")
    .description("Run the chat server (history in SQLite; no other service needed).");
  for (const option of serverOptions()) command.addOption(option);
  command.action(runServer);
}
