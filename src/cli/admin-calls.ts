import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import type { Metadata } from "@grpc/grpc-js";
import { ChatClientError } from "../client/events.ts";
import type { GrpcChannel } from "../client/grpc-channel.ts";
import {
  AdminDeleteRoomRequestSchema,
  AdminDeleteUserRequestSchema,
  AdminListUsersRequestSchema,
  AdminPurgeRequestSchema,
  AdminResetPasswordRequestSchema,
  AdminSetDisabledRequestSchema,
  BackupRequestSchema,
  BanAddressRequestSchema,
  ExportRequestSchema,
  ImportChunkSchema,
  type ImportResponse,
  ListAuditRequestSchema,
  ListBansRequestSchema,
  ListRoomsRequestSchema,
  type RoomRole,
  SetRoleRequestSchema,
  UnbanAddressRequestSchema,
  UnbanRequestSchema,
} from "../gen/chat_pb.js";

/** The requests `grpc-chat admin` makes, built from its arguments. */
export const adminRequests = {
  listUsers: (pageToken: string) =>
    create(AdminListUsersRequestSchema, { pageSize: 1000, pageToken }),
  setDisabled: (user: string, disabled: boolean, reason: string) =>
    create(AdminSetDisabledRequestSchema, { user, disabled, reason }),
  resetPassword: (user: string) => create(AdminResetPasswordRequestSchema, { user }),
  deleteUser: (user: string, reason: string) =>
    create(AdminDeleteUserRequestSchema, { user, reason }),
  listRooms: (pageToken: string) => create(ListRoomsRequestSchema, { pageSize: 1000, pageToken }),
  setRole: (room: string, user: string, role: RoomRole) =>
    create(SetRoleRequestSchema, { room, user, role }),
  deleteRoom: (room: string, reason: string) =>
    create(AdminDeleteRoomRequestSchema, { room, reason }),
  purge: (room: string, user: string, hours: number) =>
    create(AdminPurgeRequestSchema, { room, user, hours }),
  listBans: (room: string) => create(ListBansRequestSchema, { room }),
  unban: (room: string, user: string) => create(UnbanRequestSchema, { room, user }),
  banAddress: (cidr: string, durationMs: number, reason: string) =>
    create(BanAddressRequestSchema, { cidr, durationMs: BigInt(durationMs), reason }),
  unbanAddress: (cidr: string) => create(UnbanAddressRequestSchema, { cidr }),
  listAudit: (room: string) => create(ListAuditRequestSchema, { room, pageSize: 500 }),
  exportRequest: (room: string) => create(ExportRequestSchema, { room }),
  backupSchema: BackupRequestSchema,
};

/** A server-streaming call's chunks written to `out` in order, waiting while `out` is full. */
export async function streamInto<T>(
  channel: GrpcChannel,
  method: string,
  request: unknown,
  out: Writable,
  bytesOf: (chunk: T) => Uint8Array,
): Promise<void> {
  const call = channel.serverStream(method, request, channel.metadata() as Metadata);
  try {
    for await (const chunk of call) {
      if (!out.write(bytesOf(chunk as T)))
        await new Promise((resolve) => out.once("drain", resolve));
    }
  } catch (error) {
    throw ChatClientError.from(error as never);
  }
}

/** Sends an export file to Import, a chunk of whole lines at a time. */
export async function uploadLines(channel: GrpcChannel, file: string): Promise<ImportResponse> {
  const encoder = new TextEncoder();
  let reply: ImportResponse | undefined;
  let failure: unknown;
  const done = new Promise<void>((resolve) => {
    const call = channel.clientStream(
      "import",
      channel.metadata() as Metadata,
      (error, response) => {
        if (error) failure = ChatClientError.from(error);
        else reply = response as ImportResponse;
        resolve();
      },
    );
    void (async () => {
      let chunk: string[] = [];
      const send = async () => {
        if (chunk.length === 0) return;
        const message = create(ImportChunkSchema, { lines: encoder.encode(chunk.join("")) });
        chunk = [];
        if (!call.write(message)) await new Promise((wake) => call.once("drain", wake));
      };
      for await (const line of createInterface({ input: createReadStream(file) })) {
        chunk.push(`${line}\n`);
        if (chunk.length >= 200) await send();
      }
      await send();
      call.end();
    })().catch((error: unknown) => {
      failure = error;
      call.cancel();
    });
  });
  await done;
  if (failure || !reply) throw failure ?? new Error("Import answered nothing.");
  return reply;
}
