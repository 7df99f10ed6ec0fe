import { Command } from "commander";
import { addClientCommand } from "./cli/client-command.ts";
import { addServerCommand } from "./cli/server-command.ts";

const program = new Command("grpc-chat")
  .description("A chat server and terminal client speaking gRPC with real streaming.")
  .showHelpAfterError();
addServerCommand(program);
addClientCommand(program);
await program.parseAsync();
