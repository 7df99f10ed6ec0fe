import {
  type ChatClient,
  ChatClientError,
  type ChatLine,
  type ChatSession,
} from "../client/chat-client.ts";
import { HELP, parseCommand } from "./commands.ts";

/** One thing for a view to show. */
export type DisplayItem =
  | { readonly kind: "message"; readonly line: ChatLine }
  /** A message the user just sent, now stored. */
  | { readonly kind: "sent"; readonly line: ChatLine }
  | { readonly kind: "info"; readonly text: string }
  | { readonly kind: "error"; readonly text: string };

export type ConnectionState = "connecting" | "online" | "offline";

/** What a view (line mode, full screen) gives the controller. */
export interface ChatView {
  show(item: DisplayItem): void;
  setState(state: ConnectionState): void;
}

const HISTORY_ON_START = 5;

/**
 * The terminal client's behaviour, shared by both of its views: joining,
 * the commands, batch mode and the live session. Views only draw.
 */
export class ChatController {
  readonly client: ChatClient;
  readonly #view: ChatView;
  #session: ChatSession | undefined;
  #room = "";
  #batch: string[] | undefined;
  #quitting = false;

  constructor(client: ChatClient, view: ChatView) {
    this.client = client;
    this.#view = view;
  }

  /**
   * Joins, shows the last few messages, opens the live session. Resolves once
   * the session is live; `ended` resolves when it ends.
   */
  async start(): Promise<{ ended: Promise<ChatClientError | undefined> }> {
    this.#view.setState("connecting");
    const greeting = await this.client.join();
    this.#view.show({ kind: "info", text: `Server: ${greeting}` });
    await this.#showHistory(HISTORY_ON_START);
    const session = this.client.openSession();
    this.#session = session;
    const live = Promise.withResolvers<void>();
    void this.#show(session, live.resolve);
    const ended = session.ended.then((error) => {
      this.#view.setState("offline");
      if (error && !this.#quitting)
        this.#view.show({ kind: "error", text: `Disconnected: ${error.message}` });
      return error;
    });
    await live.promise;
    return { ended };
  }

  /** Shows the session's events until it ends; `onLive` once replay is done (or it ended first). */
  async #show(session: ChatSession, onLive: () => void): Promise<void> {
    for await (const event of session) {
      if (event.type === "welcome") {
        this.#room = event.room;
      } else if (event.type === "caught_up") {
        this.#view.setState("online");
        onLive();
      } else if (event.type === "message") {
        this.#view.show({ kind: "message", line: event.message });
      } else if (event.type === "notice") {
        this.#view.show({ kind: "info", text: `Server: ${event.text}` });
      }
    }
    onLive();
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
        await this.#send(command.text);
        return true;
      case "history":
        await this.#showHistory(command.count);
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

  /** Leaves: ends the session and waits (briefly) for the server to confirm. */
  async quit(): Promise<void> {
    this.#quitting = true;
    const session = this.#session;
    if (session) {
      session.close();
      await Promise.race([
        session.ended,
        new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
      ]);
    }
    this.client.close();
  }

  #info(text: string): void {
    this.#view.show({ kind: "info", text });
  }

  async #send(text: string): Promise<void> {
    const session = this.#session;
    if (!session) return;
    try {
      const ack = await session.send(text);
      this.#view.show({
        kind: "sent",
        line: {
          room: this.#room,
          id: ack.id,
          timeMs: ack.timeMs,
          userId: this.client.userId,
          username: this.client.username,
          text,
          system: false,
        },
      });
    } catch (error) {
      this.#view.show({ kind: "error", text: `Not sent: ${ChatClientError.from(error).message}` });
    }
  }

  async #showHistory(count: number): Promise<void> {
    try {
      const { messages } = await this.client.history({ limit: count, includeSystem: true });
      this.#info(messages.length === 0 ? "No messages yet." : `Last ${messages.length} messages:`);
      for (const line of messages) {
        this.#view.show({ kind: "message", line });
      }
    } catch (error) {
      this.#view.show({
        kind: "error",
        text: `History failed: ${ChatClientError.from(error).message}`,
      });
    }
  }

  async #sendBatch(texts: string[]): Promise<void> {
    if (texts.length === 0) {
      this.#info("Batch closed: nothing to send.");
      return;
    }
    try {
      const { summary } = await this.client.sendBatch(texts);
      this.#info(`Server: ${summary}`);
    } catch (error) {
      this.#view.show({
        kind: "error",
        text: `Batch not sent: ${ChatClientError.from(error).message}`,
      });
    }
  }

  async #ping(): Promise<void> {
    try {
      const ms = await this.client.ping();
      this.#info(`Pong in ${ms.toFixed(1)} ms`);
    } catch (error) {
      this.#view.show({
        kind: "error",
        text: `Ping failed: ${ChatClientError.from(error).message}`,
      });
    }
  }
}
