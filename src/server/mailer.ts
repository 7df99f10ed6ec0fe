// What email digests need from outside the core: an SMTP client (the
// outgoing hooks' HTTP client is hook-poster.ts).
import nodemailer from "nodemailer";
import type { EmailOptions } from "../core/chat-options.ts";
import type { DigestMail } from "../core/email-digests.ts";

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
