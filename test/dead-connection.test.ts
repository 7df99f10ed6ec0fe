import { after, before, test } from "node:test";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import {
  isCaughtUp,
  isPresence,
  liveUser,
  nextMatching,
  spawnCli,
  startTestServer,
  within,
} from "./helpers.ts";

let server: RunningChatServer;
before(async () => {
  // Pings every 300 ms, 300 ms to answer: a frozen peer is found within a second or so.
  server = await startTestServer({ keepaliveMs: 300, keepaliveTimeoutMs: 300 });
});
after(() => server.stop());

async function watch() {
  const sentry = await liveUser(server, "sentry");
  await nextMatching(sentry.events, isCaughtUp, "sentry live");
  return sentry;
}

test("a client process that is killed is announced as leaving", async () => {
  const sentry = await watch();
  const cli = spawnCli(["client", "--server", server.address, "--name", "killed"]);
  try {
    await nextMatching(sentry.events, isPresence("killed"), "the join");
    cli.child.kill("SIGKILL");
    await nextMatching(sentry.events, isPresence("killed", false), "the leave after SIGKILL");
  } finally {
    cli.child.kill("SIGKILL");
    sentry.client.close();
  }
});

test("a client that stops answering is found by keepalive and announced as leaving", async () => {
  const sentry = await watch();
  const cli = spawnCli(["client", "--server", server.address, "--name", "frozen"]);
  try {
    await nextMatching(sentry.events, isPresence("frozen"), "the join");
    // Frozen, not gone: its socket stays open, so only keepalive can tell.
    cli.child.kill("SIGSTOP");
    await nextMatching(
      sentry.events,
      isPresence("frozen", false),
      "the leave found by keepalive",
      10_000,
    );
  } finally {
    cli.child.kill("SIGKILL");
    await within(cli.exited, 5_000, "the frozen client to be killed");
    sentry.client.close();
  }
});
