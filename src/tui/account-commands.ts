import { type ChatClient, ChatClientError } from "../client/chat-client.ts";
import type { LiveChat } from "../client/live-chat.ts";
import type { Command } from "./commands.ts";

/** What the account commands need of the controller. */
export interface AccountContext {
  readonly client: ChatClient;
  live(): LiveChat | undefined;
  info(text: string): void;
  error(text: string): void;
  /** Reads a password without showing it; undefined when the user cancels. */
  askSecret(prompt: string): Promise<string | undefined>;
  /** A login gave a new token (undefined: logged out). */
  tokenChanged(token: string | undefined): void;
  /** Asks the server who we are now. */
  refreshSelf(): Promise<void>;
}

/** How long a login waits for sends made as the previous user. */
const SETTLE_MS = 5_000;

/** The terminal client's account commands: /register, /login, /logout, /whoami. */
export class AccountCommands {
  readonly #ctx: AccountContext;

  constructor(ctx: AccountContext) {
    this.#ctx = ctx;
  }

  async run(command: Extract<Command, { kind: "register" | "login" | "logout" | "whoami" }>) {
    const ctx = this.#ctx;
    switch (command.kind) {
      case "register":
      case "login":
        return this.#signIn(command.kind, command.name ?? ctx.client.username);
      case "logout":
        return this.#account("Logged out; you chat as a guest again.", () => ctx.client.logout());
      case "whoami":
        return this.#account("", async () => {
          const me = await ctx.client.whoAmI();
          const what = me.account ? "an account" : "a guest";
          ctx.info(`You are ${me.username || "(no name yet)"}, ${what}, public id ${me.userId}.`);
        });
    }
  }

  async #signIn(kind: "register" | "login", name: string): Promise<void> {
    const ctx = this.#ctx;
    const password = await ctx.askSecret(`Password for ${name}: `);
    if (password === undefined || password === "") {
      ctx.info("Cancelled.");
      return;
    }
    const done =
      kind === "register" ? `Registered and logged in as ${name}.` : `Logged in as ${name}.`;
    await this.#account(done, () => ctx.client[kind](name, password));
  }

  /** Runs an account call; on success the chat goes on as whoever the client now is. */
  async #account(done: string, call: () => Promise<unknown>): Promise<void> {
    const ctx = this.#ctx;
    try {
      await call();
    } catch (error) {
      ctx.error(ChatClientError.from(error).message);
      return;
    }
    ctx.tokenChanged(ctx.client.token);
    if (done) ctx.info(done);
    const live = ctx.live();
    if (done && live) {
      await live.settle(SETTLE_MS);
      live.renew();
      await ctx.refreshSelf().catch(() => {});
    }
  }
}
