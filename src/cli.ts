import { Command } from "commander";
import { addAdminCommand } from "./cli/admin-command.ts";
import { addClientCommand } from "./cli/client-command.ts";
import { addResetPasswordCommand } from "./cli/reset-password-command.ts";
import { addServerCommand } from "./cli/server-command.ts";

const program = new Command("grpc-chat")
  .description("A chat server and terminal client speaking gRPC with real streaming.")
  .showHelpAfterError();
addServerCommand(program);
addClientCommand(program);
addAdminCommand(program);
addResetPasswordCommand(program);
await program.parseAsync();
