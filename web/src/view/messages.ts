import { mentions } from "../../../src/client/chat-line.ts";
import { fetchQuote, loadBackTo } from "../model/actions.ts";
import type { ChatModel } from "../model/chat-model.ts";
import { loadOlder } from "../model/history.ts";
import type { Line } from "../model/lines.ts";
import type { Outgoing } from "../model/outbox.ts";
import type { Item, Room } from "../model/room.ts";
import { olderStretch, shownItems } from "../model/room-window.ts";
import { byId, el, reconcile } from "./dom.ts";
import { LineModes } from "./line-modes.ts";
import { openMenuOnLongPress } from "./long-press.ts";
import { renderMarkup } from "./markup.ts";
import { header, type MessageActions, messageElement } from "./message-element.ts";
import { type MenuChoices, MessageMenu } from "./message-menu.ts";
import { SeenTracker } from "./seen.ts";

/** How close to the top (px) scrolling asks for older history. */
const NEAR_TOP = 120;
/** How close to the bottom (px) counts as following the conversation. */
const NEAR_BOTTOM = 48;
/** How long the original of a reply stays highlighted after a jump to it. */
const HIGHLIGHT_MS = 2_000;

interface Drawn {
  readonly element: HTMLElement;
  /** What it was drawn from: redrawn when this changes. */
  readonly source: unknown;
}

export interface MessageListHost {
  /** Reply was chosen on a message. */
  reply(line: Line): void;
  /** A change failed or was refused: say why. */
  notice(text: string): void;
  report(line: Line): void;
  /** A moderator chose to act on the sender of `line`. */
  moderate(line: Line): void;
}

/** The current room's messages, its pending sends last; older pages load on scrolling up. */
export class MessageList {
  readonly #box = byId("messages");
  readonly #model: ChatModel;
  readonly #drawn = new Map<string, Drawn>();
  readonly #older = el("button", "load-older", "Load older messages");
  readonly #menu: MessageMenu;
  readonly #modes: LineModes;
  readonly #seen: SeenTracker;
  readonly #actions: MessageActions;
  /** A reply's drawing source, kept while neither it nor its original changes. */
  readonly #replySources = new WeakMap<Line, { original: Line | null | undefined }>();
  #room: string | undefined;

  constructor(model: ChatModel, host: MessageListHost, signal: AbortSignal) {
    this.#model = model;
    this.#older.type = "button";
    this.#older.addEventListener("click", () => this.#loadOlder());
    this.#box.addEventListener(
      "scroll",
      () => {
        if (this.#box.scrollTop < NEAR_TOP) this.#loadOlder();
      },
      { signal },
    );
    const choices: MenuChoices = {
      reply: (line) => host.reply(line),
      react: (line, emoji) => this.#react(line, emoji, false),
      edit: (line) => this.startEdit(line.id, undefined),
      delete: (line) => this.#modes.start(line.id, "delete", undefined),
      report: (line) => host.report(line),
      moderate: (line) => host.moderate(line),
    };
    this.#menu = new MessageMenu(choices, signal);
    this.#modes = new LineModes(model, {
      redraw: () => this.render(),
      element: (id) => this.#drawn.get(`m${id}`)?.element,
      notice: (text) => host.notice(text),
    });
    this.#seen = new SeenTracker(this.#box, (id) => {
      const room = this.#model.room;
      if (room !== undefined) this.#model.readMarkers.seen(room, id);
    });
    this.#actions = {
      menu: (line, button) => {
        const own = line.userId === this.#model.me.userId;
        const { moderation, current } = this.#model;
        this.#menu.toggle(line, button, {
          own,
          report: !own && moderation.reportable(current),
          moderate: !own && moderation.canModerate(current),
        });
      },
      toggle: (line, reaction) => this.#react(line, reaction.emoji, reaction.mine),
      original: (line) => void this.jumpTo(line.replyTo ?? 0),
    };
    openMenuOnLongPress(this.#box, signal);
  }

  atBottom(): boolean {
    const box = this.#box;
    return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM;
  }

  /** Who "me" is changed (the welcome): every line's own/mention marks may differ. */
  forget(): void {
    this.#drawn.clear();
    this.#seen.reset();
  }

  /** The page became visible or focused (or stopped being): what is in view may now count as seen. */
  attention(): void {
    this.#seen.report();
  }

  /** Opens the inline editor on one of the user's messages; `back` gets focus when it closes. */
  startEdit(id: number, back: HTMLElement | undefined): void {
    this.#modes.start(id, "edit", back);
  }

  /** The newest of the user's own messages in the room shown that can still be edited. */
  lastOwn(): Line | undefined {
    const room = this.#model.room;
    const items = room?.items() ?? [];
    for (let i = items.length - 1; i >= 0; i -= 1) {
      const item = items[i];
      if (item?.kind !== "line") continue;
      const { line } = item;
      if (line.userId === this.#model.me.userId && !line.system && !line.deleted) return line;
    }
    return undefined;
  }

  /** Scrolls to a message and highlights it, loading older pages back to it if need be. */
  async jumpTo(id: number): Promise<void> {
    const room = this.#model.room;
    if (room === undefined) return;
    if (!room.has(id) && !(await loadBackTo(this.#model, room, id))) {
      this.#model.notice(room.name, `Message ${id} is no longer in this room's history.`);
      return;
    }
    this.render();
    const element = this.#drawn.get(`m${id}`)?.element;
    if (element === undefined) return;
    element.scrollIntoView({ block: "center" });
    element.tabIndex = -1;
    element.focus({ preventScroll: true });
    element.classList.add("highlight");
    setTimeout(() => element.classList.remove("highlight"), HIGHLIGHT_MS);
  }

  render(): void {
    const model = this.#model;
    const room = model.room;
    if (room === undefined) return;
    const switched = room.name !== this.#room;
    if (switched) {
      this.#drawn.clear();
      this.#seen.reset();
      this.#menu.close();
      this.#modes.cancel();
      this.#room = room.name;
    }
    // Opened at an older message, the bottom is not the newest: nothing to follow.
    const follow = switched || (this.atBottom() && olderStretch(room) === undefined);
    const anchor = follow ? undefined : this.#anchor();

    const children: HTMLElement[] = [];
    if (room.hasOlder) {
      this.#older.disabled = room.loadingOlder;
      this.#older.textContent = room.loadingOlder ? "Loading…" : "Load older messages";
      children.push(this.#older);
    }
    const keep = new Set<string>();
    const draw = (key: string, source: unknown, make: () => HTMLElement) => {
      keep.add(key);
      let drawn = this.#drawn.get(key);
      if (drawn === undefined || drawn.source !== source) {
        if (drawn) this.#seen.forget(drawn.element);
        drawn = { element: make(), source };
        this.#drawn.set(key, drawn);
      }
      children.push(drawn.element);
    };
    const divider = this.#dividerBefore(room);
    for (const item of shownItems(room)) {
      if (item.kind === "line") {
        const { line } = item;
        if (line.id === divider) draw("new-divider", divider, newDivider);
        draw(`m${line.id}`, this.#source(room, line), () => this.#line(room, line));
      } else {
        draw(item.notice.key, item.notice, () => noticeElement(item));
      }
    }
    for (const send of model.outbox.items) {
      if (send.room !== room.name) continue;
      // Pending and failed draw differently; the item itself is mutated in place.
      draw(`p${send.clientMsgId}`, `${send.status}:${send.error}`, () => this.#pending(send));
    }
    for (const [key, drawn] of this.#drawn) {
      if (keep.has(key)) continue;
      this.#seen.forget(drawn.element);
      this.#drawn.delete(key);
    }
    reconcile(this.#box, children);

    if (follow) this.#box.scrollTop = this.#box.scrollHeight;
    else if (anchor) this.#box.scrollTop = anchor.element.offsetTop - anchor.offset;
    this.#modes.focusPending();
    // A first page shorter than the box leaves nothing to scroll: load more at once.
    if (room.hasOlder && this.#box.scrollHeight <= this.#box.clientHeight) this.#loadOlder();
  }

  /** The id of the first message from someone else above the divider's marker. */
  #dividerBefore(room: Room): number | undefined {
    if (room.divider === undefined) return undefined;
    const self = this.#model.me.userId;
    for (const item of room.items()) {
      if (item.kind !== "line") continue;
      const { line } = item;
      if (line.id > room.divider && !line.system && line.userId !== self) return line.id;
    }
    return undefined;
  }

  /** What a line is drawn from: itself, its edit/delete mode, or itself with its reply's original. */
  #source(room: Room, line: Line): unknown {
    const mode = this.#modes.of(line.id);
    if (mode !== undefined) return mode;
    const replyTo = line.replyTo ?? 0;
    if (replyTo === 0) return line;
    const original = room.line(replyTo) ?? room.quotes.get(replyTo);
    let source = this.#replySources.get(line);
    if (source === undefined || source.original !== original) {
      source = { original };
      this.#replySources.set(line, source);
    }
    return source;
  }

  /** The first element in view and where it is, to keep it still while older ones go above. */
  #anchor(): { element: HTMLElement; offset: number } | undefined {
    const top = this.#box.scrollTop;
    for (const child of this.#box.children) {
      const element = child as HTMLElement;
      // The button stays first whatever loads below it: it cannot hold the place.
      if (element === this.#older) continue;
      if (element.offsetTop + element.offsetHeight > top) {
        return { element, offset: element.offsetTop - top };
      }
    }
    return undefined;
  }

  #loadOlder(): void {
    const room = this.#model.room;
    if (room?.hasOlder && !room.loadingOlder) {
      void loadOlder(this.#model, room);
      this.render();
    }
  }

  #line(room: Room, line: Line): HTMLElement {
    if (line.system) {
      const notice = el("div", "notice", line.text);
      notice.dataset.id = String(line.id);
      this.#seen.watch(notice, line.id);
      return notice;
    }
    const { me } = this.#model;
    const own = line.userId === me.userId;
    let original: Line | null | undefined;
    const replyTo = line.replyTo ?? 0;
    if (replyTo > 0) {
      original = room.line(replyTo) ?? room.quotes.get(replyTo);
      if (original === undefined) fetchQuote(this.#model, room, replyTo);
    }
    const element = messageElement(line, {
      own,
      mentionsMe: !own && !line.deleted && mentions(line.text, me.name),
      original,
      actions: this.#actions,
    });
    this.#modes.decorate(element, line);
    this.#seen.watch(element, line.id);
    return element;
  }

  #react(line: Line, emoji: string, remove: boolean): void {
    this.#modes.react(line, emoji, remove);
  }

  #pending(send: Outgoing): HTMLElement {
    const element = el("div", "message own");
    const failed = send.status === "failed";
    if (failed) {
      element.classList.add("failed");
      element.dataset.failed = "true";
    } else {
      element.dataset.pending = "true";
    }
    const status = el("div", "status", failed ? `Not sent: ${send.error}` : "Sending…");
    if (failed) {
      const retry = el("button", "", "Retry");
      retry.type = "button";
      retry.addEventListener("click", () => this.#model.outbox.retry(send));
      const discard = el("button", "", "Discard");
      discard.type = "button";
      discard.addEventListener("click", () => this.#model.outbox.discard(send));
      status.append(retry, discard);
    }
    const text = el("div", "text");
    text.append(...renderMarkup(send.text));
    element.append(header(this.#model.me.name, undefined), text, status);
    return element;
  }
}

function newDivider(): HTMLElement {
  const divider = el("div", "new-divider");
  divider.setAttribute("role", "separator");
  divider.setAttribute("aria-label", "New messages below");
  divider.append(el("span", "", "New"));
  return divider;
}

function noticeElement(item: Item & { kind: "notice" }): HTMLElement {
  const notice = el("div", "notice", item.notice.text);
  notice.title = new Date(item.notice.timeMs).toLocaleString();
  return notice;
}
