import type { ChatModel } from "../model/chat-model.ts";
import { openAt } from "../model/room-window.ts";
import { SearchModel, type SearchResult } from "../model/search.ts";
import { byId, el } from "./dom.ts";
import { OlderStretchBar } from "./older-stretch.ts";
import { resultElement, statusText } from "./search-results.ts";

/** Scrolls to a message of the room shown and highlights it (MessageList.jumpTo). */
export type JumpTo = (id: number) => Promise<void>;

/** Focus is where typing goes: `/` there is a character, not a shortcut. */
function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target.matches("input, textarea, select");
}

/**
 * The search box in the header, a combobox over its results: Ctrl+K (or
 * `/` outside a text field) focuses it, typing searches once typing pauses,
 * arrow keys move through the results, Enter or a click opens the room at
 * that message, Escape closes the results. Mounted per sign-in; its elements
 * go when `signal` aborts, so the next user never sees this one's searches.
 */
export class SearchBox {
  readonly #model: ChatModel;
  readonly #jumpTo: JumpTo;
  readonly #search: SearchModel;
  readonly #root = el("div", "search");
  readonly #input = el("input", "search-input");
  readonly #panel = el("div", "search-panel");
  readonly #status = el("p", "search-status");
  readonly #error = el("p", "error search-error");
  readonly #list = el("ul", "search-results");
  readonly #more = el("button", "search-more", "More results");
  #shown: readonly SearchResult[] = [];
  /** The option the arrow keys are on (-1: none). */
  #active = -1;
  /** Where the active option goes when the next page arrives (ArrowDown past the last). */
  #activeAfterMore: number | undefined;
  /** A message opened in a room the page is still joining: shown again once it has joined. */
  #afterJoin: { readonly room: string; readonly id: number } | undefined;

  constructor(model: ChatModel, jumpTo: JumpTo, signal: AbortSignal) {
    this.#model = model;
    this.#jumpTo = jumpTo;
    this.#search = new SearchModel(model.client, () => this.#render());
    this.#build();
    byId("room-settings").before(this.#root);
    signal.addEventListener("abort", () => {
      this.#search.stop();
      this.#root.remove();
    });
    const on = <K extends keyof HTMLElementEventMap>(
      target: HTMLElement | Document | Window,
      type: K,
      listener: (event: HTMLElementEventMap[K]) => void,
    ) => target.addEventListener(type, listener as EventListener, { signal });
    on(this.#input, "input", () => {
      this.#search.type(this.#input.value);
      this.#open(true);
    });
    on(this.#input, "keydown", (event) => this.#key(event));
    on(this.#input, "focus", () => this.#open(this.#input.value.trim() !== ""));
    on(this.#root, "focusout", (event) => {
      const to = event.relatedTarget;
      if (!(to instanceof Node && this.#root.contains(to))) this.#open(false);
    });
    on(document, "pointerdown", (event) => {
      if (!(event.target instanceof Node && this.#root.contains(event.target))) this.#open(false);
    });
    // A click on a result or on More must not take focus from the box.
    on(this.#panel, "mousedown", (event) => event.preventDefault());
    on(this.#list, "click", (event) => {
      const option = (event.target as Element).closest<HTMLElement>("[role=option]");
      const index = option ? [...this.#list.children].indexOf(option) : -1;
      if (index >= 0) void this.#choose(index);
    });
    on(this.#more, "click", () => this.#search.more());
    on(window, "keydown", (event) => this.#shortcut(event));
    model.onChange(() => this.#joined());
  }

  #build(): void {
    this.#root.setAttribute("role", "search");
    const label = el("label", "visually-hidden", "Search messages");
    label.htmlFor = "search-input";
    const input = this.#input;
    input.id = "search-input";
    input.type = "text";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.enterKeyHint = "search";
    input.placeholder = "Search (Ctrl+K)";
    input.title =
      'Words, "a phrase", -word, from:name, in:#room, before:/after:2026-01-31, has:link';
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", "search-results");
    input.setAttribute("aria-describedby", "search-status search-error");
    this.#panel.id = "search-panel";
    this.#panel.hidden = true;
    this.#status.id = "search-status";
    this.#status.setAttribute("role", "status");
    this.#error.id = "search-error";
    this.#error.setAttribute("role", "alert");
    this.#list.id = "search-results";
    this.#list.setAttribute("role", "listbox");
    this.#list.setAttribute("aria-label", "Search results");
    this.#more.type = "button";
    this.#more.hidden = true;
    this.#panel.append(this.#status, this.#error, this.#list, this.#more);
    this.#root.append(label, input, this.#panel);
  }

  /** Ctrl+K (⌘K) anywhere, or `/` outside a text field: to the box, its text selected. */
  #shortcut(event: KeyboardEvent): void {
    const ctrlK =
      (event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k";
    const slash =
      event.key === "/" &&
      !event.ctrlKey &&
      !event.metaKey &&
      !event.altKey &&
      !isTextField(event.target);
    // A dialog open keeps the keyboard: the page behind it is inert.
    if ((!ctrlK && !slash) || document.querySelector("dialog[open]") !== null) return;
    event.preventDefault();
    this.#input.focus();
    this.#input.select();
  }

  #key(event: KeyboardEvent): void {
    if (event.isComposing) return;
    const count = this.#shown.length;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        this.#open(true);
        if (this.#active < count - 1) this.#activate(this.#active + 1);
        else if (this.#search.state.more) {
          this.#activeAfterMore = count;
          this.#search.more();
        }
        return;
      case "ArrowUp":
        event.preventDefault();
        if (this.#active > 0) this.#activate(this.#active - 1);
        return;
      case "Enter":
        event.preventDefault();
        if (!this.#panel.hidden && this.#active >= 0) void this.#choose(this.#active);
        else {
          this.#open(true);
          this.#search.now();
        }
        return;
      case "Escape":
        event.preventDefault();
        // Stopped here: the page's own Escape (closing the sidebar) is not meant.
        event.stopPropagation();
        if (!this.#panel.hidden) this.#open(false);
        else {
          this.#input.value = "";
          this.#search.type("");
        }
        return;
    }
  }

  async #choose(index: number): Promise<void> {
    const result = this.#shown[index];
    if (result === undefined) return;
    const { room, id } = result.line;
    this.#open(false);
    try {
      await openAt(this.#model, room, id);
    } catch (error) {
      this.#error.textContent = `Could not open that message: ${(error as Error).message}`;
      this.#open(true);
      return;
    }
    if (this.#model.current !== room) return;
    if (this.#model.rooms.get(room)?.joined !== true) this.#afterJoin = { room, id };
    await this.#jumpTo(id);
  }

  /**
   * Joining redraws the messages (the subscription starts again, and its
   * welcome redraws every line), which loses the highlight, the focus and the
   * place: the message is shown again once the room is joined.
   */
  #joined(): void {
    const pending = this.#afterJoin;
    if (pending === undefined) return;
    const room = this.#model.rooms.get(pending.room);
    // Refused, or the user went elsewhere meanwhile: the message is not wanted any more.
    const wanted = room !== undefined && this.#model.current === pending.room;
    if (wanted && !room.joined) return;
    this.#afterJoin = undefined;
    // After this round of changes has been drawn.
    if (wanted) queueMicrotask(() => void this.#jumpTo(pending.id));
  }

  #open(open: boolean): void {
    const wanted = open && this.#input.value.trim() !== "";
    this.#panel.hidden = !wanted;
    this.#input.setAttribute("aria-expanded", String(wanted));
    if (!wanted) this.#activate(-1);
  }

  #activate(index: number): void {
    const options = this.#list.children;
    options[this.#active]?.setAttribute("aria-selected", "false");
    this.#active = index;
    const option = options[index];
    if (option === undefined) {
      this.#input.removeAttribute("aria-activedescendant");
      return;
    }
    option.setAttribute("aria-selected", "true");
    this.#input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  #render(): void {
    const state = this.#search.state;
    this.#status.textContent = statusText(state);
    this.#error.textContent = state.error;
    this.#list.setAttribute("aria-busy", String(state.status === "searching"));
    this.#more.hidden = !state.more;
    this.#more.disabled = state.status === "searching";
    this.#more.textContent = state.status === "searching" ? "Loading…" : "More results";
    if (state.results !== this.#shown) {
      // A next page keeps the place of the arrow keys; a new query starts again.
      const paged = this.#shown.length > 0 && state.results[0] === this.#shown[0];
      const next = paged ? (this.#activeAfterMore ?? this.#active) : -1;
      this.#shown = state.results;
      this.#activeAfterMore = undefined;
      this.#list.replaceChildren(
        ...state.results.map((result, i) => resultElement(this.#model, result, `search-hit-${i}`)),
      );
      this.#active = -1;
      this.#activate(next);
    }
    // More was pressed and there is no more: the button went, so focus goes back to the box.
    if (this.#more.hidden && document.activeElement === this.#more) this.#input.focus();
  }
}

/** The search box in the header, and the bar under a room opened at an older message. */
export function mountSearch(model: ChatModel, jumpTo: JumpTo, signal: AbortSignal): void {
  new SearchBox(model, jumpTo, signal);
  new OlderStretchBar(model, signal);
}
