import type { ChatModel } from "../model/chat-model.ts";
import { RoomRole } from "../model/moderation.ts";
import { createInvite, setRole, type Target, updateRoom } from "../model/room-admin.ts";
import { busy, button, type Dialog, labelled, openDialog, resultLine } from "./dialog.ts";
import { byId, el } from "./dom.ts";
import { notifySection } from "./notify-section.ts";
import { bansSection, reportsSection, type Section } from "./room-reports.ts";
import { webhooksSection } from "./webhooks-section.ts";

/**
 * The current room's settings, from the Settings button in the header:
 * how the user is notified, privacy (owners change it, others see it), the
 * topic, the staff (owners appoint and hand on), an invite link, and for
 * staff the webhooks, the report queue and the bans and mutes in force.
 * Redrawn in place as the room changes.
 */
export class RoomSettingsView {
  readonly #model: ChatModel;
  readonly #button = byId<HTMLButtonElement>("room-settings");
  readonly #badge = byId("reports-badge");
  #open: { room: string; dialog: Dialog; sections: Section[] } | undefined;

  constructor(model: ChatModel, signal: AbortSignal) {
    this.#model = model;
    this.#button.addEventListener("click", () => this.open(), { signal });
  }

  render(): void {
    const model = this.#model;
    const room = model.room;
    this.#button.hidden = room === undefined || room.direct;
    const count =
      room && model.moderation.canModerate(room.name)
        ? model.moderation.of(room.name).openReports.size
        : 0;
    this.#badge.textContent = count > 0 ? String(count) : "";
    this.#button.setAttribute(
      "aria-label",
      count > 0 ? `Room settings, ${count} open report${count === 1 ? "" : "s"}` : "Room settings",
    );
    const open = this.#open;
    if (open === undefined) return;
    // A dialog about one room never acts on another.
    if (open.room !== model.current) open.dialog.close();
    else for (const section of open.sections) section.update();
  }

  open(): void {
    const model = this.#model;
    const room = model.room;
    if (room === undefined || room.direct) return;
    const name = room.name;
    const dialog = openDialog(`Settings for # ${name}`, "settings-dialog", () => {
      this.#open = undefined;
    });
    model.moderation.refresh(name);
    const sections = [
      notifySection(model, name),
      this.#privacy(name),
      this.#topic(),
      this.#roles(name),
      this.#invite(name),
      webhooksSection(model, name),
      reportsSection(model, name),
      bansSection(model, name),
    ];
    dialog.body.append(...sections.map((s) => s.element));
    this.#open = { room: name, dialog, sections };
    for (const section of sections) section.update();
  }

  #privacy(room: string): Section {
    const model = this.#model;
    const element = el("fieldset", "settings-section");
    element.append(el("legend", "", "Privacy"));
    const result = resultLine();
    // A change asked for and not yet answered: a redraw meanwhile shows it, not the old state.
    const pending = new Map<"inviteOnly" | "readOnly", boolean>();
    const box = (label: string, hint: string, key: "inviteOnly" | "readOnly") => {
      const input = el("input");
      input.type = "checkbox";
      input.id = `settings-${key}`;
      const text = el("label", "", label);
      text.htmlFor = input.id;
      const help = el("span", "hint", hint);
      help.id = `${input.id}-hint`;
      input.setAttribute("aria-describedby", help.id);
      const row = el("div", "check");
      row.append(input, text, help);
      input.addEventListener("change", () => {
        const wanted = input.checked;
        input.disabled = true;
        pending.set(key, wanted);
        updateRoom(model, room, { [key]: wanted })
          .then(
            () => result.ok(`${label}: ${wanted ? "on" : "off"}.`),
            (error: unknown) => {
              input.checked = !wanted;
              input.disabled = false;
              result.fail(error);
            },
          )
          .finally(() => {
            pending.delete(key);
            section.update();
          });
      });
      element.append(row);
      return input;
    };
    const inviteOnly = box(
      "Invite only",
      "Hidden from the room list; people join with an invite.",
      "inviteOnly",
    );
    const readOnly = box("Read only", "Only moderators and the owner post.", "readOnly");
    const who = el("p", "hint");
    element.append(who, result.element);
    const section: Section = {
      element,
      update() {
        const settings = model.moderation.of(room).settings;
        const owner = model.moderation.isOwner(room);
        inviteOnly.checked = pending.get("inviteOnly") ?? settings?.inviteOnly ?? false;
        readOnly.checked = pending.get("readOnly") ?? settings?.readOnly ?? false;
        inviteOnly.disabled = !owner || settings === undefined || pending.has("inviteOnly");
        readOnly.disabled = !owner || settings === undefined || pending.has("readOnly");
        who.textContent = owner ? "" : "Only the room's owner changes these.";
      },
    };
    return section;
  }

  #topic(): Section {
    const model = this.#model;
    const element = el("form", "settings-section");
    element.append(el("h3", "", "Topic"));
    const input = el("input");
    input.autocomplete = "off";
    const maxTopic = model.limits?.maxTopicChars;
    if (maxTopic) input.maxLength = maxTopic;
    const save = el("button", "", "Save topic");
    save.type = "submit";
    const row = el("div", "row");
    row.append(labelled("Topic", input, "settings-topic"), save);
    const result = resultLine();
    element.append(row, result.element);
    let shown: string | undefined;
    element.addEventListener("submit", (event) => {
      event.preventDefault();
      void busy(save, () =>
        model.setTopic(input.value.trim()).then(
          () => result.ok("Topic saved."),
          (error: unknown) => result.fail(error),
        ),
      );
    });
    return {
      element,
      update() {
        const topic = model.room?.topic ?? "";
        // Someone else's change shows, unless the user is typing one of their own.
        if (topic !== shown && document.activeElement !== input) input.value = topic;
        shown = topic;
      },
    };
  }

  #roles(room: string): Section {
    const model = this.#model;
    const element = el("section", "settings-section");
    element.append(el("h3", "", "Roles"));
    const staff = el("ul", "staff");
    const form = el("form", "row");
    const input = el("input");
    input.autocomplete = "off";
    input.placeholder = "their name";
    input.setAttribute("list", "settings-people");
    const people = el("datalist");
    people.id = "settings-people";
    const promote = el("button", "", "Make moderator");
    promote.type = "submit";
    const handOn = button("Make owner…");
    form.append(labelled("Member", input, "settings-member"), people, promote, handOn);
    const confirm = el("div", "confirm");
    confirm.hidden = true;
    const result = resultLine();
    element.append(staff, form, confirm, result.element);

    const target = (): Target | undefined => {
      const name = input.value.trim();
      if (name === "") {
        result.fail(new Error("Type the name of someone in the room."));
        return undefined;
      }
      const online = model.rooms.get(room)?.members ?? new Map<string, string>();
      const userId = [...online].find(([, n]) => n === name)?.[0] ?? "";
      return { userId, name };
    };
    const act = (control: HTMLButtonElement, who: Target, role: RoomRole, done: string) =>
      busy(control, () =>
        setRole(model, room, who, role).then(
          () => result.ok(done),
          (error: unknown) => result.fail(error),
        ),
      );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const who = target();
      if (who) void act(promote, who, RoomRole.MODERATOR, `${who.name} is a moderator now.`);
    });
    handOn.addEventListener("click", () => {
      const who = target();
      if (who === undefined) return;
      const yes = button("Hand it on", "confirm-delete");
      const no = button("Cancel", "confirm-cancel");
      confirm.replaceChildren(
        el("span", "", `Make ${who.name} the owner of ${room}? You become a moderator.`),
        yes,
        no,
      );
      confirm.hidden = false;
      no.addEventListener("click", () => {
        confirm.hidden = true;
        handOn.focus();
      });
      yes.addEventListener("click", () => {
        confirm.hidden = true;
        void act(handOn, who, RoomRole.OWNER, `${who.name} owns ${room} now.`);
      });
      no.focus();
    });

    return {
      element,
      update() {
        const settings = model.moderation.of(room).settings;
        const owner = model.moderation.isOwner(room);
        const items = (settings?.staff ?? []).map((holder) => {
          const name = holder.user?.username || holder.user?.userId || "?";
          const title = holder.role === RoomRole.OWNER ? "owner" : "moderator";
          const li = el("li", "", `${name} (${title})`);
          if (owner && holder.role === RoomRole.MODERATOR && holder.user) {
            const demote = button("Remove", "", `Remove ${name} as moderator`);
            const user = { userId: holder.user.userId, name };
            demote.addEventListener(
              "click",
              () => void act(demote, user, RoomRole.MEMBER, `${name} is no longer a moderator.`),
            );
            li.append(" ", demote);
          }
          return li;
        });
        if (items.length === 0)
          items.push(el("li", "hint", "Nobody: server admins look after it."));
        staff.replaceChildren(...items);
        form.hidden = !owner;
        const online = model.rooms.get(room)?.members ?? new Map<string, string>();
        people.replaceChildren(
          ...[...online]
            .filter(([id]) => id !== model.me.userId)
            .map(([, name]) => Object.assign(el("option"), { value: name })),
        );
      },
    };
  }

  #invite(room: string): Section {
    const model = this.#model;
    const element = el("section", "settings-section");
    element.append(el("h3", "", "Invite"));
    const create = button("Create invite link");
    const link = el("input");
    link.readOnly = true;
    const copy = button("Copy", "", "Copy the invite link");
    const row = el("div", "row");
    row.append(labelled("Invite link", link, "invite-link"), copy);
    row.hidden = true;
    const result = resultLine();
    element.append(create, row, result.element);
    create.addEventListener("click", () => {
      void busy(create, () =>
        createInvite(model, room).then(
          ({ link: url, expiresAtMs }) => {
            link.value = url;
            row.hidden = false;
            const until = new Date(expiresAtMs).toLocaleString();
            result.ok(`Anyone with this link can join ${room} until ${until}.`);
            link.focus();
            link.select();
          },
          (error: unknown) => result.fail(error),
        ),
      );
    });
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(link.value).then(
        () => result.ok("Copied."),
        () => {
          // The clipboard is refused (no permission, not a secure page): the link is selected instead.
          link.focus();
          link.select();
          result.ok("Copy it from the box (Ctrl+C).");
        },
      );
    });
    return {
      element,
      update() {
        element.hidden = !model.moderation.canModerate(room);
      },
    };
  }
}
