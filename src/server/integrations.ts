// What bots' outgoing hooks and email digests need from outside the core:
// an HTTP client and an SMTP client.
import nodemailer from "nodemailer";
import type { EmailOptions } from "../core/chat-options.ts";
import type { DigestMail } from "../core/email-digests.ts";
import type { HookPoster, HookResponse } from "../core/outgoing-hooks.ts";

/** A receiver that has not answered in this long has failed this attempt. */
const HOOK_TIMEOUT_MS = 10_000;
/** Only a reply's `text` is used; more than this is not read. */
const MAX_REPLY_BYTES = 64 * 1024;

/** POSTs with the platform's fetch; a redirect is a failure (the URL is the owner's to fix). */
export const fetchHookPoster: HookPoster = async (url, body, headers): Promise<HookResponse> => {
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { ...headers, "user-agent": "grpc-chat-hooks" },
    redirect: "manual",
    signal: AbortSignal.timeout(HOOK_TIMEOUT_MS),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    body: new TextDecoder().decode(bytes.subarray(0, MAX_REPLY_BYTES)),
  };
};

export interface MailSettings {
  /** smtp://user:pass@host:port or smtps://… (--smtp-url). */
  readonly smtpUrl: string;
  /** The From: address (--email-from). */
  readonly from: string;
  readonly delayMs: number;
  /** Where the HTTP port is reached from outside; known once it listens. */
  readonly publicUrl: () => string;
}

/** Email digests sent through an SMTP server. */
export function smtpEmail(settings: MailSettings): EmailOptions & { close: () => void } {
  const transport = nodemailer.createTransport(settings.smtpUrl);
  return {
    delayMs: settings.delayMs,
    publicUrl: settings.publicUrl,
    send: async (mail: DigestMail) => {
      await transport.sendMail({
        from: settings.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        headers: { "List-Unsubscribe": `<${mail.unsubscribeUrl}>` },
      });
    },
    close: () => transport.close(),
  };
}
