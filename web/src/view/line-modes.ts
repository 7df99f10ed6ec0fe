import { deleteMessage, editMessage, react } from "../model/actions.ts";
import type { ChatModel } from "../model/chat-model.ts";
import type { Line } from "../model/lines.ts";
import { el } from "./dom.ts";

/** A message being edited in place, or waiting for its deletion to be confirmed. */
export interface Mode {
  readonly id: number;
  readonly kind: "edit" | "delete";
  /** Gets focus when the mode ends (the composer, for an edit begun by Up). */
  readonly back: HTMLElement | undefined;
  /** The editor's text, kept across redraws of the message. */
  draft: string | undefined;
  error: string;
}

export interface LineModesHost {
  redraw(): void;
  element(id: number): HTMLElement | undefined;
  notice(text: string): void;
}

/**
 * Edit and delete on a shown message: the inline editor (Enter saves, Escape
 * cancels, Shift+Enter a new line) and the confirmation before a delete.
 * One at a time; the message is drawn in its mode until it ends.
 */
export class LineModes {
  readonly #model: ChatModel;
  readonly #host: LineModesHost;
  #mode: Mode | undefined;
  #focus = false;

  constructor(model: ChatModel, host: LineModesHost) {
    this.#model = model;
    this.#host = host;
  }

  of(id: number): Mode | undefined {
    return this.#mode?.id === id ? this.#mode : undefined;
  }

  start(id: number, kind: Mode["kind"], back: HTMLElement | undefined): void {
    this.#mode = { id, kind, back, draft: undefined, error: "" };
    this.#focus = true;
    this.#host.redraw();
  }

  /** Leaves the mode without doing anything (another room was opened). */
  cancel(): void {
    this.#mode = undefined;
  }

  /** Draws the mode into its message's element: the editor in place of the text, or the question. */
  decorate(element: HTMLElement, line: Line): void {
    const mode = this.of(line.id);
    if (mode === undefined) return;
    element.classList.add(mode.kind === "edit" ? "editing" : "confirming");
    element.querySelector(":scope > .actions")?.remove();
    if (mode.kind === "edit")
      element.querySelector(":scope > .text")?.replaceWith(this.#editor(mode, line));
    else element.append(this.#confirm(mode, line));
  }

  /** After a redraw that started a mode: its first control takes focus. */
  focusPending(): void {
    if (!this.#focus || this.#mode === undefined) return;
    this.#focus = false;
    const element = this.#host.element(this.#mode.id);
    const target = element?.querySelector<HTMLElement>(".edit-box, .confirm-cancel");
    if (target === undefined || target === null) return;
    target.focus();
    if (target instanceof HTMLTextAreaElement) {
      target.setSelectionRange(target.value.length, target.value.length);
    }
  }

  react(line: Line, emoji: string, remove: boolean): void {
    const room = this.#model.current;
    react(this.#model, room, line.id, emoji, remove).catch((error: unknown) =>
      this.#host.notice((error as Error).message),
    );
  }

  #end(mode: Mode): void {
    if (this.#mode !== mode) return;
    this.#mode = undefined;
    this.#host.redraw();
    const back = mode.back ?? this.#host.element(mode.id)?.querySelector<HTMLElement>(".actions");
    back?.focus();
  }

  #editor(mode: Mode, line: Line): HTMLElement {
    const box = el("div", "editor");
    const textarea = el("textarea", "edit-box");
    textarea.value = mode.draft ?? line.text;
    textarea.rows = Math.min(8, textarea.value.split("\n").length);
    textarea.setAttribute("aria-label", "Edit message");
    textarea.addEventListener("input", () => {
      mode.draft = textarea.value;
    });
    const hint = el("div", "edit-hint", "Enter saves · Escape cancels");
    const error = el("div", "error", mode.error);
    error.setAttribute("role", "alert");
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.#end(mode);
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        const text = textarea.value;
        if (text === line.text) {
          this.#end(mode);
          return;
        }
        textarea.disabled = true;
        editMessage(this.#model, line.room, line.id, text).then(
          () => this.#end(mode),
          (failure: unknown) => {
            textarea.disabled = false;
            mode.error = (failure as Error).message;
            error.textContent = mode.error;
            textarea.focus();
          },
        );
      }
    });
    box.append(textarea, hint, error);
    return box;
  }

  #confirm(mode: Mode, line: Line): HTMLElement {
    const box = el("div", "confirm");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Delete this message?");
    const question = el("span", "", "Delete this message? This cannot be undone.");
    const yes = el("button", "confirm-delete", "Delete");
    yes.type = "button";
    const no = el("button", "confirm-cancel", "Cancel");
    no.type = "button";
    yes.addEventListener("click", () => {
      yes.disabled = true;
      deleteMessage(this.#model, line.room, line.id).then(
        () => this.#end(mode),
        (failure: unknown) => {
          this.#end(mode);
          this.#host.notice((failure as Error).message);
        },
      );
    });
    no.addEventListener("click", () => this.#end(mode));
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      event.stopPropagation();
      this.#end(mode);
    });
    box.append(question, yes, no);
    return box;
  }
}
