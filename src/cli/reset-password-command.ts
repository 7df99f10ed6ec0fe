import { create } from "@bufbuild/protobuf";
import { type Command, Option } from "commander";
import { GrpcChannel } from "../client/grpc-channel.ts";
import { type AuthToken, ResetPasswordRequestSchema } from "../gen/chat_pb.js";
import { lineInput } from "./line-input.ts";
import { saveToken } from "./token-file.ts";

/** `grpc-chat reset-password <code>`: a new password with the code an admin gave, read from standard input. */
export function addResetPasswordCommand(program: Command): void {
  program
    .command("reset-password <code>")
    .description(
      "set a new password with a code from an admin (the password is read from standard input)",
    )
    .addOption(
      new Option("--server <host:port>", "the server")
        .env("GRPC_CHAT_SERVER")
        .default("localhost:50051"),
    )
    .action(async (code: string, options: { server: string }) => {
      if (process.stdin.isTTY) process.stdout.write("New password: ");
      const lines = lineInput(process.stdin);
      const password = ((await lines.next()).value ?? "").trim();
      lines.close();
      const channel = new GrpcChannel({ address: options.server, username: "" });
      try {
        const token = await channel.unary<AuthToken>(
          "resetPassword",
          create(ResetPasswordRequestSchema, { code, newPassword: password }),
        );
        saveToken(options.server, token.token);
        process.stdout.write(`Password set; you are logged in as ${token.username}.\n`);
      } catch (error) {
        process.stderr.write(`grpc-chat reset-password: ${(error as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        channel.close();
      }
    });
}
