import { currentEmail, isAccount, setEmail } from "../model/account.ts";
import type { ChatModel } from "../model/chat-model.ts";
import { botsSection } from "./bots-section.ts";
import { busy, button, labelled, openDialog, resultLine } from "./dialog.ts";
import { el } from "./dom.ts";

/**
 * The user's own settings, from the Account button beside their name: the
 * address unread mentions and DMs are emailed to, and their bots. A guest
 * is told these need an account, and nothing is asked of the server.
 */
export function openAccountDialog(model: ChatModel): void {
  const dialog = openDialog(`Account: ${model.me.name}`, "settings-dialog account-dialog");
  if (!isAccount(model)) {
    dialog.body.append(
      el(
        "p",
        "guest-account",
        "You are signed in as a guest. An email address for digests and bots need an account: sign out, then register or log in.",
      ),
    );
    return;
  }
  dialog.body.append(emailSection(model), botsSection(model));
}

function emailSection(model: ChatModel): HTMLElement {
  const element = el("form", "settings-section email");
  element.append(el("h3", "", "Email"));
  element.append(
    el(
      "p",
      "hint",
      "Mentions and direct messages you leave unread are emailed to you after a delay, gathered in one digest, if this server sends email.",
    ),
  );
  const now = el("p", "email-now", "Loading…");
  now.setAttribute("aria-live", "polite");
  const input = el("input");
  input.type = "email";
  input.autocomplete = "email";
  input.placeholder = "you@example.com";
  const save = el("button", "", "Save");
  save.type = "submit";
  const clear = button("Clear", "", "Clear the email address and stop the emails");
  const row = el("div", "row");
  row.append(labelled("Email address", input, "account-email"), save, clear);
  const result = resultLine();
  element.append(now, row, result.element);

  const show = (email: string) => {
    now.textContent = email === "" ? "No address: nothing is emailed." : `Emails go to ${email}.`;
    input.value = email;
    clear.disabled = email === "";
  };
  // The form validates nothing itself: the server's sentence says what is wrong.
  element.noValidate = true;
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim() === "") {
      result.fail(new Error("Type an address, or press Clear to stop the emails."));
      return;
    }
    void busy(save, () =>
      setEmail(model, input.value).then(
        (email) => {
          show(email);
          result.ok(`Saved: digests go to ${email}.`);
        },
        (error: unknown) => result.fail(error),
      ),
    );
  });
  clear.addEventListener("click", () => {
    void busy(clear, () =>
      setEmail(model, "").then(
        (email) => {
          show(email);
          result.ok("Cleared: nothing is emailed now.");
        },
        (error: unknown) => result.fail(error),
      ),
    );
  });
  currentEmail(model).then(show, (error: unknown) => {
    now.textContent = "";
    result.fail(error);
  });
  return element;
}
