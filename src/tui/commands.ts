import { BOT_HELP, type BotCommand, parseBotCommand } from "./bot-commands.ts";
import {
  looksLikeInviteCode,
  MODERATION_HELP,
  type ModerationCommand,
  parseModerationCommand,
} from "./moderation-parse.ts";
import { NOTIFY_HELP, type NotifyCommand, parseNotifyCommand } from "./notify-commands.ts";
import { parseSearchCommand, SEARCH_HELP, type SearchCommand } from "./search-commands.ts";
import { parseWebhookCommand, WEBHOOK_HELP, type WebhookCommand } from "./webhook-commands.ts";

/** Which message a command is about: your newest here ("last"), or the number /ids shows. */
export type MessageTarget = "last" | number;

/** What one line typed by the user asks for. */
export type Command =
  | { readonly kind: "edit"; readonly target: MessageTarget; readonly text: string }
  | { readonly kind: "delete"; readonly target: MessageTarget }
  | { readonly kind: "react"; readonly target: MessageTarget; readonly emoji: string }
  | { readonly kind: "reply"; readonly id: number; readonly text: string }
  | { readonly kind: "ids" }
  | { readonly kind: "message"; readonly text: string }
  | { readonly kind: "history"; readonly count: number }
  | { readonly kind: "batch" }
  | { readonly kind: "end" }
  | { readonly kind: "ping" }
  | { readonly kind: "register" | "login"; readonly name: string | undefined }
  | { readonly kind: "logout" }
  /** `code`: the argument looks like an invite code, to be used rather than a room's name. */
  | { readonly kind: "join"; readonly room: string; readonly code?: string }
  | { readonly kind: "leave"; readonly room: string | undefined }
  | { readonly kind: "switch"; readonly name: string }
  | { readonly kind: "rooms" }
  | { readonly kind: "who" }
  | { readonly kind: "topic"; readonly text: string | undefined }
  | { readonly kind: "msg"; readonly name: string; readonly text: string }
  | { readonly kind: "whoami" }
  | { readonly kind: "help" }
  | { readonly kind: "quit" }
  | { readonly kind: "empty" }
  | { readonly kind: "usage"; readonly text: string }
  | ModerationCommand
  | SearchCommand
  | WebhookCommand
  | NotifyCommand
  | BotCommand;

export const DEFAULT_HISTORY = 10;

/** The commands, one line each; `maxHistory` is the server's largest history page. */
export const helpLines = (maxHistory: number): readonly string[] => [
  "Type a message and press Enter to send it to the room shown.",
  "/join #room   enter a room (created if new) and show it; /leave [#room] leaves",
  "/join CODE    enter the room an invite code is for",
  "/msg name text  a direct message: opens a private room with name and sends text",
  "/switch name  show another open room (also Alt+1..9, Ctrl+N / Ctrl+P)",
  "/rooms        the rooms on the server; /who  who is online here",
  "/topic [text] show, or set, the room's topic",
  "/reply N text     answer message N (numbers show with /ids)",
  "/edit [last|N] text  change your message (default: your newest here); Up on an empty line too",
  "/delete [last|N]  delete your message (default: your newest here)",
  "/react [last|N] emoji  add (or take back) a reaction, e.g. 👍 or :tada: (default: the newest)",
  "/ids          show or hide message numbers",
  ...SEARCH_HELP,
  `/history [n]  show the last n messages (default ${DEFAULT_HISTORY}, at most ${maxHistory})`,
  "/batch        collect lines until /end, then send them in one call",
  "/ping         time a round trip to the server",
  "/register [name]  create an account (asks for a password) and log in as it",
  "/login [name]     log in to your account (asks for the password)",
  "/logout       log out (the token is revoked); /whoami says who you are",
  ...MODERATION_HELP,
  ...WEBHOOK_HELP,
  ...NOTIFY_HELP,
  ...BOT_HELP,
  "/help         this list",
  "/quit, exit   leave the chat",
  "Start a message with // to send a line that begins with /.",
];

/** What `line` asks for; `maxHistory` is the server's largest history page. */
export function parseCommand(line: string, maxHistory: number): Command {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  if (trimmed === "exit") return { kind: "quit" };
  if (line.startsWith("//")) return { kind: "message", text: line.slice(1) };
  if (!trimmed.startsWith("/")) return { kind: "message", text: line };

  const [name = "", ...args] = trimmed.split(/\s+/);
  switch (name) {
    case "/history": {
      if (args.length === 0) return { kind: "history", count: DEFAULT_HISTORY };
      const count = Number(args[0]);
      if (args.length > 1 || !Number.isInteger(count) || count < 1 || count > maxHistory) {
        return {
          kind: "usage",
          text: `Usage: /history [n], where n is a whole number from 1 to ${maxHistory}.`,
        };
      }
      return { kind: "history", count };
    }
    case "/batch":
      return args.length === 0
        ? { kind: "batch" }
        : { kind: "usage", text: "Usage: /batch (then lines, then /end)" };
    case "/end":
      return { kind: "end" };
    case "/ping":
      return args.length === 0 ? { kind: "ping" } : { kind: "usage", text: "Usage: /ping" };
    case "/join": {
      const [arg] = args;
      if (args.length !== 1 || !arg)
        return { kind: "usage", text: "Usage: /join #room, or /join CODE" };
      return {
        kind: "join",
        room: roomArg(arg),
        ...(looksLikeInviteCode(arg) ? { code: arg } : {}),
      };
    }
    case "/leave":
    case "/part":
      return args.length <= 1
        ? { kind: "leave", room: args[0] === undefined ? undefined : roomArg(args[0]) }
        : { kind: "usage", text: "Usage: /leave [#room]" };
    case "/switch":
      return args.length === 1 && args[0]
        ? { kind: "switch", name: args[0] }
        : { kind: "usage", text: "Usage: /switch name (a room or @someone)" };
    case "/rooms":
      return { kind: "rooms" };
    case "/who":
    case "/names":
      return { kind: "who" };
    case "/topic": {
      const text = rest(line, 1);
      return { kind: "topic", text: text === "" ? undefined : text };
    }
    case "/msg":
    case "/query": {
      const text = rest(line, 2);
      return args[0] && text !== ""
        ? { kind: "msg", name: args[0].replace(/^@/, ""), text }
        : { kind: "usage", text: "Usage: /msg name text" };
    }
    case "/register":
    case "/login":
      return args.length <= 1
        ? { kind: name === "/login" ? "login" : "register", name: args[0] }
        : { kind: "usage", text: `Usage: ${name} [name]` };
    case "/logout":
      return { kind: "logout" };
    case "/whoami":
      return { kind: "whoami" };
    case "/edit":
    case "/delete":
    case "/react":
    case "/reply":
      return parseMessageCommand(name, line);
    case "/ids":
      return { kind: "ids" };
    case "/help":
      return { kind: "help" };
    case "/quit":
    case "/exit":
      return { kind: "quit" };
    default:
      return (
        parseSearchCommand(name, line) ??
        parseModerationCommand(name, line) ??
        parseWebhookCommand(name, line) ??
        parseNotifyCommand(name, line) ??
        parseBotCommand(name, line) ?? {
          kind: "usage",
          text: `Unknown command ${name}. Type /help for the list.`,
        }
      );
  }
}

const USAGE: Record<string, string> = {
  "/edit": "Usage: /edit [last|N] new text",
  "/delete": "Usage: /delete [last|N]",
  "/react": "Usage: /react [last|N] emoji (one emoji, or :name:)",
  "/reply": "Usage: /reply N text (N as /ids shows it)",
};

/** "last", "41" or "#41"; undefined for anything else. */
function targetArg(arg: string | undefined): MessageTarget | undefined {
  if (arg === "last") return "last";
  const match = /^#?(\d+)$/.exec(arg ?? "");
  const id = Number(match?.[1]);
  return match && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The commands about one message: its target first when given, else "last". */
function parseMessageCommand(name: string, line: string): Command {
  const usage: Command = { kind: "usage", text: USAGE[name] ?? name };
  const [, first] = line.trim().split(/\s+/);
  const target = targetArg(first);
  const after = rest(line, target === undefined ? 1 : 2);
  switch (name) {
    case "/edit":
      return after === "" ? usage : { kind: "edit", target: target ?? "last", text: after };
    case "/delete":
      return after === "" ? { kind: "delete", target: target ?? "last" } : usage;
    case "/react":
      return after === "" || /\s/.test(after)
        ? usage
        : { kind: "react", target: target ?? "last", emoji: after };
    default:
      return typeof target === "number" && after !== ""
        ? { kind: "reply", id: target, text: after }
        : usage;
  }
}

/** "#general" and "general" both name the room "general". */
function roomArg(arg: string): string {
  return arg.replace(/^#/, "");
}

/** The line after its first `words` words, as typed (inner spacing kept). */
function rest(line: string, words: number): string {
  let remaining = line.trimStart();
  for (let i = 0; i < words; i++) remaining = remaining.replace(/^\S+\s*/, "");
  return remaining.trimEnd();
}
