import { Code } from "@connectrpc/connect";
import { type Event, ResumeOutcome } from "../../../src/gen/chat_pb.js";
import type { ServerInfoSource } from "../server-info.ts";
import type { ChatModel } from "./chat-model.ts";
import { applyEvent } from "./events.ts";
import { listRooms } from "./history.ts";
import { Room } from "./room.ts";
import type { Ending, JoinRequest } from "./subscription.ts";

/** Codes that say a room cannot be joined as asked (its name, or who may use it). */
const ROOM_REFUSALS = new Set<Code>([Code.InvalidArgument, Code.NotFound, Code.PermissionDenied]);

/**
 * The model's side of the subscription: what each call asks for (the server's
 * limits and default room first, then every open room from its resume point)
 * and what the answers do to the rooms: the welcome, joins (a DM the server
 * brought us into, a history that was reset), and a final refusal, which
 * drops the room refused or signs out.
 */
export class RoomJoins {
  readonly #model: ChatModel;
  readonly #serverInfo: ServerInfoSource;
  readonly #signOut: (reason: string) => false;
  #everWelcomed = false;
  /** A room just asked for and not yet joined: the one to drop if the server refuses. */
  #joining: string | undefined;

  constructor(model: ChatModel, serverInfo: ServerInfoSource, signOut: (reason: string) => false) {
    this.#model = model;
    this.#serverInfo = serverInfo;
    this.#signOut = signOut;
  }

  /** The user asked to join `name`: the next call's refusal may be about it. */
  asked(name: string): void {
    this.#joining = name;
  }

  /** The server's limits before the first subscription; its default room when no room is open. */
  async prepare(): Promise<void> {
    const model = this.#model;
    const known = model.limits !== undefined;
    const info = await this.#serverInfo.get();
    model.maxRooms ??= info.maxRooms || undefined;
    if (model.openRooms().length === 0) {
      const room = model.rooms.get(info.defaultRoom) ?? new Room(info.defaultRoom);
      room.open = true;
      model.rooms.set(room.name, room);
      model.current = room.name;
      model.changed("rooms");
    }
    if (!known) model.changed("limits");
  }

  request(): JoinRequest[] {
    return this.#model.openRooms().map((room) => {
      room.joined = false;
      room.caughtUp = false;
      const { resumeAfterId, epoch } = room.position.start;
      if (resumeAfterId === undefined) return { room: room.name, epoch: "" };
      return { room: room.name, resumeAfterId: BigInt(resumeAfterId), epoch };
    });
  }

  event(event: Event): void {
    const model = this.#model;
    if (event.kind.case === "welcome") {
      this.#everWelcomed = true;
      model.me.userId = event.kind.value.userId;
      model.me.name = event.kind.value.username;
      if (event.kind.value.maxRooms > 0) model.maxRooms = event.kind.value.maxRooms;
      model.typing.forget();
      model.changed("me");
      model.outbox.wake();
      model.moderation.welcomed(Number(event.kind.value.serverTimeMs));
      return;
    }
    if (event.kind.case === "joined") {
      const { room: name, resume } = event.kind.value;
      if (this.#joining === name) this.#joining = undefined;
      let room = model.rooms.get(name);
      if (room === undefined) {
        // The server brought us into a DM (a message arrived there).
        room = new Room(name);
        model.rooms.set(name, room);
        if (room.direct) void listRooms(model);
      }
      room.open = true;
      if (resume === ResumeOutcome.RESET && room.position.lastId !== undefined) {
        room.clear();
        room.readId = Number(event.kind.value.lastId);
        room.notice(
          "The server's history of this room was reset; older messages may be missing.",
          room.readId,
        );
      }
    }
    applyEvent(model, event);
    if (event.kind.case === "caughtUp" && model.openRooms().every((r) => r.caughtUp)) {
      model.subscription.markLive();
    }
  }

  /** A final end of a subscription: a refused room is dropped, a refused user signed out. */
  fatal({ failure: { code, text }, requested, joined }: Ending): boolean {
    const model = this.#model;
    if (code === Code.Unauthenticated) return this.#signOut(text);
    const refused =
      this.#joining ?? requested.find((name) => !joined.has(name) && text.includes(name));
    if (ROOM_REFUSALS.has(code) && refused !== undefined && model.rooms.has(refused)) {
      this.#joining = undefined;
      const room = model.rooms.get(refused);
      if (room?.direct) room.open = false;
      else model.rooms.delete(refused);
      model.current = model.current === refused ? model.firstOpen() : model.current;
      model.notice(model.current, `Could not join ${room?.label ?? refused}: ${text}`);
      model.changed("rooms");
      return true;
    }
    if (!this.#everWelcomed) return this.#signOut(text);
    return false;
  }
}
