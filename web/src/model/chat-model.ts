import type { SendAck } from "../../../src/gen/chat_pb.js";
import { isPublicRoomName, roomNameRule } from "../../../src/wire/room-names.ts";
import type { ChatClient } from "../api.ts";
import { type ServerInfo, type ServerInfoSource, utf8Bytes } from "../server-info.ts";
import type { Saved, Session } from "../storage.ts";
import { fill, listRooms } from "./history.ts";
import { Moderation } from "./moderation.ts";
import { NotifyLevels } from "./notify-levels.ts";
import { Outbox, type Outgoing } from "./outbox.ts";
import { ReadMarkers } from "./read-markers.ts";
import { Room } from "./room.ts";
import { RoomJoins } from "./room-joins.ts";
import { type ConnectionState, Subscription } from "./subscription.ts";
import { Typing } from "./typing.ts";

export type Change = "rooms" | "messages" | "state" | "me" | "limits" | "typing";

export interface ModelHooks {
  /** The server no longer accepts this session: back to signing in, with why. */
  signedOut(reason: string): void;
  save(saved: Saved): void;
}

/**
 * Everything the chat page knows, with no DOM: rooms and their messages,
 * the subscription and its resume points, the send queue. The view reads it
 * and calls its actions; `onChange` says what to redraw.
 */
export class ChatModel {
  readonly rooms = new Map<string, Room>();
  readonly subscription: Subscription;
  readonly outbox: Outbox;
  readonly readMarkers: ReadMarkers;
  readonly typing: Typing;
  readonly moderation = new Moderation(this);
  readonly notify = new NotifyLevels(this);
  readonly me = { userId: "", name: "" };
  readonly session: Session;
  readonly client: ChatClient;
  current: string;
  /** Rooms the server lists that we are not in: offered when joining. */
  known: string[] = [];
  /** Whether the user can see the page (unseen messages stay unread). */
  visible = true;
  /** The most rooms open at once: the server's, once it has said (its welcome says it too). */
  maxRooms: number | undefined;
  readonly #serverInfo: ServerInfoSource;
  readonly #joins: RoomJoins;
  readonly #listeners = new Set<(changes: ReadonlySet<Change>) => void>();
  readonly #changes = new Set<Change>();
  readonly #hooks: ModelHooks;
  #stopped = false;

  constructor(
    client: ChatClient,
    serverInfo: ServerInfoSource,
    session: Session,
    saved: Saved,
    hooks: ModelHooks,
  ) {
    this.client = client;
    this.#serverInfo = serverInfo;
    this.session = session;
    this.me.name = session.name;
    this.#hooks = hooks;
    for (const r of saved.rooms) this.rooms.set(r.name, new Room(r.name, r));
    // With no room open, the first is the server's default room, once it has said which.
    this.current = this.rooms.get(saved.current)?.open ? saved.current : this.firstOpen();
    this.#joins = new RoomJoins(this, serverInfo, (reason) => this.#signOut(reason));
    this.subscription = new Subscription({
      client,
      username: () => (session.kind === "guest" ? session.name : ""),
      prepare: () => this.#joins.prepare(),
      request: () => this.#joins.request(),
      event: (event) => this.#joins.event(event),
      fatal: (ending) => this.#joins.fatal(ending),
      state: () => this.changed("state"),
    });
    this.outbox = new Outbox({
      client,
      ready: () => this.subscription.welcomed,
      stored: (item, ack) => this.#stored(item, ack),
      changed: () => this.changed("messages"),
      notice: (room, text) => this.notice(room, text),
      renew: () => this.subscription.restart(),
      signedOut: (reason) => this.#signOut(reason),
    });
    for (const s of saved.outbox)
      if (this.rooms.has(s.room)) this.outbox.add(s.room, s.text, s.replyTo, s.clientMsgId);
    this.readMarkers = new ReadMarkers({
      client,
      rooms: () => this.rooms.values(),
      changed: () => this.changed("rooms"),
      recount: () => void listRooms(this),
    });
    this.typing = new Typing({
      client,
      selfId: () => this.me.userId,
      expiryMs: () => this.limits?.typingExpiryMs ?? 0,
      changed: () => this.changed("typing"),
    });
  }

  get state(): ConnectionState {
    return this.subscription.state;
  }

  get room(): Room | undefined {
    return this.rooms.get(this.current);
  }

  /** The server's limits, once it has said them. */
  get limits(): ServerInfo | undefined {
    return this.#serverInfo.known;
  }

  onChange(listener: (changes: ReadonlySet<Change>) => void): void {
    this.#listeners.add(listener);
  }

  start(): void {
    this.subscription.restart();
    void listRooms(this);
  }

  stop(): void {
    this.#stopped = true;
    this.subscription.stop();
    this.outbox.stop();
    this.readMarkers.stop();
    this.moderation.stop();
    this.notify.stop();
    this.#listeners.clear();
  }

  /** Batches changes into one redraw (and one save) per task. */
  changed(change: Change): void {
    if (this.#stopped) return;
    if (this.#changes.size === 0) queueMicrotask(() => this.#flush());
    this.#changes.add(change);
  }

  select(name: string): void {
    const room = this.rooms.get(name);
    if (room === undefined) return;
    if (this.current !== name || room.divider === undefined) {
      // "New" is placed where the marker is as the room comes in front.
      room.divider = undefined;
      room.dividerPending = true;
      room.placeDivider(this.me.userId);
    }
    this.current = name;
    if (!room.open) {
      room.open = true;
      this.subscription.restart();
    }
    if (room.joined && !room.filled) void fill(this, room);
    this.moderation.refresh(name);
    this.changed("rooms");
    this.changed("messages");
  }

  /** Joins a room by name (or switches to it) and makes it the current one. */
  join(name: string): void {
    const trimmed = name.trim();
    if (this.rooms.get(trimmed)?.open) {
      this.select(trimmed);
      return;
    }
    const max = this.limits?.maxRoomChars;
    if (trimmed === "") throw new Error("Type the name of a room.");
    // Before the server has said its limits, it checks the name itself.
    if (max !== undefined && !isPublicRoomName(trimmed, max)) throw new Error(roomNameRule(max));
    this.#add(trimmed, "");
  }

  leave(name: string): void {
    const room = this.rooms.get(name);
    if (room === undefined || this.openRooms().length <= 1) return;
    // A DM stays listed (it is still ours); a room goes.
    if (room.direct) room.open = false;
    else this.rooms.delete(name);
    if (this.current === name) this.current = this.firstOpen();
    this.subscription.restart();
    this.select(this.current);
  }

  async openDirect(username: string): Promise<void> {
    const response = await this.client.openDirect({ username: username.trim() });
    const existing = this.rooms.get(response.room);
    if (existing) {
      if (response.peer?.username) existing.peer = response.peer.username;
      this.select(response.room);
      return;
    }
    this.#add(response.room, response.peer?.username ?? username.trim());
  }

  async setTopic(topic: string): Promise<void> {
    const max = this.limits?.maxTopicChars;
    if (max !== undefined && [...topic].length > max) {
      throw new Error(`A topic is at most ${max} characters; this one is ${[...topic].length}.`);
    }
    await this.client.setTopic({ room: this.current, topic });
    const room = this.room;
    if (room) room.topic = topic;
    this.changed("messages");
  }

  /** Queues a message for the room shown (answering `replyTo`, 0: none); throws, with a sentence, when it cannot go as it is. */
  send(text: string, replyTo = 0): void {
    if (text.trim() === "") return;
    if (this.room === undefined) {
      throw new Error("Not connected yet: wait until the page has joined a room.");
    }
    const max = this.limits?.maxMessageBytes;
    const bytes = utf8Bytes(text);
    if (max !== undefined && bytes > max) {
      throw new Error(
        `Not sent: this message is ${bytes} bytes long (UTF-8) and the server takes at most ${max}. Shorten it or split it.`,
      );
    }
    this.outbox.add(this.current, text, replyTo);
    this.typing.stopped(this.current);
  }

  notice(room: string, text: string): void {
    this.rooms.get(room)?.notice(text);
    this.changed("messages");
  }

  #add(name: string, peer: string): void {
    if (this.maxRooms !== undefined && this.openRooms().length >= this.maxRooms) {
      throw new Error(`You can be in at most ${this.maxRooms} rooms at once; leave one first.`);
    }
    const room = this.rooms.get(name) ?? new Room(name, { peer });
    room.open = true;
    this.rooms.set(name, room);
    this.#joins.asked(name);
    this.subscription.restart();
    this.select(name);
  }

  #signOut(reason: string): false {
    if (!this.#stopped) this.#hooks.signedOut(reason);
    return false;
  }

  #stored({ text, clientMsgId, replyTo }: Outgoing, ack: SendAck): void {
    const room = this.rooms.get(ack.room);
    const { userId, name: username } = this.me;
    const id = Number(ack.id);
    const timeMs = Number(ack.serverTimeMs);
    const state = { replyTo, editedAtMs: 0, deleted: false, reactions: [] };
    room?.merge(
      [
        {
          room: ack.room,
          id,
          timeMs,
          userId,
          username,
          text,
          system: false,
          clientMsgId,
          ...state,
        },
      ],
      userId,
    );
  }

  /** The rooms the subscription asks for. */
  openRooms(): Room[] {
    return [...this.rooms.values()].filter((room) => room.open);
  }

  /** The room to show when the one shown goes ("" when none is open). */
  firstOpen(): string {
    return this.openRooms()[0]?.name ?? "";
  }

  #flush(): void {
    const changes = new Set(this.#changes);
    this.#changes.clear();
    if (this.#stopped) return;
    this.#hooks.save({
      session: this.session,
      current: this.current,
      rooms: [...this.rooms.values()].map((r) => ({
        name: r.name,
        peer: r.peer,
        open: r.open,
        readId: r.readId,
      })),
      outbox: this.outbox.items
        .filter((i) => i.status === "pending")
        .map(({ room, text, clientMsgId, replyTo }) => ({ room, text, clientMsgId, replyTo })),
    });
    for (const listener of this.#listeners) listener(changes);
  }
}
