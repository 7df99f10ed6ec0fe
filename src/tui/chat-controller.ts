import type { BackoffOptions } from "../client/backoff.ts";
import { type ChatClient, ChatClientError, type ChatLine } from "../client/chat-client.ts";
import { type ConnectionState, LiveChat } from "../client/live-chat.ts";
import { DEFAULT_ROOM } from "../core/types.ts";
import { HELP, parseCommand } from "./commands.ts";
import { EventDisplay } from "./event-display.ts";
import { RoomCommands } from "./room-commands.ts";
import { type RoomTab, RoomTabs } from "./room-tabs.ts";

export type { ConnectionState } from "../client/live-chat.ts";
export type { RoomTab } from "./room-tabs.ts";

/** One thing for a view to show. */
export type DisplayItem =
  /** A message; `mention` when it names the user. */
  | { readonly kind: "message"; readonly line: ChatLine; readonly mention?: boolean }
  /**
   * A message the user sent: `pending` until the server has stored it. The
   * same `key` comes again once it is stored, to replace the pending one.
   */
  | {
      readonly kind: "sent";
      readonly key: string;
      readonly line: ChatLine;
      readonly pending: boolean;
    }
  /** About one room when `room` is set (shown with it), else about the chat. */
  | { readonly kind: "info"; readonly text: string; readonly room?: string }
  | { readonly kind: "error"; readonly text: string; readonly room?: string };

/** The room an item belongs to; undefined for one about the whole chat. */
export function itemRoom(item: DisplayItem): string | undefined {
  return item.kind === "message" || item.kind === "sent" ? item.line.room : item.room;
}

/** What a view (line mode, full screen) gives the controller. */
export interface ChatView {
  show(item: DisplayItem): void;
  setState(state: ConnectionState): void;
  /** Older messages, to go above everything shown (full screen's Page Up). */
  prepend?(items: readonly DisplayItem[]): void;
  /** Reads a password without showing it; undefined when the user cancels. */
  askSecret(prompt: string): Promise<string | undefined>;
  /** The open rooms, in order, the one shown, and the name we chat under. */
  setRooms(rooms: readonly RoomTab[], current: string, username: string): void;
}

export interface ChatControllerOptions {
  readonly backoff?: Partial<BackoffOptions>;
  /** A login gave a new token (undefined: logged out): keep it for next time. */
  readonly onToken?: (token: string | undefined) => void;
  /** The room to show first. Default "lobby". */
  readonly room?: string;
}

const HISTORY_ON_START = 5;
const OLDER_PAGE = 50;
/** How long leaving waits for sends the server has not stored yet. */
const SETTLE_ON_QUIT_MS = 5_000;

/**
 * The terminal client's behaviour, shared by both of its views: joining,
 * the commands, batch mode and the live chat, which reconnects by itself.
 * Views only draw.
 */
export class ChatController {
  readonly client: ChatClient;
  readonly #view: ChatView;
  readonly #options: ChatControllerOptions;
  #live: LiveChat | undefined;
  #batch: string[] | undefined;
  #sentCount = 0;
  readonly #tabs = new RoomTabs();
  readonly #display: EventDisplay;
  readonly #rooms: RoomCommands;
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
      showHistory: (room, count) => this.#showHistory(room, count),
      send: (text, room) => this.#send(text, room),
    });
    this.#display = new EventDisplay({
      tabs: this.#tabs,
      self: () => this.#self,
      show: (item) => this.#view.show(item),
      tabsChanged: () => this.#publishTabs(),
      lookUpPeer: (room) => void this.#rooms.lookUpPeer(room),
    });
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
    await this.#refreshSelf();
    const room = this.#options.room ?? DEFAULT_ROOM;
    this.#tabs.open(room, `#${room}`, true);
    this.#publishTabs();
    const newest = await this.#showHistory(room, HISTORY_ON_START);
    const live = new LiveChat(this.client, {
      // After the messages just shown, so none is missed or shown twice;
      // conversations already had go on from their newest message.
      rooms: [{ room, resumeAfterId: newest }, ...(await this.#directRooms())],
      ...(this.#options.backoff ? { backoff: this.#options.backoff } : {}),
    });
    this.#live = live;
    const ready = Promise.withResolvers<void>();
    const ended = this.#consume(live, ready.resolve);
    await Promise.race([ready.promise, ended]);
    return { ended };
  }

  /** Shows the chat's events; resolves with the reason when it goes offline for good. */
  async #consume(live: LiveChat, onLive: () => void): Promise<string> {
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
  async input(line: string): Promise<boolean> {
    const command = parseCommand(line);
    if (this.#batch !== undefined) {
      if (command.kind === "end") {
        await this.#sendBatch(this.#batch);
        this.#batch = undefined;
      } else if (command.kind !== "empty") {
        this.#batch.push(command.kind === "message" ? command.text : line);
      }
      return true;
    }
    switch (command.kind) {
      case "empty":
        return true;
      case "message":
        this.#send(command.text);
        return true;
      case "history":
        if (this.#inRoom()) await this.#showHistory(this.#tabs.current, command.count);
        return true;
      case "join":
      case "leave":
      case "switch":
      case "rooms":
      case "who":
      case "topic":
      case "msg":
        await this.#rooms.run(command);
        return true;
      case "batch":
        this.#batch = [];
        this.#info("Batch mode: type messages, then /end to send them in one call.");
        return true;
      case "end":
        this.#info("/end closes a /batch; there is none open.");
        return true;
      case "ping":
        await this.#ping();
        return true;
      case "register":
      case "login":
        await this.#signIn(command.kind, command.name ?? this.client.username);
        return true;
      case "logout":
        await this.#account("Logged out; you chat as a guest again.", () => this.client.logout());
        return true;
      case "whoami": {
        await this.#account("", async () => {
          const me = await this.client.whoAmI();
          const what = me.account ? "an account" : "a guest";
          this.#info(`You are ${me.username || "(no name yet)"}, ${what}, public id ${me.userId}.`);
        });
        return true;
      }
      case "help":
        for (const text of HELP) this.#info(text);
        return true;
      case "usage":
        this.#info(command.text);
        return true;
      case "quit":
        return false;
    }
  }

  /** Loads the page of the shown room's history before its oldest message shown (Page Up). */
  async loadOlder(): Promise<void> {
    const room = this.#tabs.current;
    const { oldestId, exhausted } = this.#tabs.older(room);
    if (exhausted || !this.#view.prepend) return;
    try {
      const { messages, hasMore } = await this.client.history({
        room,
        limit: OLDER_PAGE,
        includeSystem: true,
        ...(oldestId > 0 ? { beforeId: oldestId } : {}),
      });
      const items: DisplayItem[] = messages.map((line) => ({ kind: "message", line }));
      if (!hasMore) {
        this.#tabs.exhausted(room);
        items.unshift({ kind: "info", room, text: "The beginning of the history." });
      }
      for (const line of messages) this.#tabs.noteShown(room, line.id);
      this.#view.prepend(items);
    } catch (error) {
      this.#error(`Older messages failed: ${ChatClientError.from(error).message}`);
    }
  }

  /**
   * Leaves: waits briefly for sends the server has not stored yet (saying
   * how many were lost if it cannot), then ends the chat.
   */
  async quit(): Promise<void> {
    const live = this.#live;
    if (live) {
      const unsent = await live.settle(SETTLE_ON_QUIT_MS);
      if (unsent > 0) this.#error(`${unsent} messages could not be sent before leaving.`);
      await live.close();
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
      this.#publishTabs();
      return direct.map((r) => ({ room: r.room, resumeAfterId: r.lastId }));
    } catch {
      // Without the list the client still gets each new direct message as it comes.
      return [];
    }
  }

  #publishTabs(): void {
    this.#view.setRooms(
      this.#tabs.list(),
      this.#tabs.current,
      this.#self.username || this.client.username,
    );
  }

  #inRoom(): boolean {
    if (this.#tabs.current !== "") return true;
    this.#error("You are in no room: /join one.");
    return false;
  }

  /** Queued with the live chat, which sends it now or once reconnected; shown pending until stored. */
  #send(text: string, room = this.#tabs.current): void {
    const live = this.#live;
    if (!live || !this.#inRoom()) return;
    const key = `sent-${this.#sentCount++}`;
    const line = (id: number, timeMs: number): ChatLine => ({
      room,
      id,
      timeMs,
      userId: this.#self.userId,
      username: this.#self.username || this.client.username,
      text,
      system: false,
      clientMsgId: "",
    });
    this.#view.show({ kind: "sent", key, line: line(0, Date.now()), pending: true });
    live.send(text, room).then(
      (ack) =>
        this.#view.show({ kind: "sent", key, line: line(ack.id, ack.timeMs), pending: false }),
      (error) => this.#error(`Not sent: ${ChatClientError.from(error).message}`),
    );
  }

  /** Shows a room's newest `count` messages; resolves to the newest id shown (0: none; undefined: failed). */
  async #showHistory(room: string, count: number): Promise<number | undefined> {
    try {
      const { messages } = await this.client.history({ room, limit: count, includeSystem: true });
      const text = messages.length === 0 ? "No messages yet." : `Last ${messages.length} messages:`;
      this.#view.show({ kind: "info", room, text });
      for (const line of messages) this.#display.message(line);
      return messages.at(-1)?.id ?? 0;
    } catch (error) {
      this.#error(`History failed: ${ChatClientError.from(error).message}`);
      return undefined;
    }
  }

  async #sendBatch(texts: string[]): Promise<void> {
    if (texts.length === 0) {
      this.#info("Batch closed: nothing to send.");
      return;
    }
    // The seed's SendMessages writes to the lobby only; elsewhere the lines go one by one, in order.
    if (this.#tabs.current !== DEFAULT_ROOM) {
      for (const text of texts) this.#send(text);
      return;
    }
    try {
      const { summary } = await this.client.sendBatch(texts);
      this.#info(`Server: ${summary}`);
    } catch (error) {
      this.#error(`Batch not sent: ${ChatClientError.from(error).message}`);
    }
  }

  async #signIn(kind: "register" | "login", name: string): Promise<void> {
    const password = await this.#view.askSecret(`Password for ${name}: `);
    if (password === undefined || password === "") {
      this.#info("Cancelled.");
      return;
    }
    const done =
      kind === "register" ? `Registered and logged in as ${name}.` : `Logged in as ${name}.`;
    await this.#account(done, () => this.client[kind](name, password));
  }

  /** Runs an account call; on success the chat goes on as whoever the client now is. */
  async #account(done: string, call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.#error(ChatClientError.from(error).message);
      return;
    }
    this.#options.onToken?.(this.client.token);
    if (done) this.#info(done);
    if (done && this.#live) {
      await this.#live.settle(SETTLE_ON_QUIT_MS);
      this.#live.renew();
      await this.#refreshSelf().catch(() => {});
    }
  }

  /** Who we chat as: asked at start and after every login or logout. */
  async #refreshSelf(): Promise<void> {
    const me = await this.client.whoAmI();
    this.#self = { userId: me.userId, username: me.username };
    this.#publishTabs();
  }

  async #ping(): Promise<void> {
    try {
      const ms = await this.client.ping();
      this.#info(`Pong in ${ms.toFixed(1)} ms`);
    } catch (error) {
      this.#error(`Ping failed: ${ChatClientError.from(error).message}`);
    }
  }
}
