import { status } from "@grpc/grpc-js";
import type { BackoffOptions } from "../client/backoff.ts";
import { type ChatClient, ChatClientError, type ServerLimits } from "../client/chat-client.ts";
import { LiveChat, type LiveFeed } from "../client/live-chat.ts";
import { SeedChat } from "../client/seed-chat.ts";
import { DEFAULT_ROOM } from "../wire/room-names.ts";
import { AccountCommands } from "./account-commands.ts";
import type { ChatView, DisplayItem } from "./chat-view.ts";
import { CommandDispatch } from "./command-dispatch.ts";
import { EventDisplay } from "./event-display.ts";
import { HistoryReader } from "./history-reader.ts";
import { MessageCommands } from "./message-commands.ts";
import { ModerationCommands } from "./moderation-commands.ts";
import { KnownRooms } from "./moderation-notices.ts";
import { Notifier } from "./notify.ts";
import { ReadMarks } from "./read-marks.ts";
import { RoomCommands } from "./room-commands.ts";
import { RoomTabs } from "./room-tabs.ts";
import { SEED_HISTORY_KEPT, SEED_NOTICE } from "./seed-mode.ts";
import { SendCommands } from "./send-commands.ts";
import { TypingSignal } from "./typing.ts";

export type { ConnectionState } from "../client/live-chat.ts";
export { type ChatView, type DisplayItem, itemRoom } from "./chat-view.ts";
export type { RoomTab } from "./room-tabs.ts";

export interface ChatControllerOptions {
  readonly backoff?: Partial<BackoffOptions>;
  /** A login gave a new token (undefined: logged out): keep it for next time. */
  readonly onToken?: (token: string | undefined) => void;
  /** The room to show first. Default: the server's default room. */
  readonly room?: string;
}

const HISTORY_ON_START = 5;
/** How long leaving waits for sends the server has not stored yet. */
const SETTLE_ON_QUIT_MS = 5_000;

/**
 * The terminal client's behaviour, shared by both of its views: joining,
 * the commands, batch mode and the live chat, which reconnects by itself.
 * Views only draw. On a server that speaks only the seed's protocol it says
 * so once and chats over the seed's RPCs, refusing with a reason what they
 * cannot carry.
 */
export class ChatController {
  readonly client: ChatClient;
  readonly #view: ChatView;
  readonly #options: ChatControllerOptions;
  /** The live chat, on our protocol or the seed's. */
  #feed: LiveFeed | undefined;
  /** The live chat on our protocol (rooms, accounts); undefined on the seed's. */
  #live: LiveChat | undefined;
  /** The server's limits; undefined on a server that speaks only the seed's protocol. */
  #limits: ServerLimits | undefined;
  #seedOnly = false;
  readonly #tabs = new RoomTabs();
  readonly #display: EventDisplay;
  readonly #rooms: RoomCommands;
  readonly #accounts: AccountCommands;
  readonly #history: HistoryReader;
  readonly #sends: SendCommands;
  readonly #messages: MessageCommands;
  readonly #moderation: ModerationCommands;
  readonly #known = new KnownRooms();
  readonly #reads: ReadMarks;
  readonly #typing: TypingSignal;
  readonly #notifier: Notifier;
  readonly #commands: CommandDispatch;
  /** The room last shown: a different current room is one just switched to. */
  #shownRoom = "";
  /** Our public id and name, from the server: what our own messages carry. */
  #self = { userId: "", username: "" };

  constructor(client: ChatClient, view: ChatView, options: ChatControllerOptions = {}) {
    this.client = client;
    this.#view = view;
    this.#options = options;
    this.#rooms = new RoomCommands({
      client,
      tabs: this.#tabs,
      live: () => this.#live,
      topic: (room) => this.#display.topic(room),
      info: (text) => this.#info(text),
      error: (text) => this.#error(text),
      tabsChanged: () => this.#publishTabs(),
      inRoom: () => this.#inRoom(),
      maxRoomChars: () => this.#limits?.maxRoomChars,
      showHistory: (room, count) => this.#history.show(room, count),
      send: (text, room) => this.#sends.send(text, room),
    });
    this.#sends = new SendCommands({
      client,
      feed: () => this.#feed,
      current: () => this.#tabs.current,
      defaultRoom: () => this.#limits?.defaultRoom ?? DEFAULT_ROOM,
      seedOnly: () => this.#seedOnly,
      self: () => this.#self,
      inRoom: () => this.#inRoom(),
      show: (item) => this.#showOwn(item),
      info: (text) => this.#info(text),
      error: (text) => this.#error(text),
    });
    this.#notifier = new Notifier({
      tabs: this.#tabs,
      // The seed's client never rang: its line mode stays byte for byte the same.
      signals: () => (this.#seedOnly ? undefined : this.#view.terminal),
      selfId: () => this.#self.userId,
    });
    this.#reads = new ReadMarks({
      client,
      tabs: this.#tabs,
      view,
      newest: (room) => this.#live?.position(room)?.lastId ?? this.#messages.index.newest(room)?.id,
      seedOnly: () => this.#seedOnly,
      tabsChanged: () => this.#publishTabs(),
      roomsListed: (rooms) => this.#notifier.take(rooms),
    });
    this.#typing = new TypingSignal(client);
    this.#messages = new MessageCommands({
      client,
      current: () => this.#tabs.current,
      selfId: () => this.#self.userId,
      inRoom: () => this.#inRoom(),
      send: (text, replyTo) => this.#sends.send(text, this.#tabs.current, replyTo),
      show: (item) => this.#view.show(item),
      info: (text) => this.#info(text),
      error: (text) => this.#error(text),
    });
    this.#moderation = new ModerationCommands({
      client,
      known: this.#known,
      current: () => this.#tabs.current,
      selfId: () => this.#self.userId,
      inRoom: () => this.#inRoom(),
      nameOf: (userId) => this.#messages.index.username(userId),
      info: (text) => this.#info(text),
      error: (text) => this.#error(text),
    });
    this.#history = new HistoryReader({
      client,
      tabs: this.#tabs,
      seedOnly: () => this.#seedOnly,
      show: (item) => this.#view.show(item),
      prepend: this.#view.prepend && ((items) => this.#view.prepend?.(items)),
      message: (line) => this.#display.message(line),
      error: (text) => this.#error(text),
    });
    this.#accounts = new AccountCommands({
      client,
      live: () => this.#live,
      info: (text) => this.#info(text),
      error: (text) => this.#error(text),
      askSecret: (prompt) => this.#view.askSecret(prompt),
      tokenChanged: (token) => this.#options.onToken?.(token),
      refreshSelf: () => this.#refreshSelf(),
    });
    this.#display = new EventDisplay({
      tabs: this.#tabs,
      self: () => this.#self,
      show: (item) => this.#view.show(item),
      tabsChanged: () => this.#publishTabs(),
      lookUpPeer: (room) => void this.#rooms.lookUpPeer(room),
      messages: this.#messages,
      reads: this.#reads,
      typing: (room, names) => this.#view.setTyping?.(room, names),
      joinLines: () => this.#limits?.joinLines ?? false,
      known: this.#known,
      learnRoom: (room) => this.#learnRoom(room),
      arrived: (line, mention) => this.#notifier.arrived(line, mention),
      notifyChanged: (room, level) => this.#notifier.changed(room, level),
    });
    this.#commands = new CommandDispatch({
      client,
      tabs: this.#tabs,
      show: (item) => this.#view.show(item),
      message: (line) => this.#display.message(line),
      rooms: this.#rooms,
      sends: this.#sends,
      messages: this.#messages,
      moderation: this.#moderation,
      accounts: this.#accounts,
      history: this.#history,
      notifier: this.#notifier,
      current: () => this.#tabs.current,
      maxHistory: () => this.#limits?.maxHistory ?? SEED_HISTORY_KEPT,
      seedOnly: () => this.#seedOnly,
      inRoom: () => this.#inRoom(),
      showIds: (on) => this.#view.setShowIds?.(on),
      info: (text) => this.#info(text),
      error: (text) => this.#error(text),
    });
  }

  /** The input line changed: tells the server we are typing in the room shown, or stopped. */
  drafting(draft: string): void {
    if (this.#live && this.#tabs.current !== "") this.#typing.drafting(this.#tabs.current, draft);
  }

  /** Up on an empty line: the line that edits our newest message in the room shown. */
  recallEdit(): string | undefined {
    return this.#seedOnly ? undefined : this.#messages.recallEdit();
  }

  /** The room shown; sends go there. */
  get currentRoom(): string {
    return this.#tabs.current;
  }

  /** Shows the open room at 1-based `position` (Alt+1..9). */
  switchTo(position: number): void {
    const room = this.#tabs.at(position);
    if (room !== undefined && this.#tabs.show(room)) this.#publishTabs();
  }

  /** Shows the next (1) or previous (-1) open room (Ctrl+N / Ctrl+P). */
  cycle(steps: number): void {
    this.#tabs.cycle(steps);
    this.#publishTabs();
  }

  /**
   * Joins, shows the last few messages and starts the live chat. Resolves
   * once it is live; `ended` resolves with the reason when the chat goes
   * offline for good (an error that retrying cannot fix). Rejects when the
   * server cannot be reached at all at start.
   */
  async start(): Promise<{ ended: Promise<string> }> {
    this.#view.setState({ kind: "connecting" });
    const greeting = await this.client.join();
    this.#view.show({ kind: "info", text: `Server: ${greeting}` });
    this.#limits = await this.#askLimits();
    const feed = this.#limits ? await this.#startLive(this.#limits) : await this.#startSeed();
    this.#feed = feed;
    const ready = Promise.withResolvers<void>();
    const ended = this.#consume(feed, ready.resolve);
    await Promise.race([ready.promise, ended]);
    return { ended };
  }

  /**
   * The server's limits: the first call of our API the client makes. A
   * server that answers it UNIMPLEMENTED speaks only the seed's protocol
   * (undefined).
   */
  async #askLimits(): Promise<ServerLimits | undefined> {
    try {
      return await this.client.serverInfo();
    } catch (error) {
      const e = ChatClientError.from(error);
      if (e.code === status.UNIMPLEMENTED) return undefined;
      throw e;
    }
  }

  async #startLive(limits: ServerLimits): Promise<LiveChat> {
    await this.#refreshSelf();
    const room = this.#options.room ?? limits.defaultRoom;
    this.#tabs.open(room, `#${room}`, true);
    this.#publishTabs();
    const newest = await this.#history.show(room, HISTORY_ON_START);
    this.#live = new LiveChat(this.client, {
      // After the messages just shown, so none is missed or shown twice;
      // conversations already had go on from their newest message.
      rooms: [{ room, resumeAfterId: newest }, ...(await this.#directRooms())],
      ...(this.#options.backoff ? { backoff: this.#options.backoff } : {}),
    });
    return this.#live;
  }

  /** The seed's protocol: its one room, its history, its stream. */
  async #startSeed(): Promise<SeedChat> {
    this.#seedOnly = true;
    this.client.switchToSeedChannel();
    this.#info(SEED_NOTICE);
    this.#self = { userId: this.client.userId, username: this.client.username };
    this.#tabs.open(DEFAULT_ROOM, `#${DEFAULT_ROOM}`, true);
    this.#publishTabs();
    await this.#history.show(DEFAULT_ROOM, HISTORY_ON_START);
    return new SeedChat(
      this.client,
      this.#options.backoff ? { backoff: this.#options.backoff } : {},
    );
  }

  /** Shows the chat's events; resolves with the reason when it goes offline for good. */
  async #consume(live: LiveFeed, onLive: () => void): Promise<string> {
    for await (const event of live) {
      if (event.type === "state") {
        this.#view.setState(event.state);
        if (event.state.kind === "live") onLive();
        if (event.state.kind === "offline") return event.state.reason;
        continue;
      }
      this.#display.event(event);
    }
    return "The chat was closed.";
  }

  /** Handles one typed line. Resolves to false when the user asked to leave. */
  input(line: string): Promise<boolean> {
    return this.#commands.input(line);
  }

  /** Loads the page of the shown room's history before its oldest message shown (Page Up). */
  loadOlder(): Promise<void> {
    return this.#history.loadOlder(this.#tabs.current);
  }

  /**
   * Leaves: waits briefly for sends the server has not stored yet (saying
   * how many were lost if it cannot), then ends the chat.
   */
  async quit(): Promise<void> {
    const feed = this.#feed;
    this.#reads.close();
    this.#notifier.close();
    if (this.#shownRoom !== "") this.#typing.stopped(this.#shownRoom);
    if (feed) {
      const unsent = await feed.settle(SETTLE_ON_QUIT_MS);
      if (unsent > 0) this.#error(`${unsent} messages could not be sent before leaving.`);
      await feed.close();
    }
    this.client.close();
  }

  #info(text: string): void {
    this.#view.show({ kind: "info", text });
  }

  #error(text: string): void {
    this.#view.show({ kind: "error", text });
  }

  /** The user's direct-message rooms, as tabs behind the one shown. */
  async #directRooms(): Promise<{ room: string; resumeAfterId: number }[]> {
    try {
      const { rooms } = await this.client.listRooms({ pageSize: 1000 });
      const direct = rooms.filter((r) => r.peer !== undefined);
      for (const r of direct) this.#tabs.open(r.room, `@${r.peer?.username || "…"}`, false);
      this.#reads.take(rooms);
      this.#publishTabs();
      return direct.map((r) => ({ room: r.room, resumeAfterId: r.lastId }));
    } catch {
      // Without the list the client still gets each new direct message as it comes.
      return [];
    }
  }

  #publishTabs(): void {
    const current = this.#tabs.current;
    if (current !== this.#shownRoom) {
      if (this.#shownRoom !== "") this.#typing.stopped(this.#shownRoom);
      this.#shownRoom = current;
      this.#reads.shown(current);
    }
    this.#notifier.tabsChanged();
    this.#view.setRooms(
      this.#tabs.list(),
      this.#tabs.current,
      this.#self.username || this.client.username,
    );
  }

  /** A sent line of ours: held for /edit and Up once stored; a reply shows what it answers. */
  #showOwn(item: DisplayItem): void {
    if (item.kind !== "sent") {
      this.#view.show(item);
      return;
    }
    if (!item.pending) this.#messages.index.record(item.line);
    const quote = this.#messages.quoteFor(item.line);
    this.#view.show(quote ? { ...item, quote } : item);
  }

  /** A room's kind and staff, so the room_updated events that follow say only what changed. */
  #learnRoom(room: string): void {
    const asked = this.#known.ask(room);
    this.client.governance.getRoom(room).then(
      (settings) => this.#known.learn(settings, asked),
      // Unknown, a room is taken to be as rooms start: public and open.
      () => {},
    );
  }

  #inRoom(): boolean {
    if (this.#tabs.current !== "") return true;
    this.#error("You are in no room: /join one.");
    return false;
  }

  /** Who we chat as: asked at start and after every login or logout. */
  async #refreshSelf(): Promise<void> {
    const me = await this.client.whoAmI();
    this.#self = { userId: me.userId, username: me.username };
    this.#publishTabs();
  }
}
