import { plainSnippet } from "../../../src/client/markup.ts";
import type { ChatModel } from "../model/chat-model.ts";
import type { Line } from "../model/lines.ts";
import { typingLine } from "../model/typing.ts";
import { byId } from "./dom.ts";
import type { MessageList } from "./messages.ts";

const SNIPPET_CHARS = 60;

/**
 * Where the user writes: Enter sends (Shift+Enter a new line), Up in an
 * empty composer edits their last message, the message being answered shown
 * above it, who else is typing above that, and SetTyping while they type.
 */
export class Composer {
  readonly #model: ChatModel;
  readonly #messages: MessageList;
  readonly #text = byId<HTMLTextAreaElement>("text");
  readonly #replyBar = byId("reply-bar");
  readonly #replyText = byId("reply-text");
  readonly #typing = byId("typing");
  #replyTo: { readonly room: string; readonly line: Line } | undefined;

  constructor(model: ChatModel, messages: MessageList, signal: AbortSignal) {
    this.#model = model;
    this.#messages = messages;
    byId("composer").addEventListener(
      "submit",
      (event) => {
        event.preventDefault();
        this.#send();
      },
      { signal },
    );
    this.#text.addEventListener("keydown", (event) => this.#key(event), { signal });
    this.#text.addEventListener(
      "input",
      () => model.typing.typed(model.current, this.#text.value),
      {
        signal,
      },
    );
    byId("reply-cancel").addEventListener("click", () => this.cancelReply(), { signal });
  }

  focus(): void {
    this.#text.focus();
  }

  clear(): void {
    this.#text.value = "";
    this.#replyTo = undefined;
    this.render();
  }

  /** Answers `line`: the composer says so until it is sent or cancelled. */
  reply(line: Line): void {
    this.#replyTo = { room: this.#model.current, line };
    this.render();
    this.focus();
  }

  cancelReply(): void {
    this.#replyTo = undefined;
    this.render();
    this.focus();
  }

  render(): void {
    const replying = this.#replyTo?.room === this.#model.current ? this.#replyTo.line : undefined;
    this.#replyBar.hidden = replying === undefined;
    this.#replyText.textContent = replying
      ? `Replying to ${replying.username}: ${plainSnippet(replying.text, SNIPPET_CHARS)}`
      : "";
    this.#typing.textContent = typingLine(this.#model.typing.names(this.#model.current));
  }

  #key(event: KeyboardEvent): void {
    if (event.isComposing) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.#send();
    } else if (event.key === "Escape" && this.#replyTo !== undefined) {
      event.preventDefault();
      this.cancelReply();
    } else if (
      event.key === "ArrowUp" &&
      this.#text.value === "" &&
      !event.shiftKey &&
      !event.altKey &&
      !event.ctrlKey &&
      !event.metaKey
    ) {
      const last = this.#messages.lastOwn();
      if (last === undefined) return;
      event.preventDefault();
      this.#messages.startEdit(last.id, this.#text);
    }
  }

  #send(): void {
    const text = this.#text.value;
    if (text.trim() === "") return;
    const replying = this.#replyTo?.room === this.#model.current ? this.#replyTo.line : undefined;
    try {
      this.#model.send(text, replying?.id ?? 0);
    } catch (error) {
      // What was typed stays, to be shortened or sent once the page is in a room.
      this.#model.notice(this.#model.current, (error as Error).message);
      return;
    }
    this.#text.value = "";
    if (replying) this.#replyTo = undefined;
    this.render();
  }
}
