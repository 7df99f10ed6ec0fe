import { mentions } from "../../../src/client/chat-line.ts";
import type { ChatModel } from "../model/chat-model.ts";
import { loadOlder } from "../model/history.ts";
import type { Outgoing } from "../model/outbox.ts";
import type { Item, Line } from "../model/room.ts";
import { byId, clockTime, el, reconcile } from "./dom.ts";

/** How close to the top (px) scrolling asks for older history. */
const NEAR_TOP = 120;
/** How close to the bottom (px) counts as following the conversation. */
const NEAR_BOTTOM = 48;

interface Drawn {
  readonly element: HTMLElement;
  /** What it was drawn from: redrawn when this changes. */
  readonly source: unknown;
}

/** The current room's messages, its pending sends last; older pages load on scrolling up. */
export class MessageList {
  readonly #box = byId("messages");
  readonly #model: ChatModel;
  readonly #drawn = new Map<string, Drawn>();
  readonly #older = el("button", "load-older", "Load older messages");
  #room: string | undefined;

  constructor(model: ChatModel, signal: AbortSignal) {
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
  }

  atBottom(): boolean {
    const box = this.#box;
    return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM;
  }

  /** Who "me" is changed (the welcome): every line's own/mention marks may differ. */
  forget(): void {
    this.#drawn.clear();
  }

  render(): void {
    const model = this.#model;
    const room = model.room;
    if (room === undefined) return;
    const switched = room.name !== this.#room;
    if (switched) {
      this.#drawn.clear();
      this.#room = room.name;
    }
    const follow = switched || this.atBottom();
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
        drawn = { element: make(), source };
        this.#drawn.set(key, drawn);
      }
      children.push(drawn.element);
    };
    for (const item of room.items()) {
      if (item.kind === "line") draw(`m${item.line.id}`, item.line, () => this.#line(item.line));
      else draw(item.notice.key, item.notice, () => noticeElement(item));
    }
    for (const send of model.outbox.items) {
      if (send.room !== room.name) continue;
      // Pending and failed draw differently; the item itself is mutated in place.
      draw(`p${send.clientMsgId}`, `${send.status}:${send.error}`, () => this.#pending(send));
    }
    for (const key of this.#drawn.keys()) if (!keep.has(key)) this.#drawn.delete(key);
    reconcile(this.#box, children);

    if (follow) this.#box.scrollTop = this.#box.scrollHeight;
    else if (anchor) this.#box.scrollTop = anchor.element.offsetTop - anchor.offset;
    // A first page shorter than the box leaves nothing to scroll: load more at once.
    if (room.hasOlder && this.#box.scrollHeight <= this.#box.clientHeight) this.#loadOlder();
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

  #line(line: Line): HTMLElement {
    if (line.system) {
      const notice = el("div", "notice", line.text);
      notice.dataset.id = String(line.id);
      return notice;
    }
    const { me } = this.#model;
    const own = line.userId === me.userId;
    const element = el("div", "message");
    element.dataset.id = String(line.id);
    element.classList.toggle("own", own);
    element.classList.toggle("mentions-me", !own && mentions(line.text, me.name));
    const time = el("time", "time", clockTime(line.timeMs));
    time.dateTime = new Date(line.timeMs).toISOString();
    time.title = new Date(line.timeMs).toLocaleString();
    element.append(header(line.username, time), el("div", "text", line.text));
    return element;
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
    element.append(header(this.#model.me.name, undefined), el("div", "text", send.text), status);
    return element;
  }
}

function header(author: string, time: HTMLElement | undefined): HTMLElement {
  const line = el("div", "meta");
  line.append(el("span", "author", author));
  if (time) line.append(time);
  return line;
}

function noticeElement(item: Item & { kind: "notice" }): HTMLElement {
  const notice = el("div", "notice", item.notice.text);
  notice.title = new Date(item.notice.timeMs).toLocaleString();
  return notice;
}
