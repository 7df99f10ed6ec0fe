// One load process of `npm run bench -- capacity`: opens its share of the
// streams, says when each has heard a probe, then when each got the
// broadcast. Talks to the parent over IPC.
import { connectSeed, type SeedConnection, seedChannel } from "./seed-load.ts";

const [address = "", first = "0", count = "0", perConnection = "1"] = process.argv.slice(2);
const total = Number(count);
const perChannel = Number(perConnection);
let probed = 0;
let got = 0;
let lastAt = 0;
const heard = new Uint8Array(total);
const received = new Uint8Array(total);
const connections: SeedConnection[] = [];
const send = (message: object) => process.send?.(message);

const channels = Array.from({ length: Math.ceil(total / perChannel) }, () => seedChannel(address));
for (let start = 0; start < total; start += 200) {
  const batch = [];
  for (let i = start; i < Math.min(total, start + 200); i++) {
    const channel = channels[Math.floor(i / perChannel)];
    batch.push(
      connectSeed(
        address,
        `cap${Number(first) + i}`,
        (text) => {
          if (text.startsWith("probe")) {
            if (!heard[i]) {
              heard[i] = 1;
              probed += 1;
            }
          } else if (text.startsWith("broadcast") && !received[i]) {
            received[i] = 1;
            got += 1;
            lastAt = performance.timeOrigin + performance.now();
            if (got === total) send({ type: "got", got, lastAt });
          }
        },
        channel,
      ),
    );
  }
  connections.push(...(await Promise.all(batch)));
}
send({ type: "connected" });
process.on("message", (message: { type: string }) => {
  if (message.type === "probed?") send({ type: "probed", probed });
  if (message.type === "report") send({ type: "got", got, lastAt });
  if (message.type === "exit") {
    for (const connection of connections) connection.close();
    for (const channel of channels) channel.close();
    process.exit(0);
  }
});
