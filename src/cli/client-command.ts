import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { type Command, Option } from "commander";
import { ChatClientError, createChatClient } from "../client/chat-client.ts";
import { ChatController, type ChatView } from "../tui/chat-controller.ts";
import { runLineMode } from "../tui/line-mode.ts";
import { lineInput } from "./line-input.ts";
import { readToken, saveToken } from "./token-file.ts";

interface ClientFlags {
  server: string;
  name?: string;
  line?: boolean;
  room?: string;
  token?: string;
  tls?: boolean;
  ca?: string;
}

export function addClientCommand(program: Command): void {
  program
    .command("client")
    .description(
      "Chat from a terminal: full screen on a terminal, one line per message when piped.",
    )
    .addOption(
      new Option("--server <host:port>", "server to connect to")
        .env("GRPC_CHAT_SERVER")
        .default("localhost:50051"),
    )
    .addOption(
      new Option(
        "--name <name>",
        "your username as a guest (asked for when missing, unless logged in)",
      ).env("GRPC_CHAT_NAME"),
    )
    .option("--line", "line mode even on a terminal")
    .addOption(
      new Option(
        "--room <room>",
        "the room to show first (default: the server's default room)",
      ).env("GRPC_CHAT_ROOM"),
    )
    .addOption(
      new Option(
        "--token <token>",
        "log in with this token (else the one saved for this server)",
      ).env("GRPC_CHAT_TOKEN"),
    )
    .option("--tls", "connect with TLS, trusting the system's certificate authorities")
    .addOption(
      new Option(
        "--ca <file>",
        "connect with TLS, trusting this PEM certificate (implies --tls)",
      ).env("GRPC_CHAT_CA"),
    )
    .action(async (options: ClientFlags) => {
      // ink draws no live screen when CI is set, so a CI job on a terminal gets lines.
      const fullScreen =
        !options.line && !process.env.CI && process.stdin.isTTY && process.stdout.isTTY;
      const input = lineInput(process.stdin);
      const token = options.token ?? readToken(options.server);
      let name = options.name;
      // Logged in, the account's name is the one used: nothing to ask.
      if (name === undefined && token === undefined) {
        if (fullScreen) process.stdout.write("Enter your username: ");
        name = ((await input.next()).value ?? "").trim();
      }
      const username = name || `User-${randomBytes(3).toString("hex")}`;
      const tls = options.ca ? { ca: readFileSync(options.ca) } : options.tls === true;
      const client = createChatClient({
        address: options.server,
        username,
        ...(token ? { token } : {}),
        ...(tls ? { tls } : {}),
      });
      const controllerFor = (view: ChatView) =>
        new ChatController(client, view, {
          onToken: (newToken) => saveToken(options.server, newToken),
          ...(options.room === undefined ? {} : { room: options.room.replace(/^#/, "") }),
        });
      let code: number;
      try {
        if (fullScreen) {
          input.close();
          const { runFullScreen } = await import("../tui/full-screen.ts");
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
}
