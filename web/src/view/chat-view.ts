import { failure } from "../api.ts";
import type { Change, ChatModel } from "../model/chat-model.ts";
import type { ConnectionState } from "../model/subscription.ts";
import { openAccountDialog } from "./account-dialog.ts";
import { Composer } from "./composer.ts";
import { byId } from "./dom.ts";
import { openMemberActions, openReportDialog } from "./member-actions.ts";
import { MessageList } from "./messages.ts";
import { DesktopNotifications } from "./notifications.ts";
import { RoomSettingsView } from "./room-settings.ts";
import { mountSearch } from "./search-box.ts";
import { Sidebar } from "./sidebar.ts";
import { TabBadge } from "./tab-badge.ts";

/**
 * The chat page around a model: draws what changed, turns the user's input
 * into the model's actions. One per sign-in; `detach` before the next.
 */
export class ChatView {
  readonly #model: ChatModel;
  readonly #messages: MessageList;
  readonly #sidebar: Sidebar;
  readonly #composer: Composer;
  readonly #settings: RoomSettingsView;
  readonly #badge = new TabBadge();
  readonly #topicForm = byId<HTMLFormElement>("topic-form");
  readonly #topicInput = byId<HTMLInputElement>("topic-input");
  readonly #editTopic = byId<HTMLButtonElement>("edit-topic");
  readonly #abort = new AbortController();
  #countdown: ReturnType<typeof setInterval> | undefined;

  constructor(model: ChatModel) {
    this.#model = model;
    const signal = this.#abort.signal;
    this.#messages = new MessageList(
      model,
      {
        reply: (line) => this.#composer.reply(line),
        notice: (text) => model.notice(model.current, text),
        report: (line) => openReportDialog(model, line),
        moderate: (line) => openMemberActions(model, { userId: line.userId, name: line.username }),
      },
      signal,
    );
    this.#composer = new Composer(model, this.#messages, signal);
    this.#sidebar = new Sidebar(model, (target) => openMemberActions(model, target), signal);
    this.#settings = new RoomSettingsView(model, signal);
    new DesktopNotifications(model, signal);
    mountSearch(model, (id) => this.#messages.jumpTo(id), signal);
    const on = <K extends keyof WindowEventMap>(
      target: HTMLElement | Window,
      type: K,
      listener: (event: WindowEventMap[K]) => void,
    ) => target.addEventListener(type, listener as EventListener, { signal });

    on(this.#editTopic, "click", () => this.#openTopic(true));
    on(byId("topic-cancel"), "click", () => this.#openTopic(false));
    on(this.#topicForm, "submit", (event) => {
      event.preventDefault();
      this.#saveTopic();
    });
    on(this.#topicInput, "keydown", (event) => {
      if (event.key === "Escape") this.#openTopic(false);
    });
    on(byId("reconnect"), "click", () => model.subscription.restart());
    on(byId("account"), "click", () => openAccountDialog(model));
    on(window, "keydown", (event) => this.#shortcut(event));
    document.addEventListener("visibilitychange", () => this.#visibility(), { signal });
    on(window, "online", () => model.subscription.restart());
    on(window, "focus", () => this.#messages.attention());

    model.onChange((changes) => this.#render(changes));
    this.#visibility();
    this.#render(new Set(["rooms", "messages", "state", "me", "limits", "typing"]));
  }

  detach(): void {
    this.#abort.abort();
    clearInterval(this.#countdown);
    for (const dialog of document.querySelectorAll("dialog")) dialog.close();
    this.#sidebar.toggle(false);
    this.#openTopic(false);
    // The next user must not see this one's rooms or messages, even for a moment.
    for (const id of ["messages", "rooms", "directs", "members", "room-options", "sidebar-error"]) {
      byId(id).replaceChildren();
    }
    this.#composer.clear();
    this.#badge.show(0);
  }

  focus(): void {
    this.#composer.focus();
  }

  #render(changes: ReadonlySet<Change>): void {
    const model = this.#model;
    const room = model.room;
    if (changes.has("me")) this.#messages.forget();
    const maxTopic = model.limits?.maxTopicChars;
    if (changes.has("limits") && maxTopic) this.#topicInput.maxLength = maxTopic;
    if (changes.has("state")) this.#state(model.state);
    if (changes.has("rooms") || changes.has("me")) this.#sidebar.render();
    if (changes.has("messages") || changes.has("rooms") || changes.has("me")) {
      this.#messages.render();
      byId("room-title").textContent = room
        ? room.direct
          ? `@ ${room.label}`
          : `# ${room.name}`
        : "";
      byId("topic").textContent = room?.topic ?? "";
      // Whatever keeps the user from posting keeps them from setting the topic too.
      this.#editTopic.disabled = model.moderation.block(model.current) !== undefined;
    }
    if (changes.has("typing") || changes.has("messages") || changes.has("rooms")) {
      this.#composer.render();
    }
    if (changes.has("rooms") || changes.has("messages") || changes.has("me")) {
      this.#settings.render();
    }
    // Counted at each room's notification level: an "off" room never asks for attention.
    const unread = model.notify.total();
    byId("menu-unread").textContent = unread > 0 && model.visible ? String(unread) : "";
    this.#badge.show(unread);
  }

  #state(state: ConnectionState): void {
    const box = byId("connection");
    box.dataset.state = state.kind;
    clearInterval(this.#countdown);
    const text = byId("connection-text");
    byId("reconnect").hidden = state.kind === "live" || state.kind === "connecting";
    box.title = "reason" in state ? state.reason : "";
    switch (state.kind) {
      case "connecting":
        text.textContent = "Connecting…";
        return;
      case "live":
        text.textContent = "Live";
        return;
      case "offline":
        text.textContent = `Offline: ${state.reason}`;
        return;
      case "reconnecting": {
        const { atMs } = state;
        const tick = () => {
          const seconds = atMs === undefined ? 0 : Math.ceil((atMs - Date.now()) / 1000);
          text.textContent = seconds > 0 ? `Reconnecting in ${seconds} s…` : "Reconnecting…";
        };
        tick();
        if (atMs !== undefined) this.#countdown = setInterval(tick, 250);
      }
    }
  }

  #openTopic(open: boolean): void {
    this.#topicForm.hidden = !open;
    this.#editTopic.hidden = open;
    byId("topic").hidden = open;
    if (open) {
      this.#topicInput.value = this.#model.room?.topic ?? "";
      this.#topicInput.focus();
      this.#topicInput.select();
    }
  }

  #saveTopic(): void {
    const topic = this.#topicInput.value.trim();
    this.#model.setTopic(topic).then(
      () => {
        this.#openTopic(false);
        this.#editTopic.focus();
      },
      (error: unknown) => {
        // A rule the page checked itself is a plain Error; the server's refusals have a code.
        const text =
          error instanceof Error && !("code" in error) ? error.message : failure(error).text;
        this.#model.notice(this.#model.current, text);
      },
    );
  }

  /** Alt+Up/Down: the previous/next room; Escape closes the sidebar on a phone. */
  #shortcut(event: KeyboardEvent): void {
    if (event.key === "Escape") this.#sidebar.toggle(false);
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    const order = this.#sidebar.order();
    if (order.length === 0) return;
    event.preventDefault();
    const at = order.indexOf(this.#model.current);
    const step = event.key === "ArrowUp" ? -1 : 1;
    const next = order[(at + step + order.length) % order.length];
    if (next !== undefined) this.#model.select(next);
  }

  #visibility(): void {
    const visible = document.visibilityState === "visible";
    this.#model.visible = visible;
    this.#messages.attention();
    this.#model.changed("rooms");
  }
}
