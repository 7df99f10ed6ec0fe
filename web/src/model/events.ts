import { Code } from "@connectrpc/connect";
import { type Event, ResumeOutcome } from "../../../src/gen/chat_pb.js";
import { retryable } from "../api.ts";
import type { ChatModel } from "./chat-model.ts";
import { fill } from "./history.ts";
import { isChange, toLine } from "./lines.ts";

/**
 * What one event of the subscription does to the rooms (the welcome, and a
 * join into a room not known yet, are RoomJoins').
 */
export function applyEvent(model: ChatModel, event: Event): void {
  const { kind } = event;
  switch (kind.case) {
    case "joined": {
      const room = model.rooms.get(kind.value.room);
      if (room === undefined) return;
      room.joined = true;
      room.topic = kind.value.topic;
      room.position.joined(
        kind.value.epoch,
        kind.value.resume === ResumeOutcome.RESUMED,
        Number(kind.value.lastId),
      );
      room.markRead(Number(kind.value.lastReadId));
      room.markerKnown = true;
      room.placeDivider(model.me.userId);
      model.moderation.joined(room.name);
      // Every room, not only the one in front: its unread count is counted from what is loaded.
      if (!room.filled) void fill(model, room);
      model.changed("messages");
      model.changed("rooms");
      return;
    }
    case "message": {
      const room = model.rooms.get(kind.value.room);
      if (room === undefined) return;
      const line = toLine(kind.value);
      if (isChange(line)) {
        if (room.deliverChange(line, model.me.userId) === "dropped") return;
        model.changed("messages");
        model.changed("rooms");
        return;
      }
      const delivery = room.deliver(line, model.me.userId);
      if (delivery === "dropped") return;
      if (line.userId === model.me.userId && line.clientMsgId !== "") {
        model.outbox.settle(room.name, line.clientMsgId);
      }
      if (room.direct && room.peer === "" && line.userId !== model.me.userId) {
        room.peer = line.username;
      }
      if (delivery === "new") model.notify.arrived(room, line);
      model.changed("messages");
      model.changed("rooms");
      return;
    }
    case "read": {
      const room = model.rooms.get(kind.value.room);
      if (room === undefined) return;
      model.readMarkers.moved(room, Number(kind.value.lastReadId));
      return;
    }
    case "typing": {
      model.typing.heard(kind.value.room, kind.value.typing);
      return;
    }
    case "notify": {
      model.notify.heard(kind.value.room, kind.value.level);
      return;
    }
    case "caughtUp": {
      const room = model.rooms.get(kind.value.room);
      if (room === undefined) return;
      room.advance(Number(kind.value.lastId));
      room.caughtUp = true;
      room.onlineCount = kind.value.onlineCount;
      room.members.clear();
      for (const m of kind.value.online) room.members.set(m.userId, m.username);
      model.changed("rooms");
      return;
    }
    case "presence": {
      const room = model.rooms.get(kind.value.room);
      if (room === undefined) return;
      for (const m of kind.value.joined) room.members.set(m.userId, m.username);
      for (const m of kind.value.left) room.members.delete(m.userId);
      room.onlineCount = kind.value.onlineCount;
      model.changed("rooms");
      return;
    }
    case "gap": {
      const room = model.rooms.get(kind.value.room);
      if (room === undefined) return;
      const from = Number(kind.value.fromId);
      const to = Number(kind.value.toId);
      const what = from === to ? `Message ${from} was` : `Messages ${from}–${to} were`;
      room.notice(
        `${what} removed by the server's retention before this page could show them.`,
        from - 1,
      );
      room.advance(to);
      model.changed("messages");
      return;
    }
    case "topic": {
      const room = model.rooms.get(kind.value.room);
      if (room === undefined) return;
      // Who set it arrives as a system line of the room's log.
      room.topic = kind.value.topic;
      model.changed("rooms");
      return;
    }
    case "notice":
      model.notice(model.current, kind.value.text);
      return;
    case "left":
      leftRoom(model, kind.value.room, kind.value.code, kind.value.reason);
      return;
    case "moderated":
      model.moderation.moderated(kind.value);
      return;
    case "roomUpdated":
      model.moderation.apply(kind.value, false);
      return;
    case "report":
      model.moderation.reported(kind.value);
      return;
  }
}

/** The server took us out of a room (a DM it could not bring us into), or refused one. */
function leftRoom(model: ChatModel, name: string, code: number, reason: string): void {
  const room = model.rooms.get(name);
  if (room === undefined || code === 0) return;
  if (code === Code.Unauthenticated) {
    model.subscription.restart();
    return;
  }
  // After a kick or ban the Moderated event before this has said who, why and until when.
  const explained = code === Code.PermissionDenied && model.moderation.explained(name);
  if (!explained) room.notice(reason || "The server took this page out of the room.");
  if (retryable(code)) {
    // The whole subscription is asked again, so the room resumes where it was.
    setTimeout(() => model.subscription.restart(), 1_000);
  } else {
    room.open = false;
    room.joined = false;
    // Out of the room, the page no longer hears who comes and goes there.
    room.members.clear();
    room.onlineCount = 0;
  }
  model.changed("messages");
  model.changed("rooms");
}
