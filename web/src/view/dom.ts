/**
 * The page's elements. Text always goes in as text (textContent), never as
 * markup: everything shown comes from other people.
 */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`The page has no #${id}.`);
  return element as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text = "",
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== "") element.className = className;
  if (text !== "") element.textContent = text;
  return element;
}

/** Makes `parent`'s children exactly `children`, in order, moving only what is out of place. */
export function reconcile(parent: Element, children: readonly Element[]): void {
  let cursor = parent.firstElementChild;
  for (const child of children) {
    if (child !== cursor) parent.insertBefore(child, cursor);
    else cursor = cursor.nextElementSibling;
  }
  while (cursor !== null) {
    const next = cursor.nextElementSibling;
    cursor.remove();
    cursor = next;
  }
}

export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
