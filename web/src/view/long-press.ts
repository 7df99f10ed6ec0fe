/** A press held this long on a touch screen opens a message's menu. */
const LONG_PRESS_MS = 500;
/** A finger that moves this far (px) is scrolling, not pressing. */
const MOVE_PX = 10;

/** A long press on a message (touch) opens its menu, as hovering and focus do with a mouse or keys. */
export function openMenuOnLongPress(box: HTMLElement, signal: AbortSignal): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let start = { x: 0, y: 0 };
  const cancel = () => clearTimeout(timer);
  box.addEventListener(
    "pointerdown",
    (event) => {
      if (event.pointerType !== "touch") return;
      const message = (event.target as Element).closest<HTMLElement>(".message[data-id]");
      const button = message?.querySelector<HTMLButtonElement>(":scope > .actions");
      if (!message || !button) return;
      start = { x: event.clientX, y: event.clientY };
      cancel();
      timer = setTimeout(() => button.click(), LONG_PRESS_MS);
    },
    { signal },
  );
  box.addEventListener(
    "pointermove",
    (event) => {
      if (Math.hypot(event.clientX - start.x, event.clientY - start.y) > MOVE_PX) cancel();
    },
    { signal },
  );
  for (const type of ["pointerup", "pointercancel", "scroll"] as const) {
    box.addEventListener(type, cancel, { signal });
  }
}
