// The RPCs that change messages already sent, and read markers and typing:
// each is one unary call. A change is stored as an entry of the room's log,
// so every client (this one included) hears of it on its stream, in order.
import { create } from "@bufbuild/protobuf";
import {
  type ChangeResponse,
  DeleteRequestSchema,
  EditRequestSchema,
  MarkReadRequestSchema,
  type MarkReadResponse,
  ReactRequestSchema,
  TypingRequestSchema,
} from "../gen/chat_pb.js";
import type { GrpcChannel } from "./grpc-channel.ts";

/** The log entry a change was stored as; id 0 when it changed nothing (a reaction already there). */
export interface ChangeAck {
  readonly id: number;
  readonly timeMs: number;
}

const changeAck = (r: ChangeResponse): ChangeAck => ({
  id: Number(r.id),
  timeMs: Number(r.serverTimeMs),
});

export async function editMessage(
  channel: GrpcChannel,
  room: string,
  id: number,
  text: string,
): Promise<ChangeAck> {
  const request = create(EditRequestSchema, { room, id: BigInt(id), text });
  return changeAck(await channel.unary<ChangeResponse>("edit", request));
}

export async function deleteMessage(
  channel: GrpcChannel,
  room: string,
  id: number,
): Promise<ChangeAck> {
  const request = create(DeleteRequestSchema, { room, id: BigInt(id) });
  return changeAck(await channel.unary<ChangeResponse>("delete", request));
}

export async function reactToMessage(
  channel: GrpcChannel,
  room: string,
  id: number,
  emoji: string,
  remove: boolean,
): Promise<ChangeAck> {
  const request = create(ReactRequestSchema, { room, id: BigInt(id), emoji, remove });
  return changeAck(await channel.unary<ChangeResponse>("react", request));
}

/** Resolves to the marker now, which may be higher than asked (it only moves forward). */
export async function markRead(
  channel: GrpcChannel,
  room: string,
  lastReadId: number,
): Promise<number> {
  const request = create(MarkReadRequestSchema, { room, lastReadId: BigInt(lastReadId) });
  return Number((await channel.unary<MarkReadResponse>("markRead", request)).lastReadId);
}

export async function setTyping(
  channel: GrpcChannel,
  room: string,
  stopped: boolean,
): Promise<void> {
  await channel.unary("setTyping", create(TypingRequestSchema, { room, stopped }));
}
