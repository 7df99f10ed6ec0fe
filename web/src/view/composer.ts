import { plainSnippet } from "../../../src/client/markup.ts";
import type { ChatModel } from "../model/chat-model.ts";
import type { Line } from "../model/lines.ts";
import type { Block } from "../model/moderation.ts";
import { because, untilText } from "../model/moderation-notices.ts";
import { typingLine } from "../model/typing.ts";
import { byId, el } from "./dom.ts";
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
  readonly #status = byId("composer-status");
  readonly #sendButton = byId<HTMLButtonElement>("send");
  #block: Block | undefined;
  /** What the line was drawn from, so it is rewritten (and announced) only when that changes. */
  #blockKey: string | undefined;
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
    this.#drawBlock(this.#model.moderation.block(this.#model.current));
  }

  /** Closed while the user may not post here: the line above says why, and until when. */
  #drawBlock(block: Block | undefined): void {
    const room = this.#model.current;
    const key = `${room}:${JSON.stringify(block ?? null)}`;
    if (this.#blockKey === key) return;
    this.#blockKey = key;
    this.#block = block;
    const blocked = block !== undefined;
    this.#text.disabled = blocked;
    this.#sendButton.disabled = blocked;
    this.#status.dataset.block = block?.kind ?? "";
    this.#status.replaceChildren(...(block ? blockLine(block, room) : []));
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
    if (this.#block !== undefined) return;
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

/** The sentence above a closed composer, with the time it ends as a <time>. */
function blockLine(block: Block, room: string): (Node | string)[] {
  const until = (ms: number): (Node | string)[] => {
    if (ms === 0) return [untilText(0)];
    const time = el("time", "", untilText(ms).replace(/^until /, ""));
    time.dateTime = new Date(ms).toISOString();
    time.title = new Date(ms).toLocaleString();
    return ["until ", time];
  };
  switch (block.kind) {
    case "removed": {
      const { sanction } = block;
      if (sanction.kind === "kick") {
        return [
          `${sanction.by} removed you from ${room}.${because(sanction.reason)} Open it in the room list to join again.`,
        ];
      }
      return [
        `You are banned from ${room} `,
        ...until(sanction.untilMs),
        `.${because(sanction.reason)}`,
      ];
    }
    case "left":
      return [`You are not in ${room}: open it in the room list to join again.`];
    case "muted":
      return [
        `You are muted in ${room} `,
        ...until(block.sanction.untilMs),
        `: you can read, but not post.${because(block.sanction.reason)}`,
      ];
    case "read-only":
      return [`${room} is read-only: only its moderators post.`];
  }
}
