import type { Line } from "../model/lines.ts";
import { el } from "./dom.ts";

/** The reactions offered at a press; any other is typed as an emoji or a :name:. */
const COMMON_REACTIONS: readonly (readonly [string, string])[] = [
  ["👍", "thumbs up"],
  ["❤️", "heart"],
  ["😂", "laughing"],
  ["🎉", "party"],
  ["😮", "surprised"],
  ["😢", "sad"],
  ["👀", "eyes"],
  ["✅", "done"],
];

export interface MenuChoices {
  reply(line: Line): void;
  react(line: Line, emoji: string): void;
  edit(line: Line): void;
  delete(line: Line): void;
  report(line: Line): void;
  /** A moderator's actions on the message's sender. */
  moderate(line: Line): void;
}

/** What the user may do to a message besides replying and reacting. */
export interface MenuOffer {
  /** Their own: edit and delete. */
  readonly own: boolean;
  /** Someone else's, in a room with moderators to read a report. */
  readonly report: boolean;
  /** Someone else's, and the user moderates the room. */
  readonly moderate: boolean;
}

/**
 * One message's menu at a time (Reply, React, Edit and Delete on your own,
 * Report and a moderator's actions on others'), then its reaction picker: a
 * popup inside the message, moved through with the arrow keys, closed by
 * Escape (focus back on the button that opened it), by Tab or by a press
 * outside it.
 */
export class MessageMenu {
  readonly #choices: MenuChoices;
  #open: { popup: HTMLElement; button: HTMLButtonElement } | undefined;

  constructor(choices: MenuChoices, signal: AbortSignal) {
    this.#choices = choices;
    document.addEventListener(
      "pointerdown",
      (event) => {
        const open = this.#open;
        const target = event.target as Node;
        if (open && !open.popup.contains(target) && !open.button.contains(target)) this.close();
      },
      { signal },
    );
  }

  get isOpen(): boolean {
    return this.#open !== undefined;
  }

  /** Opens `line`'s menu by its button (pressed again: closes it). */
  toggle(line: Line, button: HTMLButtonElement, offer: MenuOffer): void {
    if (this.#open?.button === button) {
      this.close(true);
      return;
    }
    this.close();
    const menu = el("div", "message-menu");
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", `Actions for ${line.username}'s message`);
    const item = (label: string, act: () => void) => {
      const button = el("button", "", label);
      button.type = "button";
      button.setAttribute("role", "menuitem");
      button.tabIndex = -1;
      button.addEventListener("click", act);
      menu.append(button);
    };
    item("Reply", () => this.#choose(() => this.#choices.reply(line)));
    item("React…", () => this.#picker(line));
    if (offer.own) {
      item("Edit", () => this.#choose(() => this.#choices.edit(line)));
      item("Delete", () => this.#choose(() => this.#choices.delete(line)));
    }
    if (offer.report) item("Report…", () => this.#choose(() => this.#choices.report(line)));
    if (offer.moderate) {
      item(`Moderate ${line.username}…`, () => this.#choose(() => this.#choices.moderate(line)));
    }
    menu.addEventListener("keydown", (event) => this.#keys(event, "vertical"));
    this.#show(menu, button);
  }

  /** Closes whatever is open; `refocus` puts focus back on the message's button. */
  close(refocus = false): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    open.popup.remove();
    open.button.setAttribute("aria-expanded", "false");
    open.button.closest(".message")?.classList.remove("menu-open");
    if (refocus && open.button.isConnected) open.button.focus();
  }

  #show(popup: HTMLElement, button: HTMLButtonElement): void {
    button.after(popup);
    button.setAttribute("aria-expanded", "true");
    button.closest(".message")?.classList.add("menu-open");
    this.#open = { popup, button };
    this.#items(popup)[0]?.focus();
  }

  /** What the user chose is done after the menu has closed, so it may take focus. */
  #choose(choice: () => void): void {
    this.close();
    choice();
  }

  #picker(line: Line): void {
    const button = this.#open?.button;
    if (button === undefined) return;
    this.close();
    const picker = el("div", "reaction-picker");
    picker.setAttribute("role", "dialog");
    picker.setAttribute("aria-label", `React to ${line.username}'s message`);
    const row = el("div", "emoji-row");
    row.setAttribute("role", "toolbar");
    row.setAttribute("aria-label", "Common reactions");
    for (const [emoji, name] of COMMON_REACTIONS) {
      const choice = el("button", "emoji-choice", emoji);
      choice.type = "button";
      choice.setAttribute("aria-label", `React with ${emoji} (${name})`);
      choice.title = name;
      choice.addEventListener("click", () => this.#choose(() => this.#choices.react(line, emoji)));
      row.append(choice);
    }
    row.addEventListener("keydown", (event) => this.#keys(event, "horizontal"));
    const form = el("form", "emoji-name");
    const input = el("input");
    input.setAttribute("aria-label", "Or type an emoji or a :name:");
    input.placeholder = ":name: or emoji";
    input.autocomplete = "off";
    const add = el("button", "", "React");
    add.type = "submit";
    form.append(input, add);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const typed = input.value.trim();
      if (typed !== "") this.#choose(() => this.#choices.react(line, typed));
    });
    picker.append(row, form);
    picker.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.close(true);
      }
    });
    this.#show(picker, button);
  }

  #items(popup: HTMLElement): HTMLButtonElement[] {
    return [...popup.querySelectorAll<HTMLButtonElement>("[role=menuitem], .emoji-choice")];
  }

  /** Arrow keys move through the items (wrapping), Home and End to the ends, Escape and Tab close. */
  #keys(event: KeyboardEvent, direction: "vertical" | "horizontal"): void {
    const open = this.#open;
    if (open === undefined) return;
    const items = this.#items(open.popup);
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    const [back, forward] =
      direction === "vertical" ? ["ArrowUp", "ArrowDown"] : ["ArrowLeft", "ArrowRight"];
    let next: number | undefined;
    if (event.key === forward) next = (at + 1) % items.length;
    else if (event.key === back) next = (at - 1 + items.length) % items.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = items.length - 1;
    else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close(true);
      return;
    } else if (event.key === "Tab" && direction === "vertical") {
      this.close();
      return;
    }
    if (next === undefined) return;
    event.preventDefault();
    items[next]?.focus();
  }
}
