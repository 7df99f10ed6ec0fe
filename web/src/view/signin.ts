import { type ChatClient, failure } from "../api.ts";
import type { ServerInfoSource } from "../server-info.ts";
import { newGuestSecret, type Session } from "../storage.ts";
import { byId } from "./dom.ts";

type Action = "guest" | "login" | "register";

/**
 * The sign-in form: a guest name, or an account's name and password. Calls
 * `enter` with the session once the server has given a token (guests are
 * checked by their first Subscribe, which is where a name is taken).
 */
export class SignInView {
  readonly #client: ChatClient;
  readonly #serverInfo: ServerInfoSource;
  readonly #form = byId<HTMLFormElement>("signin");
  readonly #name = byId<HTMLInputElement>("name");
  readonly #password = byId<HTMLInputElement>("password");
  readonly #error = byId("signin-error");
  readonly #enter: (session: Session) => void;
  #busy = false;

  constructor(serverInfo: ServerInfoSource, client: ChatClient, enter: (session: Session) => void) {
    this.#serverInfo = serverInfo;
    this.#client = client;
    this.#enter = enter;
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
      void this.#submit((submitter?.value ?? this.#byEnter()) as Action);
    });
    // Enter would submit with the first button (Join as guest); it means what was typed.
    this.#form.addEventListener("keydown", (event) => {
      if (
        event.key !== "Enter" ||
        event.isComposing ||
        !(event.target instanceof HTMLInputElement)
      ) {
        return;
      }
      event.preventDefault();
      void this.#submit(this.#byEnter());
    });
  }

  /** Log in when a password was typed (or guests are not allowed), else join as a guest. */
  #byEnter(): Action {
    return this.#password.value !== "" || byId("guest").hidden ? "login" : "guest";
  }

  show(reason: string, name = ""): void {
    byId("signin-view").hidden = false;
    byId("chat-view").hidden = true;
    this.#error.textContent = reason;
    if (name !== "") this.#name.value = name;
    this.#password.value = "";
    this.#name.focus();
    void this.#probe();
  }

  hide(): void {
    byId("signin-view").hidden = true;
    byId("chat-view").hidden = false;
  }

  /** The server's rules for names, and whether guests may chat (no guest button then). */
  async #probe(): Promise<void> {
    let required = false;
    try {
      const info = await this.#serverInfo.get();
      required = info.accountsRequired;
      if (info.maxNameChars > 0) this.#name.maxLength = info.maxNameChars;
    } catch {
      // Unreachable for now: the form stays as it is, and signing in says what is wrong.
    }
    byId<HTMLButtonElement>("guest").hidden = required;
    byId("signin-hint").textContent = required
      ? "This server requires an account: log in, or register one."
      : "Pick a name to chat as a guest, or use an account.";
  }

  async #submit(action: Action): Promise<void> {
    if (this.#busy) return;
    const name = this.#name.value.trim();
    const password = this.#password.value;
    if (name === "") {
      this.#error.textContent = "Type a name first.";
      this.#name.focus();
      return;
    }
    if (action === "guest") {
      this.#enter({ kind: "guest", secret: newGuestSecret(), name });
      return;
    }
    if (password === "") {
      this.#error.textContent = "Type your password (8 characters or more to register).";
      this.#password.focus();
      return;
    }
    this.#busy = true;
    this.#error.textContent = action === "login" ? "Logging in…" : "Registering…";
    try {
      const credentials = { username: name, password };
      const token =
        action === "login"
          ? await this.#client.login(credentials, { timeoutMs: 15_000 })
          : await this.#client.register(credentials, { timeoutMs: 15_000 });
      this.#error.textContent = "";
      this.#password.value = "";
      this.#enter({ kind: "account", token: token.token, name: token.username });
    } catch (error) {
      this.#error.textContent = failure(error).text;
    } finally {
      this.#busy = false;
    }
  }
}
