// Email digests against a real server and a real SMTP server on loopback: a
// mention read within the delay sends nothing; mentions left unread send one
// digest for the window, however many; a DM counts; the unsubscribe link
// stops the emails.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { SMTPServer } from "smtp-server";
import type { ChatClient } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { liveUser, startTestServer, testClient, within } from "./helpers.ts";

interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

const mails: Mail[] = [];
let arrived: (() => void) | undefined;

/** Quoted-printable as nodemailer writes long lines: soft breaks and =XX bytes. */
function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      const raw = Buffer.concat(chunks).toString("latin1");
      const split = raw.indexOf("\r\n\r\n");
      const head = raw.slice(0, split);
      const quoted = /content-transfer-encoding: *quoted-printable/i.test(head);
      const body = raw.slice(split + 4);
      mails.push({
        to: session.envelope.rcptTo.map((r) => r.address).join(","),
        subject: /^subject: *(.*)$/im.exec(head)?.[1] ?? "",
        body: quoted ? decodeQuotedPrintable(body) : body,
      });
      arrived?.();
      callback();
    });
  },
});

/** Resolves once `count` mails have arrived in all. */
async function mailsUntil(count: number, what: string): Promise<Mail[]> {
  await within(
    (async () => {
      while (mails.length < count) await new Promise<void>((resolve) => (arrived = resolve));
    })(),
    15_000,
    what,
  );
  return mails.slice(0, count);
}

let server: RunningChatServer;
before(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const { port } = smtp.server.address() as AddressInfo;
  server = await startTestServer({
    httpPort: 0,
    smtpUrl: `smtp://127.0.0.1:${port}`,
    emailFrom: "chat <chat@example.org>",
    // Long enough for a read marker to move first, short enough to wait for.
    emailDelayMs: 3_000,
  });
});
after(async () => {
  await server.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

/** An account with an address that has read `room` up to `readId`. */
async function reader(name: string, room: string, readId: number): Promise<ChatClient> {
  const client = testClient(server, { username: name });
  await client.register(name, "correct horse battery");
  assert.equal(await client.notify.setEmail(` ${name}@example.org `), `${name}@example.org`);
  await client.markRead(room, readId);
  return client;
}

test("a mention read in time sends nothing; unread ones send one digest; the link unsubscribes", async () => {
  const carl = await liveUser(server, "carl", { room: "team" });
  const morning = await carl.session.send("morning all", { room: "team" });
  const ann = await reader("ann", "team", morning.id);
  const bob = await reader("bob", "team", morning.id);
  assert.equal((await bob.whoAmI()).email, "bob@example.org");
  const toAnn = await carl.session.send("@ann can you look at this?", { room: "team" });
  await carl.session.send("@bob the deploy is stuck", { room: "team" });
  await carl.session.send("@bob still stuck, and the logs say why", { room: "team" });
  await ann.markRead("team", toAnn.id);

  const [digest] = await mailsUntil(1, "bob's digest");
  assert.ok(digest);
  assert.equal(digest.to, "bob@example.org");
  assert.match(digest.subject, /2 unread/);
  assert.match(digest.body, /carl: @bob the deploy is stuck/);
  assert.match(digest.body, /carl: @bob still stuck, and the logs say why/);

  // A DM to ann, and another mention of bob: ann's digest comes; bob's too, as a second window.
  const direct = await bob.openDirect("ann");
  await bob.send("are you around for the deploy?", { room: direct.room });
  const unsubscribe = /Stop these emails: (\S+)/.exec(digest.body)?.[1];
  assert.ok(unsubscribe, digest.body);
  const answer = await fetch(unsubscribe);
  assert.equal(answer.status, 200);
  assert.match(await answer.text(), /no more emails/);
  assert.equal((await bob.whoAmI()).email, undefined);
  await carl.session.send("@bob are you there?", { room: "team" });

  const [, second] = await mailsUntil(2, "ann's digest of the DM");
  assert.ok(second);
  assert.equal(second.to, "ann@example.org");
  assert.match(second.body, /a direct message/);
  assert.match(second.body, /bob: are you around for the deploy\?/);
  assert.doesNotMatch(second.body, /can you look at this/, "what ann read is not in it");
  // Bob unsubscribed before his last mention: it was never scheduled.
  const forged = await fetch(unsubscribe.replace(/s=[^&]+/, "s=forged"));
  assert.equal(forged.status, 404);
  assert.deepEqual(
    mails.map((m) => m.to),
    ["bob@example.org", "ann@example.org"],
  );
  for (const c of [ann, bob, carl.client]) c.close();
});

test("an address that is not one is refused with a sentence", async () => {
  const dora = testClient(server, { username: "dora" });
  await dora.register("dora", "correct horse battery");
  for (const bad of ["dora", "dora@", "@example.org", "dora@localhost", "a b@example.org"]) {
    await assert.rejects(dora.notify.setEmail(bad), /is not an email address/);
  }
  dora.close();
});
