import { randomBytes } from "node:crypto";
import { createReadStream, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import type { ExportLine } from "../core/admin.ts";
import { ChatError } from "../core/chat-error.ts";
import { nameKey } from "../core/names.ts";
import {
  AdminDeleteRoomResponseSchema,
  AdminDeleteUserResponseSchema,
  AdminListUsersResponseSchema,
  AdminPurgeResponseSchema,
  AdminResetPasswordResponseSchema,
  AdminUserSchema,
  BackupChunkSchema,
  ExportChunkSchema,
  ImportResponseSchema,
} from "../gen/chat_pb.js";
import { toAuthToken } from "./account-service.ts";
import type { HandlerContext } from "./context.ts";
import { parseExportLine } from "./export-lines.ts";
import { frame } from "./frames.ts";
import type { LiveCall } from "./live-stream.ts";
import { checkPageSize, decodePageToken, encodePageToken } from "./page-token.ts";
import type { ChatServicePart } from "./service-impl.ts";

/** Export lines per chunk: a chunk stays well under the message size limit. */
const LINES_PER_CHUNK = 200;
const BACKUP_CHUNK_BYTES = 256 * 1024;
const MAX_QUEUED_LINES = 5_000;

/** Writes one reply message to a stream's sink (as a frame, as sinks take them), waiting while the transport is full. */
async function write(live: LiveCall, bytes: Uint8Array): Promise<void> {
  if (live.cancelled) throw new ChatError("unavailable", "The client went away.");
  if (!live.sink.write(frame(bytes)))
    await new Promise<void>((resolve) => live.sink.onDrain(resolve));
}

/** The admin RPCs: accounts, whole rooms, export, import, backup; and ResetPassword for anyone with a code. */
export function adminService(
  context: HandlerContext,
): ChatServicePart<
  | "adminListUsers"
  | "adminSetDisabled"
  | "adminResetPassword"
  | "adminDeleteUser"
  | "adminDeleteRoom"
  | "adminPurge"
  | "export"
  | "import"
  | "backup"
  | "resetPassword"
> {
  const { chat } = context;
  const { admin, rules } = chat.governance;
  const speaker = (caller: Parameters<typeof chat.identities.speaker>[0]) =>
    chat.identities.speaker(caller);

  return {
    adminListUsers: async (request) => {
      const size = checkPageSize(request.pageSize, 100);
      const after = request.pageToken ? decodePageToken(request.pageToken)[0] : undefined;
      const accounts = await admin.listUsers(size, after);
      const last = accounts.at(-1);
      return create(AdminListUsersResponseSchema, {
        users: accounts.map((account) => ({
          user: { userId: account.userId, username: account.username },
          disabled: account.disabled,
          admin: rules.isAdmin({ userId: account.userId, username: account.username }),
          createdMs: BigInt(account.createdMs),
        })),
        nextPageToken:
          accounts.length === size && last ? encodePageToken([nameKey(last.username)]) : "",
      });
    },

    adminSetDisabled: async (request, { caller }) => {
      const user = await admin.setDisabled(
        await speaker(caller),
        request.user,
        request.disabled,
        request.reason,
      );
      return create(AdminUserSchema, {
        user,
        disabled: request.disabled,
        admin: rules.isAdmin(user),
      });
    },

    adminResetPassword: async (request, { caller }) => {
      const { code, expiresMs } = await admin.resetPassword(await speaker(caller), request.user);
      return create(AdminResetPasswordResponseSchema, { code, expiresAtMs: BigInt(expiresMs) });
    },

    adminDeleteUser: async (request, { caller }) => {
      await admin.deleteUser(await speaker(caller), request.user, request.reason);
      return create(AdminDeleteUserResponseSchema, {});
    },

    adminDeleteRoom: async (request, { caller }) => {
      const removed = await admin.deleteRoom(await speaker(caller), request.room, request.reason);
      return create(AdminDeleteRoomResponseSchema, { removed: BigInt(removed) });
    },

    adminPurge: async (request, { caller }) => {
      const erased = await admin.purge(
        await speaker(caller),
        request.room,
        request.user,
        request.hours,
        request.reason,
      );
      return create(AdminPurgeResponseSchema, { erased });
    },

    async export(request, call) {
      const encoder = new TextEncoder();
      let lines: string[] = [];
      const flush = async () => {
        if (lines.length === 0) return;
        const chunk = create(ExportChunkSchema, { lines: encoder.encode(lines.join("")) });
        lines = [];
        await write(call.live, toBinary(ExportChunkSchema, chunk));
      };
      const who = await speaker(call.caller);
      for await (const line of admin.export(who, request.room === "" ? undefined : request.room)) {
        lines.push(`${JSON.stringify(line)}\n`);
        if (lines.length >= LINES_PER_CHUNK) await flush();
      }
      await flush();
      call.live.sink.end(undefined);
    },

    async import(requests, { caller }) {
      const who = await speaker(caller);
      const decoder = new TextDecoder("utf-8", { fatal: true });
      let lineNo = 0;
      async function* lines(): AsyncGenerator<ExportLine> {
        const queue: ExportLine[] = [];
        let done = false;
        let failure: unknown;
        let wake: (() => void) | undefined;
        // The client is read no faster than the store loads: at most this many lines wait.
        let drained: (() => void) | undefined;
        requests
          .each(async (chunk) => {
            for (const text of decoder.decode(chunk.lines).split("\n")) {
              lineNo += 1;
              if (text.trim() !== "") queue.push(parseExportLine(text, lineNo));
            }
            wake?.();
            while (queue.length > MAX_QUEUED_LINES) {
              await new Promise<void>((resolve) => {
                drained = resolve;
              });
            }
          })
          .then(
            () => {
              done = true;
              wake?.();
            },
            (error: unknown) => {
              failure = error;
              done = true;
              wake?.();
            },
          );
        for (;;) {
          const next = queue.shift();
          if (next) {
            if (queue.length <= MAX_QUEUED_LINES) drained?.();
            yield next;
            continue;
          }
          if (failure) throw failure;
          if (done) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      }
      const { rooms, messages } = await admin.import(who, lines());
      return create(ImportResponseSchema, { rooms, messages: BigInt(messages) });
    },

    async backup(_request, call) {
      const path = join(tmpdir(), `grpc-chat-backup-${randomBytes(8).toString("hex")}.db`);
      try {
        await admin.backup(await speaker(call.caller), path);
        for await (const data of createReadStream(path, { highWaterMark: BACKUP_CHUNK_BYTES })) {
          await write(call.live, toBinary(BackupChunkSchema, create(BackupChunkSchema, { data })));
        }
        call.live.sink.end(undefined);
      } finally {
        rmSync(path, { force: true });
      }
    },

    resetPassword: async (request) =>
      toAuthToken(await chat.accounts.resetPassword(request.code, request.newPassword)),
  };
}
