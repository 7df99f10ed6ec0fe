import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ChatLine } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import {
  isCaughtUp,
  isPresence,
  isText,
  liveUser,
  nextMatching,
  spawnCli,
  startServerProcess,
  startTestServer,
  stopProcess,
  tempDir,
  testClient,
  within,
} from "./helpers.ts";
import { type SeedChatMessage, SeedClient, streamReader } from "./seed-client.ts";
import { requirePythonGrpc, startSeedServer } from "./seed-server.ts";

const TIME = String.raw`\[\d{2}:\d{2}:\d{2}\]`;

let server: RunningChatServer;
before(async () => {
  server = await startTestServer({ presenceTickMs: 20 });
});
after(() => server.stop());

/** A project client that watches the chat. */
async function observer(name: string) {
  const user = await liveUser(server, name);
  await nextMatching(user.events, isCaughtUp, `${name} live`);
  return user;
}

test("line mode: messages, commands and batch, one line each", async () => {
  const obs = await observer("obs");
  const cli = spawnCli(["client", "--server", server.address, "--name", "lena"]);
  const type = (line: string) => cli.child.stdin.write(`${line}\n`);
  try {
    await cli.waitForLine("Server: Welcome to the chat, lena!");
    await nextMatching(obs.events, isPresence("lena"), "lena's join");

    await obs.session.send("hello lena");
    await cli.waitForLine(new RegExp(`^${TIME} obs: hello lena$`));

    type("hi obs");
    await nextMatching(obs.events, isText("hi obs"), "lena's message at obs");

    type("/ping");
    await cli.waitForLine(/^Pong in \d+\.\d ms$/);

    type("/history 2");
    await cli.waitForLine("Last 2 messages:");
    await cli.waitForLine(new RegExp(`^${TIME} lena: hi obs$`));

    type("/bogus");
    await cli.waitForLine("Unknown command /bogus. Type /help for the list.");
    type("/history lots");
    await cli.waitForLine(/^Usage: \/history \[n\]/);
    type("/help");
    await cli.waitForLine(/^\/batch +collect lines until \/end/);

    type("/batch");
    await cli.waitForLine(/^Batch mode/);
    type("first of batch");
    type("second of batch");
    type("/end");
    await cli.waitForLine("Server: Successfully processed 2 messages from lena");
    await nextMatching(obs.events, isText("first of batch"), "batch message 1 at obs");
    await nextMatching(obs.events, isText("second of batch"), "batch message 2 at obs");

    // Text from others cannot drive the terminal: escapes arrive as visible symbols.
    await obs.session.send("\u001b[2J\u001b]0;title\u0007cleared?");
    const inert = await cli.waitForLine(/obs: .*cleared\?$/);
    assert.equal(inert.includes("\u001b"), false, "a raw ESC reached the terminal");
    assert.match(inert, /␛\[2J␛\]0;title␇cleared\?$/);

    type("exit");
    assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
    await nextMatching(obs.events, isPresence("lena", false), "lena's leave");
  } finally {
    cli.child.kill();
    obs.session.close();
    obs.client.close();
  }
});

test("line mode: without --name the first input line is the name; end of input leaves", async () => {
  const obs = await observer("obs2");
  const cli = spawnCli(["client", "--server", server.address]);
  try {
    cli.child.stdin.write("mona\nbye for now\n");
    cli.child.stdin.end();
    const got = await nextMatching(obs.events, isText("bye for now"), "mona's message");
    assert.equal(got.type === "message" && got.message.username, "mona");
    assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
  } finally {
    cli.child.kill();
    obs.session.close();
    obs.client.close();
  }
});

test("line mode: a message the server refuses is reported and the chat goes on", async () => {
  const cli = spawnCli(["client", "--server", server.address, "--name", "nils"]);
  try {
    await cli.waitForLine("Server: Welcome to the chat, nils!");
    cli.child.stdin.write(`${"x".repeat(5000)}\n/ping\n`);
    await cli.waitForLine(
      /^error: Not sent: The message is 5000 bytes long; the limit is 4096 bytes/,
    );
    await cli.waitForLine(/^Pong in/);
    cli.child.stdin.end();
    assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
  } finally {
    cli.child.kill();
  }
});

test("line mode: an unreachable server is a clear error and exit code 1", async () => {
  const cli = spawnCli(["client", "--server", "127.0.0.1:1", "--name", "olaf"]);
  assert.equal(await within(cli.exited, 10_000, "the client to give up"), 1);
  assert.match(cli.stderr(), /cannot reach the server at 127\.0\.0\.1:1; is it running\?/);
});

test("two terminal clients and a seed client chat in one room", async () => {
  const seed = new SeedClient(server.address, randomUUID(), "sally");
  await seed.joinChat();
  const call = seed.chatStream();
  const fromSeed = streamReader<SeedChatMessage>(call);
  call.write({ user_id: seed.userId, username: "sally", message: "", timestamp: "" });
  const ann = spawnCli(["client", "--server", server.address, "--name", "ann"]);
  let ben: ReturnType<typeof spawnCli> | undefined;
  const seedSees = (text: string) =>
    nextMatching(fromSeed.iterator, (m) => m.message === text, `"${text}" at sally`);
  try {
    await seedSees("ann has joined the chat");
    ben = spawnCli(["client", "--server", server.address, "--name", "ben"]);
    await seedSees("ben has joined the chat");
    await ben.waitForLine("Server: Welcome to the chat, ben!");
    await ann.waitForLine(new RegExp(`^${TIME} System: ben has joined the chat$`));

    ann.child.stdin.write("hello from ann\n");
    await seedSees("hello from ann");
    await ben.waitForLine(new RegExp(`^${TIME} ann: hello from ann$`));

    call.write({
      user_id: seed.userId,
      username: "sally",
      message: "hello from sally",
      timestamp: "",
    });
    await ann.waitForLine(new RegExp(`^${TIME} sally: hello from sally$`));
    await ben.waitForLine(new RegExp(`^${TIME} sally: hello from sally$`));

    ben.child.stdin.end();
    assert.equal(await within(ben.exited, 5_000, "ben to leave"), 0);
    await seedSees("ben has left the chat");
    await ann.waitForLine(new RegExp(`^${TIME} System: ben has left the chat$`));

    call.end();
    await ann.waitForLine(new RegExp(`^${TIME} System: sally has left the chat$`));
    assert.ok(
      !ann.lines.some((line) => line.includes("ann: hello from ann")),
      "ann saw her own message",
    );
  } finally {
    ann.child.kill();
    ben?.child.kill();
    seed.close();
  }
});

test("line mode keeps running through a server restart and sends what was typed meanwhile", async () => {
  const dir = tempDir();
  const db = join(dir.path, "chat.db");
  let {
    server: serverProcess,
    port,
    address,
  } = await startServerProcess(["--port", "0", "--db", db]);
  const cli = spawnCli(["client", "--server", address, "--name", "rosa"]);
  try {
    const watcher = await liveUser({ address }, "watcher");
    await nextMatching(watcher.events, isPresence("rosa"), "rosa live");
    watcher.client.close();
    assert.equal(await stopProcess(serverProcess), 0);
    await cli.waitForLine("Server: The server is shutting down.");
    await cli.waitForLine(/^-- connection lost: /);
    await cli.waitForLine(/^-- reconnecting in [\d.]+ s \(attempt 1\)$/);
    cli.child.stdin.write("typed while the server was down\n");

    ({ server: serverProcess } = await startServerProcess(["--port", String(port), "--db", db]));
    // A reader from the start of the room sees what arrives once the client is back.
    const reader = await liveUser({ address }, "reader", { resumeAfterId: 0 });
    try {
      await cli.waitForLine("-- reconnected", 15_000);
      await nextMatching(reader.events, isText("typed while the server was down"), "the message");
      // Joins are stored as system entries; the user's own lines once each.
      const { messages } = await reader.client.history({ limit: 10, includeSystem: false });
      assert.deepEqual(
        messages.map((m) => m.text),
        ["typed while the server was down"],
        "sent once",
      );
    } finally {
      reader.client.close();
    }
    cli.child.stdin.write("/quit\n");
    assert.equal(await within(cli.exited, 10_000, "the client to exit"), 0);
  } finally {
    cli.child.kill();
    await stopProcess(serverProcess).catch(() => {});
    dir.remove();
  }
});

test("line mode: /register asks for a password it never prints, saves the token 0600, and the next run is logged in", async () => {
  const config = tempDir();
  const env = { XDG_CONFIG_HOME: config.path };
  const password = `pw-${randomUUID()}`;
  const first = spawnCli(["client", "--server", server.address, "--name", "regina"], env);
  const type = (cli: typeof first, line: string) => cli.child.stdin.write(`${line}\n`);
  try {
    await first.waitForLine("Server: Welcome to the chat, regina!");
    type(first, "/register");
    await first.waitForLine("Password for regina: ");
    type(first, password);
    await first.waitForLine("Registered and logged in as regina.");
    type(first, "/whoami");
    await first.waitForLine(/^You are regina, an account, public id a-/);
    type(first, "exit");
    assert.equal(await within(first.exited, 5_000, "the first client to exit"), 0);
    assert.ok(!first.lines.some((l) => l.includes(password)), "the password was printed");

    const file = join(config.path, "grpc-chat", "tokens.json");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    assert.equal(typeof saved[server.address], "string");
    assert.ok(!readFileSync(file, "utf8").includes(password));

    const second = spawnCli(["client", "--server", server.address, "--name", "someone"], env);
    await second.waitForLine("Server: Welcome to the chat, regina! You are logged in.");
    type(second, "/logout");
    await second.waitForLine("Logged out; you chat as a guest again.");
    type(second, "exit");
    assert.equal(await within(second.exited, 5_000, "the second client to exit"), 0);
    const after = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    assert.equal(after[server.address], undefined, "/logout forgets the saved token");
  } finally {
    config.remove();
  }
});

test("line mode: rooms, topics, who, and a direct message, each line naming its room", async () => {
  const lena = spawnCli(["client", "--server", server.address, "--name", "lena2"]);
  const max = spawnCli(["client", "--server", server.address, "--name", "max", "--room", "#dev"]);
  const type = (cli: typeof lena, line: string) => cli.child.stdin.write(`${line}\n`);
  try {
    await lena.waitForLine("Server: Welcome to the chat, lena2!");
    await max.waitForLine("Server: Welcome to the chat, max!");
    await max.waitForLine(/^(No messages yet\.|Last \d+ messages:)$/);
    type(lena, "/join #dev");
    await lena.waitForLine(/^(No messages yet\.|Last \d+ messages:)$/);
    // Two rooms open now: lena's lines name their room; max has one room open.
    type(lena, "hello dev");
    await max.waitForLine(new RegExp(`^${TIME} lena2: hello dev$`));
    type(lena, "/topic Deploy day");
    await max.waitForLine("lena2 set the topic: Deploy day");
    type(max, "/topic");
    await max.waitForLine("Topic of #dev: Deploy day");
    type(max, "/who");
    await max.waitForLine(/^Online in #dev \(2\): (lena2, max|max, lena2)$/);
    // A batch outside the lobby goes to the room shown, in order.
    for (const line of ["/batch", "first in dev", "second in dev", "/end"]) type(max, line);
    await lena.waitForLine(new RegExp(`^${TIME} #dev max: first in dev$`));
    await lena.waitForLine(new RegExp(`^${TIME} #dev max: second in dev$`));
    type(lena, "/rooms");
    await lena.waitForLine(/^#dev {2}2 online, newest message #\d+ - Deploy day$/);

    type(lena, "/msg max psst");
    await max.waitForLine(new RegExp(`^${TIME} @lena2 lena2: psst$`));
    type(max, "/msg lena2 back at you");
    await lena.waitForLine(new RegExp(`^${TIME} @max max: back at you$`));

    const obs = await observer("obs2");
    type(lena, "/switch lobby");
    type(lena, "in the lobby");
    await nextMatching(obs.events, isText("in the lobby"), "lena's lobby line");
    type(lena, "/leave #dev");
    await lena.waitForLine("You left #dev.");
    type(lena, "/switch dev");
    await lena.waitForLine("No open room is called dev.");
    type(lena, "exit");
    type(max, "exit");
    assert.equal(await within(lena.exited, 5_000, "lena to exit"), 0);
    assert.equal(await within(max.exited, 5_000, "max to exit"), 0);
    obs.client.close();
  } finally {
    lena.child.kill();
    max.child.kill();
  }
});

test("line mode: an account's direct messages are open at start, to switch to and answer", async () => {
  const ann = testClient(server, { username: "ann3" });
  const ben = testClient(server, { username: "ben3" });
  try {
    await ann.register("ann3", "a long password");
    const { token } = await ben.register("ben3", "a long password");
    const { room } = await ann.openDirect("ben3");
    const annSession = ann.openSession();
    const annEvents = annSession[Symbol.asyncIterator]();
    await annSession.send("are you there?", { room });
    await nextMatching(annEvents, (e) => e.type === "joined" && e.room === room, "ann in the DM");

    const cli = spawnCli(["client", "--server", server.address, "--token", token]);
    await cli.waitForLine("Server: Welcome to the chat, ben3! You are logged in.");
    cli.child.stdin.write("/switch @ann3\n");
    cli.child.stdin.write("yes, here\n");
    await nextMatching(annEvents, isText("yes, here"), "ben's answer in the DM");
    cli.child.stdin.write("exit\n");
    assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
    annSession.close();
  } finally {
    ann.close();
    ben.close();
  }
});

test("line mode: others' edits, deletes and reactions print as lines; /ids, /reply, /edit, /react, /delete", async () => {
  const obs = await observer("obs3");
  const cli = spawnCli(["client", "--server", server.address, "--name", "lina"]);
  const type = (line: string) => cli.child.stdin.write(`${line}\n`);
  const obsSees = (what: string, match: (m: ChatLine) => boolean) =>
    nextMatching(obs.events, (e) => e.type === "message" && match(e.message), what).then((e) =>
      e.type === "message" ? e.message : assert.fail(),
    );
  try {
    await cli.waitForLine("Server: Welcome to the chat, lina!");
    await nextMatching(obs.events, isPresence("lina"), "lina's join");
    const said = await obs.session.send("helo **all**");
    // Piped, the text is printed as typed: no styles for a script to strip.
    await cli.waitForLine(new RegExp(`^${TIME} obs3: helo \\*\\*all\\*\\*$`));

    await obs.client.edit("lobby", said.id, "hello **all**");
    await cli.waitForLine(new RegExp(`^${TIME} obs3 edited #${said.id}: hello \\*\\*all\\*\\*$`));
    await obs.client.react("lobby", said.id, "👍");
    await cli.waitForLine(new RegExp(`^${TIME} obs3 reacted 👍 to #${said.id}$`));
    await obs.client.react("lobby", said.id, "👍", true);
    await cli.waitForLine(new RegExp(`^${TIME} obs3 removed 👍 from #${said.id}$`));

    type("/ids");
    await cli.waitForLine("Message numbers are shown.");
    type(`/reply ${said.id} hi obs`);
    const reply = await obsSees("lina's reply", (m) => m.text === "hi obs");
    assert.equal(reply.replyTo, said.id);
    const other = await obs.session.send("and one more");
    await cli.waitForLine(new RegExp(`^${TIME} #${other.id} obs3: and one more$`));

    type("/edit last hi obs, edited");
    const edit = await obsSees("lina's edit", (m) => m.change?.kind === "edit");
    assert.deepEqual([edit.change?.targetId, edit.text], [reply.id, "hi obs, edited"]);
    await cli.waitForLine(new RegExp(`^${TIME} lina edited #${reply.id}: hi obs, edited$`));
    type(`/react ${other.id} :tada:`);
    const reaction = await obsSees("lina's reaction", (m) => m.change?.kind === "reaction");
    assert.deepEqual(reaction.change, {
      kind: "reaction",
      targetId: other.id,
      emoji: ":tada:",
      added: true,
      count: 1,
    });
    type("/delete last");
    const deleted = await obsSees("lina's delete", (m) => m.change?.kind === "delete");
    assert.equal(deleted.change?.targetId, reply.id);
    await cli.waitForLine(new RegExp(`^${TIME} lina deleted #${reply.id}$`));

    // A reply shows what it answers; History gives the current state.
    await obs.session.send("answering", { replyTo: other.id });
    await cli.waitForLine(new RegExp(`^${TIME} #\\d+ obs3 \\(↪ obs3: and one more\\): answering$`));
    type("/history 4");
    await cli.waitForLine(
      new RegExp(`^${TIME} #${said.id} obs3: hello \\*\\*all\\*\\* \\(edited\\)$`),
    );
    await cli.waitForLine(
      new RegExp(`^${TIME} #${reply.id} lina \\(↪ obs3: hello all\\): \\(message deleted\\)$`),
    );
    await cli.waitForLine(
      new RegExp(`^${TIME} #${other.id} obs3: and one more \\[:tada: 1\\*\\]$`),
    );

    type("/edit 99999 nope");
    await cli.waitForLine(/^error: Not edited: .+/);
    type("/react");
    await cli.waitForLine(/^Usage: \/react \[last\|N\] emoji/);
    type("exit");
    assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
  } finally {
    cli.child.kill();
    obs.session.close();
    obs.client.close();
  }
});

test("line mode on a seed-only server: the commands for changing messages say it cannot, and the chat goes on", async (t) => {
  requirePythonGrpc();
  const seed = await startSeedServer();
  const cli = spawnCli(["client", "--server", seed.address, "--name", "sid"]);
  t.after(async () => {
    cli.child.kill();
    await seed.stop();
  });
  await cli.waitForLine(/^This server speaks only the original chat protocol/);
  for (const [line, needs] of [
    ["/edit last better", "/edit is not available: .* no editing of messages\\.$"],
    ["/delete", "/delete is not available: .* no deleting of messages\\.$"],
    ["/react 👍", "/react is not available: .* no reactions\\.$"],
    ["/reply 3 yes", "/reply is not available: .* no replies\\.$"],
    ["/ids", "/ids is not available: .* no message numbers\\.$"],
  ] as const) {
    cli.child.stdin.write(`${line}\n`);
    await cli.waitForLine(new RegExp(`^error: ${needs}`));
  }
  cli.child.stdin.write("/ping\n");
  await cli.waitForLine(/^Pong in/);
  cli.child.stdin.end();
  assert.equal(await within(cli.exited, 5_000, "the client to exit"), 0);
});
