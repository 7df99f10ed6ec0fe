import { after, before, test } from "node:test";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { isText, nextMatching, spawnCli, startTestServer, testClient, within } from "./helpers.ts";

let server: RunningChatServer;
before(async () => {
  // Pings every 300 ms, 300 ms to answer: a frozen peer is found within a second or so.
  server = await startTestServer({ keepaliveMs: 300, keepaliveTimeoutMs: 300 });
});
after(() => server.stop());

async function watch() {
  const client = testClient(server, { username: "sentry" });
  await client.join();
  const session = client.openSession();
  const events = session[Symbol.asyncIterator]();
  await nextMatching(events, (e) => e.type === "caught_up", "sentry live");
  return { client, session, events };
}

test("a client process that is killed is announced as leaving", async () => {
  const sentry = await watch();
  const cli = spawnCli(["client", "--server", server.address, "--name", "killed"]);
  try {
    await nextMatching(sentry.events, isText("killed has joined the chat"), "the join");
    cli.child.kill("SIGKILL");
    await nextMatching(
      sentry.events,
      isText("killed has left the chat"),
      "the leave after SIGKILL",
    );
  } finally {
    cli.child.kill("SIGKILL");
    sentry.client.close();
  }
});

test("a client that stops answering is found by keepalive and announced as leaving", async () => {
  const sentry = await watch();
  const cli = spawnCli(["client", "--server", server.address, "--name", "frozen"]);
  try {
    await nextMatching(sentry.events, isText("frozen has joined the chat"), "the join");
    // Frozen, not gone: its socket stays open, so only keepalive can tell.
    cli.child.kill("SIGSTOP");
    await nextMatching(
      sentry.events,
      isText("frozen has left the chat"),
      "the leave found by keepalive",
      10_000,
    );
  } finally {
    cli.child.kill("SIGKILL");
    await within(cli.exited, 5_000, "the frozen client to be killed");
    sentry.client.close();
  }
});
