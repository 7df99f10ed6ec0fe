import { type ChatClient, ChatClientError } from "../client/chat-client.ts";

/** What a line typed about the room's incoming webhooks asks for. */
export type WebhookCommand =
  | { readonly kind: "webhook-new"; readonly name: string }
  | { readonly kind: "webhooks" }
  | { readonly kind: "webhook-revoke"; readonly name: string };

export type WebhookParse = WebhookCommand | { readonly kind: "usage"; readonly text: string };

export const WEBHOOK_HELP: readonly string[] = [
  "/webhook new [name]  an address tools POST to, to post here (moderators); /webhooks lists them",
  "/webhook revoke name  stop a webhook's address working",
];

const USAGE = "Usage: /webhook new [name], /webhook revoke name, or /webhooks";
/** The name a hook gets when none is given: what most hooks are for. */
const DEFAULT_HOOK_NAME = "webhook";

/** The webhook commands; undefined for any other command name. */
export function parseWebhookCommand(name: string, line: string): WebhookParse | undefined {
  const args = line.trim().slice(name.length).trim();
  if (name === "/webhooks")
    return args === "" ? { kind: "webhooks" } : { kind: "usage", text: USAGE };
  if (name !== "/webhook") return undefined;
  const [verb = "", ...rest] = args.split(/\s+/);
  const hookName = rest.join(" ");
  if (verb === "new") return { kind: "webhook-new", name: hookName || DEFAULT_HOOK_NAME };
  if (verb === "revoke" && hookName !== "") return { kind: "webhook-revoke", name: hookName };
  return { kind: "usage", text: USAGE };
}

/** What the webhook commands need of the controller. */
export interface WebhookContext {
  readonly client: ChatClient;
  /** The room shown. */
  current(): string;
  /** True when a room is shown; else says so and is false. */
  inRoom(): boolean;
  info(text: string): void;
  error(text: string): void;
}

/** The terminal client's /webhook new, /webhooks and /webhook revoke, for the room shown. */
export class WebhookCommands {
  readonly #ctx: WebhookContext;

  constructor(ctx: WebhookContext) {
    this.#ctx = ctx;
  }

  async run(command: WebhookCommand): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx.inRoom()) return;
    const room = ctx.current();
    const calls = ctx.client.webhooks;
    try {
      switch (command.kind) {
        case "webhook-new": {
          const hook = await calls.create(room, command.name);
          const base = (await ctx.client.serverInfo()).publicUrl || "http://SERVER:8080";
          ctx.info(`Webhook "${hook.name}" posts to #${room}. Its address, shown only now:`);
          ctx.info(`  curl -d 'build passed' ${base}${hook.path}`);
          ctx.info(`Anyone with it can post here; /webhook revoke ${hook.name} stops it.`);
          return;
        }
        case "webhooks": {
          const hooks = await calls.list(room);
          if (hooks.length === 0) {
            ctx.info(`#${room} has no webhooks; /webhook new [name] makes one.`);
            return;
          }
          for (const hook of hooks) {
            const state = hook.revokedMs === 0 ? "works" : "revoked";
            ctx.info(
              `${hook.name}  ${state}, made ${new Date(hook.createdMs).toISOString().slice(0, 10)}`,
            );
          }
          return;
        }
        case "webhook-revoke": {
          const hook = await calls.revoke(room, command.name);
          ctx.info(`Webhook "${hook.name}" revoked: its address no longer posts to #${room}.`);
          return;
        }
      }
    } catch (error) {
      ctx.error(error instanceof ChatClientError ? error.message : String(error));
    }
  }
}
