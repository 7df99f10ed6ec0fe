import { failure } from "../api.ts";
import { el } from "./dom.ts";

export interface Dialog {
  readonly element: HTMLDialogElement;
  readonly body: HTMLElement;
  close(): void;
}

let dialogs = 0;

/**
 * A modal dialog with a title and a Close button. showModal makes the rest
 * of the page inert, so focus stays inside; Escape closes it, and focus goes
 * back to what had it before. It is removed from the page once closed.
 */
export function openDialog(title: string, className: string, closed?: () => void): Dialog {
  const back = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
  dialogs += 1;
  const element = el("dialog", `dialog ${className}`);
  const heading = el("h2", "", title);
  heading.id = `dialog-title-${dialogs}`;
  element.setAttribute("aria-labelledby", heading.id);
  const close = el("button", "dialog-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", "Close");
  close.title = "Close (Escape)";
  close.addEventListener("click", () => element.close());
  const head = el("div", "dialog-head");
  head.append(heading, close);
  const body = el("div", "dialog-body");
  element.append(head, body);
  element.addEventListener("close", () => {
    element.remove();
    closed?.();
    if (back?.isConnected) back.focus();
  });
  document.body.append(element);
  element.showModal();
  return { element, body, close: () => element.close() };
}

/** A plain Error is the page's own sentence; anything else is the server's refusal. */
export function sentence(error: unknown): string {
  return error instanceof Error && !("code" in error) ? error.message : failure(error).text;
}

/** A line under a form that says how the last action went: role=status, or role=alert for errors. */
export function resultLine(): {
  element: HTMLElement;
  ok(text: string): void;
  fail(e: unknown): void;
} {
  const element = el("p", "result");
  element.setAttribute("role", "status");
  return {
    element,
    ok(text) {
      element.setAttribute("role", "status");
      element.classList.remove("error");
      element.textContent = text;
    },
    fail(error) {
      element.setAttribute("role", "alert");
      element.classList.add("error");
      element.textContent = sentence(error);
    },
  };
}

/** A labelled control: the label's text, then the control, tied by id. */
export function labelled<T extends HTMLElement>(
  label: string,
  control: T,
  id: string,
): HTMLElement {
  control.id = id;
  const wrap = el("div", "field");
  const text = el("label", "", label);
  text.htmlFor = id;
  wrap.append(text, control);
  return wrap;
}

/** Runs `action` with `button` disabled meanwhile (so a double press does it once). */
export async function busy(button: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  button.disabled = true;
  try {
    await action();
  } finally {
    button.disabled = false;
  }
}

export function button(label: string, className = "", ariaLabel = ""): HTMLButtonElement {
  const element = el("button", className, label);
  element.type = "button";
  if (ariaLabel !== "") element.setAttribute("aria-label", ariaLabel);
  return element;
}
