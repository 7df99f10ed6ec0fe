import type { ChatModel } from "../model/chat-model.ts";
import type { Line } from "../model/lines.ts";
import type { Room } from "../model/room.ts";
import { byId } from "./dom.ts";

/** A notification's body is a glance, not the message. */
const MAX_BODY_CHARS = 140;

/** "sender: text" on one line, cut to a glance. */
export function notificationBody(line: Line): string {
  const text = line.text.replace(/\s+/g, " ").trim();
  const points = Array.from(`${line.username}: ${text}`);
  return points.length <= MAX_BODY_CHARS
    ? points.join("")
    : `${points.slice(0, MAX_BODY_CHARS - 1).join("")}…`;
}

const supported = () => typeof Notification === "function";

/**
 * The browser's notifications, while the page is hidden, for the messages
 * the rooms' levels pick out (NotifyLevels). Permission is asked only from
 * the sidebar's control, by the user's click: a prompt at load is one most
 * people refuse, and then the page may never ask again.
 */
export class DesktopNotifications {
  readonly #model: ChatModel;
  readonly #button = byId<HTMLButtonElement>("enable-notifications");
  readonly #state = byId("notifications-state");
  /** Shown and not yet clicked or closed, so coming back to the page can clear them. */
  readonly #shown = new Set<Notification>();

  constructor(model: ChatModel, signal: AbortSignal) {
    this.#model = model;
    model.notify.onAlert((room, line) => this.#alert(room, line));
    this.#button.addEventListener("click", () => this.#ask(), { signal });
    document.addEventListener(
      "visibilitychange",
      () => {
        if (document.visibilityState === "visible") this.#closeAll();
      },
      { signal },
    );
    signal.addEventListener("abort", () => this.#closeAll());
    // A change in the browser's site settings shows without a reload.
    if (supported() && navigator.permissions !== undefined) {
      navigator.permissions.query({ name: "notifications" }).then(
        (status) => status.addEventListener("change", () => this.render(), { signal }),
        () => {},
      );
    }
    this.render();
  }

  render(): void {
    if (!supported()) {
      this.#say("This browser cannot show notifications.", false);
      return;
    }
    switch (Notification.permission) {
      case "granted":
        this.#say("Notifications are on while this page is in the background.", false);
        return;
      case "denied":
        this.#say("Notifications are blocked for this site in the browser's settings.", false);
        return;
      default:
        this.#say("", true);
    }
  }

  #say(text: string, offer: boolean): void {
    this.#state.textContent = text;
    this.#button.hidden = !offer;
  }

  #ask(): void {
    if (!supported()) return;
    this.#button.disabled = true;
    Notification.requestPermission()
      .catch(() => Notification.permission)
      .then((permission) => {
        this.#button.disabled = false;
        this.render();
        if (permission === "default") {
          this.#state.textContent = "Not enabled: the browser's question was closed unanswered.";
        }
      });
  }

  #alert(room: Room, line: Line): void {
    if (document.visibilityState !== "hidden" || !supported()) return;
    if (Notification.permission !== "granted") return;
    let notification: Notification;
    try {
      // One per room (the tag): a newer message replaces the older one's.
      notification = new Notification(room.direct ? room.label : `#${room.name}`, {
        body: notificationBody(line),
        tag: room.name,
      });
    } catch {
      // Some browsers allow notifications only from a service worker: the tab's count still shows.
      return;
    }
    this.#shown.add(notification);
    notification.addEventListener("close", () => this.#shown.delete(notification));
    notification.addEventListener("click", () => {
      window.focus();
      this.#model.select(room.name);
      notification.close();
    });
  }

  #closeAll(): void {
    for (const notification of this.#shown) notification.close();
    this.#shown.clear();
  }
}
