/** The favicon is drawn at this size; browsers scale it down to the tab's. */
const SIZE = 64;

/**
 * The unread count where the user sees it with the page in another tab: in
 * the tab's title, "(3) grpc-chat", and as a red badge drawn over the icon.
 * At 0 both go back to the page's own.
 */
export class TabBadge {
  readonly #title = document.title;
  readonly #link: HTMLLinkElement | null = document.querySelector("link[rel~='icon']");
  readonly #href = this.#link?.getAttribute("href") ?? "";
  readonly #type = this.#link?.getAttribute("type") ?? "";
  #icon: Promise<HTMLImageElement | undefined> | undefined;
  #shown = 0;
  /** Counts drawn out of order (the icon loads once) must not overwrite a newer one. */
  #drawing = 0;

  show(count: number): void {
    document.title = count > 0 ? `(${count}) ${this.#title}` : this.#title;
    if (count === this.#shown) return;
    this.#shown = count;
    const drawing = ++this.#drawing;
    if (count === 0) {
      this.#set(this.#href, this.#type);
      return;
    }
    void this.#draw(count).then((url) => {
      if (url !== undefined && drawing === this.#drawing) this.#set(url, "image/png");
    });
  }

  #set(href: string, type: string): void {
    const link = this.#link;
    if (link === null) return;
    // The type goes with the href: an SVG's type on a PNG would make the browser drop it.
    if (type === "") link.removeAttribute("type");
    else link.type = type;
    link.href = href;
  }

  async #draw(count: number): Promise<string | undefined> {
    const canvas = document.createElement("canvas");
    canvas.width = SIZE;
    canvas.height = SIZE;
    const context = canvas.getContext("2d");
    if (context === null) return undefined;
    const icon = await this.#load();
    if (icon !== undefined) context.drawImage(icon, 0, 0, SIZE, SIZE);
    const text = count > 99 ? "99+" : String(count);
    const radius = SIZE * 0.3;
    const x = SIZE - radius;
    const y = radius;
    context.fillStyle = "#d93025";
    context.beginPath();
    context.arc(x, y, radius, 0, Math.PI * 2);
    context.fill();
    context.fillStyle = "#fff";
    context.font = `bold ${text.length > 2 ? SIZE * 0.26 : SIZE * 0.38}px sans-serif`;
    context.textAlign = "center";
    context.textBaseline = "middle";
    context.fillText(text, x, y + SIZE * 0.02);
    return canvas.toDataURL("image/png");
  }

  /** The page's own icon, loaded once; without it the badge is drawn alone. */
  #load(): Promise<HTMLImageElement | undefined> {
    this.#icon ??= new Promise((resolve) => {
      if (this.#href === "") {
        resolve(undefined);
        return;
      }
      const image = new Image();
      image.onload = () => resolve(image);
      image.onerror = () => resolve(undefined);
      image.src = this.#href;
    });
    return this.#icon;
  }
}
