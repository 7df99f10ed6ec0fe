import { failure } from "../api.ts";
import type { ChatModel } from "../model/chat-model.ts";
import type { Room } from "../model/room.ts";
import type { Target } from "../model/room-admin.ts";
import { byId, el, reconcile } from "./dom.ts";

interface RoomItem {
  readonly li: HTMLLIElement;
  readonly name: HTMLSpanElement;
  readonly mention: HTMLSpanElement;
  readonly unread: HTMLSpanElement;
  /** "not joined" on a room the page was taken out of (kicked, banned, refused). */
  readonly state: HTMLSpanElement;
  readonly leave: HTMLButtonElement;
}

/**
 * Rooms, DMs and who is online; joining a room and opening a DM; for
 * moderators, a member's actions beside their name.
 */
export class Sidebar {
  readonly #model: ChatModel;
  readonly #moderate: (target: Target) => void;
  readonly #view = byId("chat-view");
  readonly #menu = byId<HTMLButtonElement>("menu");
  readonly #rooms = byId<HTMLUListElement>("rooms");
  readonly #directs = byId<HTMLUListElement>("directs");
  readonly #members = byId<HTMLUListElement>("members");
  readonly #joinRoom = byId<HTMLInputElement>("join-room");
  readonly #openDm = byId<HTMLInputElement>("open-dm");
  readonly #error = byId("sidebar-error");
  /** Kept across redraws, so focus stays on the room the keyboard is on. */
  readonly #items = new Map<string, RoomItem>();

  constructor(model: ChatModel, moderate: (target: Target) => void, signal: AbortSignal) {
    this.#model = model;
    this.#moderate = moderate;
    this.#menu.addEventListener("click", () => this.toggle(), { signal });
    this.#joinRoom.addEventListener(
      "keydown",
      (event) => {
        if (event.key !== "Enter" || event.isComposing) return;
        event.preventDefault();
        this.#act(this.#joinRoom, async (name) => model.join(name));
      },
      { signal },
    );
    this.#openDm.addEventListener(
      "keydown",
      (event) => {
        if (event.key !== "Enter" || event.isComposing) return;
        event.preventDefault();
        this.#act(this.#openDm, (name) => model.openDirect(name));
      },
      { signal },
    );
  }

  toggle(open = !this.#view.classList.contains("sidebar-open")): void {
    this.#view.classList.toggle("sidebar-open", open);
    this.#menu.setAttribute("aria-expanded", String(open));
    if (open) (this.#rooms.querySelector("[aria-current] button") as HTMLElement | null)?.focus();
  }

  render(): void {
    const model = this.#model;
    byId("me").textContent = model.me.name;
    const rooms = [...model.rooms.values()];
    const byName = (a: Room, b: Room) => a.label.localeCompare(b.label);
    const openCount = rooms.filter((r) => r.open).length;
    const seen = new Set<string>();
    const items = (list: Room[]) =>
      list.sort(byName).map((room) => {
        seen.add(room.name);
        return this.#item(room, openCount).li;
      });
    reconcile(this.#rooms, items(rooms.filter((r) => !r.direct)));
    reconcile(this.#directs, items(rooms.filter((r) => r.direct)));
    for (const name of this.#items.keys()) if (!seen.has(name)) this.#items.delete(name);

    const options = model.known.map((name) => {
      const option = el("option");
      option.value = name;
      return option;
    });
    reconcile(byId("room-options"), options);

    const room = model.room;
    const members = [...(room?.members ?? new Map<string, string>())].sort((a, b) =>
      a[1].localeCompare(b[1]),
    );
    const moderator = room !== undefined && model.moderation.canModerate(room.name);
    reconcile(
      this.#members,
      members.map(([userId, name]) => this.#member(userId, name, moderator)),
    );
    byId("online-count").textContent = room ? `(${room.onlineCount})` : "";
  }

  /** The room list's order, for Alt+Up/Down. */
  order(): string[] {
    const names = (list: HTMLUListElement) =>
      [...list.querySelectorAll("li")].map((li) => li.dataset.room ?? "");
    return [...names(this.#rooms), ...names(this.#directs)];
  }

  #item(room: Room, openCount: number): RoomItem {
    const model = this.#model;
    let item = this.#items.get(room.name);
    if (item === undefined) {
      const li = el("li");
      li.dataset.room = room.name;
      const open = el("button", "open-room");
      open.type = "button";
      const name = el("span", "name");
      const mention = el("span", "mention");
      const unread = el("span", "unread");
      const state = el("span", "state");
      open.append(name, state, mention, unread);
      open.addEventListener("click", () => {
        model.select(room.name);
        this.toggle(false);
      });
      const leave = el("button", "leave", "×");
      leave.type = "button";
      leave.addEventListener("click", () => model.leave(room.name));
      li.append(open, leave);
      item = { li, name, mention, unread, state, leave };
      this.#items.set(room.name, item);
    }
    const current = model.current === room.name;
    const { count, mentioned } = current
      ? { count: 0, mentioned: false }
      : room.unread(model.me.userId, model.me.name);
    item.name.textContent = room.label;
    item.li.title = room.direct ? `Direct messages with ${room.label}` : room.name;
    // A DM is listed closed as a matter of course; a room only once the page was taken out of it.
    const out = !room.open && !room.direct;
    item.state.textContent = out ? "not joined" : "";
    if (out) item.li.title = `${room.name}: not joined; open it to join again`;
    item.unread.textContent = count > 0 ? String(count) : "";
    item.unread.setAttribute("aria-label", count > 0 ? `${count} unread` : "");
    item.mention.textContent = mentioned ? "@" : "";
    item.mention.title = mentioned ? "You were mentioned" : "";
    item.li.classList.toggle("has-unread", count > 0);
    item.li.classList.toggle("closed", !room.open);
    if (current) item.li.setAttribute("aria-current", "true");
    else item.li.removeAttribute("aria-current");
    // The last room cannot be left: a subscription with no rooms would mean the default room.
    item.leave.hidden = !room.open || openCount <= 1;
    item.leave.setAttribute("aria-label", `Leave ${room.label}`);
    item.leave.title = `Leave ${room.label}`;
    return item;
  }

  #member(userId: string, name: string, moderator: boolean): HTMLLIElement {
    const li = el("li");
    li.dataset.user = userId;
    if (userId === this.#model.me.userId) {
      li.textContent = `${name} (you)`;
      return li;
    }
    const button = el("button", "", name);
    button.type = "button";
    button.title = `Message ${name}`;
    button.addEventListener("click", () => {
      this.#act(undefined, () => this.#model.openDirect(name));
      this.toggle(false);
    });
    li.append(button);
    // The server gives bots (b-…) and webhooks (h-…) ids no person has.
    if (/^[bh]-/.test(userId)) li.append(el("span", "bot", "bot"));
    if (moderator) {
      const moderate = el("button", "moderate", "⋯");
      moderate.type = "button";
      moderate.setAttribute("aria-label", `Moderate ${name}`);
      moderate.setAttribute("aria-haspopup", "dialog");
      moderate.title = `Kick, ban, mute or promote ${name}`;
      moderate.addEventListener("click", () => {
        this.toggle(false);
        this.#moderate({ userId, name });
      });
      li.append(moderate);
    }
    return li;
  }

  /** Runs a join or open-DM, showing why it failed next to the inputs. */
  #act(input: HTMLInputElement | undefined, action: (value: string) => Promise<void>): void {
    const value = input?.value.trim() ?? "";
    if (input && value === "") return;
    this.#error.textContent = "";
    action(value).then(
      () => {
        if (input) input.value = "";
        this.toggle(false);
      },
      (error: unknown) => {
        this.#error.textContent =
          error instanceof Error && !("code" in error) ? error.message : failure(error).text;
      },
    );
  }
}
