import type { ChatModel } from "../model/chat-model.ts";
import { backToNewest, loadNewer, olderStretch, sentSinceOpened } from "../model/room-window.ts";
import { byId, el } from "./dom.ts";

/** How close to the bottom (px) scrolling asks for newer messages. */
const NEAR_BOTTOM = 160;

/**
 * Under a room opened at an older message (a search result): says so, loads
 * newer messages as the user scrolls down (or presses the button), and goes
 * back to the newest on request or when the user sends there.
 */
export class OlderStretchBar {
  readonly #model: ChatModel;
  readonly #box = byId("messages");
  readonly #bar = el("div", "older-stretch");
  readonly #newer = el("button", "older-stretch-button", "Load newer messages");
  readonly #newest = el("button", "older-stretch-button", "Jump to the newest");
  readonly #error = el("span", "error");
  /** On the way back to the newest page: asked for once. */
  #returning = false;

  constructor(model: ChatModel, signal: AbortSignal) {
    this.#model = model;
    const bar = this.#bar;
    bar.setAttribute("role", "region");
    bar.setAttribute("aria-label", "Older messages");
    bar.hidden = true;
    this.#newer.type = "button";
    this.#newest.type = "button";
    this.#error.setAttribute("role", "alert");
    bar.append(
      el("span", "older-stretch-text", "You are reading older messages."),
      this.#newer,
      this.#newest,
      this.#error,
    );
    this.#box.after(bar);
    signal.addEventListener("abort", () => bar.remove());
    this.#newer.addEventListener("click", () => this.#loadNewer(), { signal });
    this.#newest.addEventListener("click", () => void this.#backToNewest(true), { signal });
    this.#box.addEventListener(
      "scroll",
      () => {
        const box = this.#box;
        if (box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM) this.#loadNewer();
      },
      { signal },
    );
    model.onChange(() => this.#render());
  }

  #render(): void {
    const room = this.#model.room;
    const stretch = room && olderStretch(room);
    this.#bar.hidden = stretch === undefined;
    if (room === undefined || stretch === undefined) return;
    this.#newer.disabled = stretch.loading;
    this.#newer.textContent = stretch.loading ? "Loading…" : "Load newer messages";
    this.#error.textContent = stretch.error;
    // What the user sends goes to the end of the room: show it there (once; a failure stays shown).
    if (stretch.error === "" && sentSinceOpened(this.#model, room)) void this.#backToNewest(false);
  }

  #loadNewer(): void {
    const room = this.#model.room;
    if (room !== undefined) void loadNewer(this.#model, room);
  }

  async #backToNewest(focusComposer: boolean): Promise<void> {
    const room = this.#model.room;
    if (room === undefined || this.#returning) return;
    this.#returning = true;
    try {
      // At the bottom as the newest page replaces what is shown, the list
      // follows it to the end; elsewhere it would hold its place on a message
      // that is gone.
      await backToNewest(this.#model, room, () => {
        this.#box.scrollTop = this.#box.scrollHeight;
      });
    } finally {
      this.#returning = false;
    }
    if (focusComposer && olderStretch(room) === undefined) byId("text").focus();
  }
}
