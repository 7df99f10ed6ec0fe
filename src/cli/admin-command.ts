import { once } from "node:events";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { type Command, Option } from "commander";
import { ChatClientError } from "../client/events.ts";
import { GrpcChannel } from "../client/grpc-channel.ts";
import { nameKey } from "../core/names.ts";
import {
  type AdminListUsersResponse,
  type ListAuditResponse,
  type ListBansResponse,
  type ListRoomsResponse,
  RoomRole,
} from "../gen/chat_pb.js";
import { DEFAULT_DB } from "../server/chat-server.ts";
import { openStore } from "../server/engines.ts";
import { adminRequests, streamInto, uploadLines } from "./admin-calls.ts";
import { parseAge } from "./parse.ts";
import { readToken } from "./token-file.ts";

interface AdminFlags {
  server: string;
  token?: string;
  tls?: boolean;
  ca?: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const when = (ms: bigint | number) =>
  Number(ms) === 0
    ? "until lifted"
    : new Date(Number(ms)).toISOString().slice(0, 16).replace("T", " ");

/** `grpc-chat admin grant NAME`: on the database itself, so a fresh server can get its first admin. */
async function grant(name: string, options: { db: string }, admin: boolean): Promise<void> {
  const store = await openStore(options.db);
  try {
    const account = await store.accountByName(nameKey(name));
    if (!account)
      throw new Error(`No account is called "${name}" in ${options.db}; register it first.`);
    const changed = await store.setAdmin(account.userId, admin);
    say(
      `${account.username} ${admin ? "is" : "is no longer"} a server admin${changed ? "" : " (unchanged)"}.`,
    );
  } finally {
    await store.close();
  }
}

export function addAdminCommand(program: Command): void {
  const admin = program
    .command("admin")
    .description(
      "Administer a server: calls go to a running server with an admin's token; grant works on the database.",
    )
    .addOption(
      new Option("--server <host:port>", "server to administer")
        .env("GRPC_CHAT_SERVER")
        .default("localhost:50051"),
    )
    .addOption(
      new Option(
        "--token <token>",
        "an admin's token (else the one the client saved for this server)",
      ).env("GRPC_CHAT_TOKEN"),
    )
    .option("--tls", "connect with TLS")
    .addOption(
      new Option("--ca <file>", "trust this PEM certificate (implies --tls)").env("GRPC_CHAT_CA"),
    );

  const channel = (): GrpcChannel => {
    const flags = admin.opts<AdminFlags>();
    const token = flags.token ?? readToken(flags.server);
    if (!token)
      throw new Error("No token: log in with `npm run client` as an admin first, or pass --token.");
    const tls = flags.ca ? { ca: readFileSync(flags.ca) } : flags.tls === true;
    return new GrpcChannel({ address: flags.server, username: "", token, ...(tls ? { tls } : {}) });
  };
  /** Runs one call on a channel of its own, printing a refusal's sentence and exiting 1. */
  const run =
    <A extends unknown[]>(work: (channel: GrpcChannel, ...args: A) => Promise<void>) =>
    async (...args: A) => {
      const open = channel();
      try {
        await work(open, ...args);
      } catch (error) {
        process.stderr.write(
          `grpc-chat admin: ${error instanceof ChatClientError || error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exitCode = 1;
      } finally {
        open.close();
      }
    };
  const call = adminRequests;

  admin
    .command("grant <name>")
    .description(
      "make an account a server admin, on the database (SQLite: with the server stopped)",
    )
    .addOption(
      new Option("--db <path|url>", "the server's --db").env("GRPC_CHAT_DB").default(DEFAULT_DB),
    )
    .action((name: string, options: { db: string }) => grant(name, options, true));
  admin
    .command("revoke <name>")
    .description("take admin away, on the database")
    .addOption(
      new Option("--db <path|url>", "the server's --db").env("GRPC_CHAT_DB").default(DEFAULT_DB),
    )
    .action((name: string, options: { db: string }) => grant(name, options, false));

  admin
    .command("users")
    .description("list accounts")
    .action(
      run(async (c) => {
        let token = "";
        do {
          const page: AdminListUsersResponse = await c.unary(
            "adminListUsers",
            call.listUsers(token),
          );
          for (const u of page.users) {
            say(
              `${u.user?.username}\t${u.user?.userId}${u.disabled ? "\tdisabled" : ""}${u.admin ? "\tadmin" : ""}`,
            );
          }
          token = page.nextPageToken;
        } while (token !== "");
      }),
    );
  for (const disabled of [true, false]) {
    admin
      .command(`${disabled ? "disable" : "enable"} <name> [reason...]`)
      .description(
        disabled
          ? "disable an account: it cannot log in, its streams end"
          : "enable a disabled account",
      )
      .action(
        run(async (c, name: string, reason: string[] = []) => {
          await c.unary("adminSetDisabled", call.setDisabled(name, disabled, reason.join(" ")));
          say(`${name} is ${disabled ? "disabled" : "enabled"}.`);
        }),
      );
  }
  admin
    .command("reset-password <name>")
    .description("a one-time code to set a new password with")
    .action(
      run(async (c, name: string) => {
        const reset = await c.unary<{ code: string; expiresAtMs: bigint }>(
          "adminResetPassword",
          call.resetPassword(name),
        );
        say(
          `Give ${name} this code (it works once, until ${when(reset.expiresAtMs)} UTC): ${reset.code}`,
        );
        say(
          "They set a new password with: grpc-chat reset-password <code> (npm run cli -- reset-password <code>)",
        );
      }),
    );
  admin
    .command("delete-user <name> [reason...]")
    .description("delete an account (its messages stay)")
    .action(
      run(async (c, name: string, reason: string[] = []) => {
        await c.unary("adminDeleteUser", call.deleteUser(name, reason.join(" ")));
        say(`${name} is deleted.`);
      }),
    );
  admin
    .command("rooms")
    .description("list every room, private ones too")
    .action(
      run(async (c) => {
        let token = "";
        do {
          const page: ListRoomsResponse = await c.unary("listRooms", call.listRooms(token));
          for (const r of page.rooms) {
            say(
              `${r.name}\t${r.lastId} messages${r.inviteOnly ? "\tinvite-only" : ""}${r.readOnly ? "\tread-only" : ""}`,
            );
          }
          token = page.nextPageToken;
        } while (token !== "");
      }),
    );
  admin
    .command("set-owner <room> <name>")
    .description("hand a room to a user")
    .action(
      run(async (c, room: string, name: string) => {
        await c.unary("setRole", call.setRole(room, name, RoomRole.OWNER));
        say(`${name} owns ${room}.`);
      }),
    );
  admin
    .command("delete-room <room> [reason...]")
    .description("delete a room and all it holds")
    .action(
      run(async (c, room: string, reason: string[] = []) => {
        const done = await c.unary<{ removed: bigint }>(
          "adminDeleteRoom",
          call.deleteRoom(room, reason.join(" ")),
        );
        say(`${room} is deleted (${done.removed} messages).`);
      }),
    );
  admin
    .command("purge <room> <name>")
    .description("erase a user's messages in a room")
    .option("--hours <n>", "only those of the last n hours", "0")
    .action(
      run(async (c, room: string, name: string, options: { hours: string }) => {
        const done = await c.unary<{ erased: number }>(
          "adminPurge",
          call.purge(room, name, Number(options.hours)),
        );
        say(`${done.erased} of ${name}'s messages in ${room} erased.`);
      }),
    );
  admin
    .command("bans [room]")
    .description("bans and mutes of a room; without one, address bans")
    .action(
      run(async (c, room = "") => {
        const page: ListBansResponse = await c.unary("listBans", call.listBans(room));
        for (const b of page.bans) {
          const who = b.user ? `${b.user.username} (${b.user.userId})` : b.cidr;
          say(
            `${b.kind === 4 ? "mute" : "ban"}\t${who}\t${when(b.untilMs)}\tby ${b.by?.username}\t${b.reason}`,
          );
        }
      }),
    );
  admin
    .command("unban <room> <name>")
    .description("lift a ban")
    .action(
      run(async (c, room: string, name: string) => {
        await c.unary("unban", call.unban(room, name));
        say(`${name} may come back to ${room}.`);
      }),
    );
  admin
    .command("ban-address <cidr> [reason...]")
    .description("refuse every call from an address range")
    .option("--for <age>", "how long (e.g. 7d); default until lifted", "0")
    .action(
      run(
        async (c, cidr: string, reason: string[] = [], options: { for: string } = { for: "0" }) => {
          await c.unary(
            "banAddress",
            call.banAddress(cidr, parseAge(options.for), reason.join(" ")),
          );
          say(`${cidr} is banned.`);
        },
      ),
    );
  admin
    .command("unban-address <cidr>")
    .description("lift an address ban")
    .action(
      run(async (c, cidr: string) => {
        await c.unary("unbanAddress", call.unbanAddress(cidr));
        say(`${cidr} is no longer banned.`);
      }),
    );
  admin
    .command("audit [room]")
    .description("the audit log, newest first")
    .action(
      run(async (c, room = "") => {
        const page: ListAuditResponse = await c.unary("listAudit", call.listAudit(room));
        for (const e of page.entries) {
          say(
            `${when(e.atMs)}\t${e.actor?.username}\t${e.action}\t${e.room}\t${e.target}\t${e.reason}\t${e.detail}`,
          );
        }
      }),
    );
  admin
    .command("export [room]")
    .description("JSON Lines of one room or all, each message in its current state")
    .option("--out <file>", "write here instead of standard output")
    .action(
      run(async (c, room = "", options: { out?: string } = {}) => {
        const out = options.out ? createWriteStream(options.out) : process.stdout;
        await streamInto(
          c,
          "export",
          call.exportRequest(room),
          out,
          (chunk: { lines: Uint8Array }) => chunk.lines,
        );
        if (options.out) {
          (out as ReturnType<typeof createWriteStream>).end();
          await once(out, "finish");
        }
      }),
    );
  admin
    .command("import <file>")
    .description("load an export into a server where its rooms have no history")
    .action(
      run(async (c, file: string) => {
        const done = await uploadLines(c, file);
        say(`Imported ${done.rooms} rooms, ${done.messages} messages.`);
      }),
    );
  admin
    .command("backup <file>")
    .description("a copy of the SQLite database, taken while the server runs")
    .action(
      run(async (c, file: string) => {
        if (existsSync(file)) throw new Error(`${file} exists; give a new file name.`);
        const out = createWriteStream(file, { flags: "wx" });
        await streamInto(
          c,
          "backup",
          create(call.backupSchema, {}),
          out,
          (chunk: { data: Uint8Array }) => chunk.data,
        );
        out.end();
        await once(out, "finish");
        say(`Backup written to ${file}; to restore, start a server with --db ${file}.`);
      }),
    );
}
