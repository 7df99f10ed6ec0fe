// One load process of `npm run bench -- ingest`: connects its share of the
// senders, says so, sends when told and reports what was acknowledged.
import { runIngest } from "./store-scenarios.ts";

const [address = "", first = "0", senders = "0", seconds = "10", window = "32", batch = "0"] =
  process.argv.slice(2);
const go = new Promise<void>((resolve) => process.once("message", () => resolve()));
const result = await runIngest(address, Number(senders), Number(seconds), Number(window), {
  first: Number(first),
  batch: Number(batch),
  ready: async () => {
    process.send?.({ type: "connected" });
    await go;
  },
});
process.send?.({ type: "done", ...result }, () => process.exit(0));
