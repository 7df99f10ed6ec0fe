// One load process of `npm run bench -- ingest`: connects its share of the
// senders, says so, sends when told and reports what was acknowledged and
// the CPU it used meanwhile. One send each goes through the lean load
// (ingest-load.ts); batches through the SDK's SendMessages.
import { runLeanIngest } from "./ingest-load.ts";
import { runIngest } from "./store-scenarios.ts";

const [address = "", first = "0", senders = "0", seconds = "10", window = "32", batch = "0"] =
  process.argv.slice(2);
const go = new Promise<void>((resolve) => process.once("message", () => resolve()));
let cpuBefore = process.cpuUsage();
const options = {
  first: Number(first),
  ready: async () => {
    process.send?.({ type: "connected" });
    await go;
    cpuBefore = process.cpuUsage();
  },
};
const result =
  Number(batch) > 0
    ? await runIngest(address, Number(senders), Number(seconds), Number(window), {
        ...options,
        batch: Number(batch),
      })
    : await runLeanIngest(address, Number(senders), Number(seconds), Number(window), options);
const cpu = process.cpuUsage(cpuBefore);
process.send?.({ type: "done", ...result, cpuSeconds: (cpu.user + cpu.system) / 1e6 }, () =>
  process.exit(0),
);
