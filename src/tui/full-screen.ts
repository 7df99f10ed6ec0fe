import type { ChatController, ChatView } from "./chat-controller.ts";

export interface FullScreenOptions {
  readonly controllerFor: (view: ChatView) => ChatController;
  readonly server: string;
  readonly username: string;
}

/** Placeholder until the ink UI lands: runs nothing. */
export async function runFullScreen(_options: FullScreenOptions): Promise<number> {
  throw new Error("full-screen mode is not built yet; use --line");
}
