import type { ChatModel } from "../model/chat-model.ts";
import { createWebhook, type HookView, listWebhooks, revokeWebhook } from "../model/room-admin.ts";
import { busy, button, labelled, resultLine } from "./dialog.ts";
import { el } from "./dom.ts";
import type { Section } from "./room-reports.ts";

/**
 * Room settings' incoming webhooks, for its moderators: make one (its
 * address is shown once, to copy into a CI job or an alert), see them all,
 * revoke one.
 */
export function webhooksSection(model: ChatModel, room: string): Section {
  const element = el("section", "settings-section webhooks");
  element.append(el("h3", "", "Webhooks"));
  const name = el("input");
  name.placeholder = "CI";
  name.maxLength = 64;
  const create = button("Create webhook");
  const form = el("div", "row");
  form.append(labelled("Webhook name", name, "webhook-name"), create);
  const address = el("input");
  address.readOnly = true;
  const shown = el("div", "row");
  shown.append(labelled("Its address (shown only now)", address, "webhook-url"));
  shown.hidden = true;
  const list = el("ul", "webhook-list");
  list.setAttribute("aria-label", "This room's webhooks");
  const result = resultLine();
  element.append(form, shown, result.element, list);

  const draw = (hooks: readonly HookView[]) => {
    list.replaceChildren(
      ...hooks.map((hook) => {
        const item = el("li", hook.revoked ? "revoked" : "");
        const made = new Date(hook.createdAtMs).toLocaleDateString();
        item.append(
          el("span", "", `${hook.name}: ${hook.revoked ? "revoked" : "works"}, made ${made}`),
        );
        if (!hook.revoked) {
          const revoke = button("Revoke", "", `Revoke the webhook ${hook.name}`);
          revoke.addEventListener("click", () => {
            void busy(revoke, () =>
              revokeWebhook(model, room, hook.name).then(
                () => {
                  result.ok(`${hook.name} revoked: its address no longer posts here.`);
                  return reload();
                },
                (error: unknown) => result.fail(error),
              ),
            );
          });
          item.append(revoke);
        }
        return item;
      }),
    );
  };
  const reload = () => listWebhooks(model, room).then(draw, (error: unknown) => result.fail(error));

  create.addEventListener("click", () => {
    void busy(create, () =>
      createWebhook(model, room, name.value.trim() || "webhook").then(
        ({ hook, url }) => {
          address.value = url;
          shown.hidden = false;
          result.ok(
            `POST {"text": "..."} or plain text to this address to post here as ${hook.name}. Anyone with it can; revoke it if it leaks.`,
          );
          address.focus();
          address.select();
          return reload();
        },
        (error: unknown) => result.fail(error),
      ),
    );
  });

  let loaded = false;
  return {
    element,
    update() {
      element.hidden = !model.moderation.canModerate(room);
      if (!element.hidden && !loaded) {
        loaded = true;
        void reload();
      }
    },
  };
}
