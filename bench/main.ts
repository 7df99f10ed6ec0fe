// `npm run bench -- [scenario] [flags]`. Each scenario prints a line per run
// for people and a JSON line per run for machines. With --compare, fan-out
// and capacity run against our server and the reference (bench/ceiling.ts),
// interleaved, at least twice each, a fresh server each run.
//   fanout --clients 8 --senders 4 [--rate 0] [--seconds 10] [--bytes 100] [--window 64]
//          [--nodes 2: ours as a cluster on PostgreSQL and Redis, clients spread over the nodes]
//          [--transport native,connect,connect-json,grpc-web [--tls]: our Subscribe on each,
//           server CPU per delivery against native's; --tls: TLS, HTTP/2 on the HTTP port]
//   capacity --clients 20000 [--workers 4] [--per-connection 100 above 15,000 streams]
//   history --stored 1000000 --limit 500      (ours only: the reference stores nothing)
//   ingest --senders 50 [--seconds 10] [--window 32] [--processes 2] [--batch 0] [--nodes 2]   (ours only)
//   refusals [--seconds 10] [--users 20] [--rooms 4] [--readers 2] [--user-rate 2] [--ping-every 10]
//            [--abuse a,b,c] [--in-flight 256] [--guests 30] [--guest-rate 10] [--warmup 3] [--settle 3]
//            [--abuser-nice 0]
//            (ours only, default limits; not part of the full run: one abuser against ordinary users)
//   search [--stored 1000000] [--queries 300] [--runs 3] [--seconds 10] [--window 1600] [--fresh]
//          [--quiet-days 0: ask as if the server had been quiet this long since the newest message]
//          [--seconds 0: the queries only, no ingest runs]
//          [--nodes 2: the PostgreSQL store]   (the store alone, no server; not part of the full run)
// With no scenario, all of them as docs/benchmarks.md lists them, then the
// table. Common: --compare [--runs 3], --server ours|ceiling, --cpu-prof (the
// server writes a V8 profile in the working directory), --plot file.svg,
// --durability full|normal (ours; default full).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { plot } from "./plot.ts";
import { type AbuseWay, refusals } from "./refusals.ts";
import { capacity, fanout, history, ingest, type RunOptions, type Summary } from "./scenarios.ts";
import { search } from "./search.ts";
import type { ServerKind } from "./servers.ts";
import { STREAM_TRANSPORTS, type StreamTransport } from "./stream-load.ts";
import { transportFanout } from "./transport-scenario.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clients: { type: "string" },
    senders: { type: "string" },
    rate: { type: "string", default: "0" },
    seconds: { type: "string", default: "10" },
    bytes: { type: "string", default: "100" },
    window: { type: "string" },
    processes: { type: "string" },
    batch: { type: "string" },
    compare: { type: "boolean", default: false },
    transport: { type: "string" },
    tls: { type: "boolean", default: false },
    runs: { type: "string" },
    server: { type: "string", default: "ours" },
    "cpu-prof": { type: "boolean", default: false },
    stored: { type: "string", default: "1000000" },
    limit: { type: "string", default: "500" },
    workers: { type: "string", default: "4" },
    "per-connection": { type: "string" },
    plot: { type: "string" },
    durability: { type: "string", default: "full" },
    nodes: { type: "string", default: "1" },
    users: { type: "string", default: "20" },
    rooms: { type: "string", default: "4" },
    readers: { type: "string", default: "2" },
    "user-rate": { type: "string", default: "2" },
    "ping-every": { type: "string", default: "10" },
    abuse: { type: "string", default: "a,b,c" },
    "in-flight": { type: "string", default: "256" },
    guests: { type: "string", default: "30" },
    "guest-rate": { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    settle: { type: "string", default: "3" },
    "abuser-nice": { type: "string", default: "0" },
    queries: { type: "string", default: "300" },
    fresh: { type: "boolean", default: false },
    "quiet-days": { type: "string", default: "0" },
  },
});
const options: RunOptions = {
  compare: values.compare,
  runs: Number(values.runs ?? (values.compare ? 3 : 1)),
  server: values.server as ServerKind,
  nodeArgs: values["cpu-prof"] ? ["--cpu-prof"] : [],
  durability: values.durability === "normal" ? "normal" : "full",
  nodes: Number(values.nodes),
};
const seconds = Number(values.seconds);
const bytes = Number(values.bytes);
const number = (value: string | undefined, fallback: number) =>
  value === undefined ? fallback : Number(value);

const fanoutWith = (clients: number, senders: number, rate = 0) =>
  fanout({ clients, senders, rate, seconds, bytes, window: number(values.window, 64) }, options);
const capacityWith = (clients: number) =>
  capacity(
    {
      clients,
      workers: Number(values.workers),
      // One connection per stream unless that would pass the file-descriptor limit.
      perConnection: number(values["per-connection"], clients > 15_000 ? 100 : 1),
    },
    options,
  );
const historyWith = () =>
  history({ stored: Number(values.stored), limit: Number(values.limit) }, options);
const ingestWith = (batch: number) =>
  ingest(
    {
      senders: number(values.senders, 50),
      seconds,
      // Batches are big: a couple in flight keep the store busy.
      window: number(values.window, batch > 0 ? 2 : 32),
      processes: number(values.processes, 2),
      batch,
    },
    options,
  );

const transportsWith = (clients: number, senders: number, rate: number, tls: boolean) =>
  transportFanout(
    {
      clients,
      senders,
      rate,
      seconds,
      bytes,
      window: number(values.window, 64),
      transports: (values.transport ?? STREAM_TRANSPORTS.join(",")).split(",").map((t) => {
        if (!STREAM_TRANSPORTS.includes(t as StreamTransport))
          throw new Error(`--transport takes ${STREAM_TRANSPORTS.join(", ")}; not "${t}"`);
        return t as StreamTransport;
      }),
      tls,
    },
    options,
  );

const scenario = positionals[0];
const summaries: Summary[] = [];
switch (scenario) {
  case "fanout":
    if (values.transport) {
      summaries.push(
        ...(await transportsWith(
          number(values.clients, 100),
          number(values.senders, 4),
          Number(values.rate),
          values.tls,
        )),
      );
      break;
    }
    summaries.push(
      await fanoutWith(number(values.clients, 8), number(values.senders, 4), Number(values.rate)),
    );
    break;
  case "capacity":
    summaries.push(await capacityWith(number(values.clients, 20_000)));
    break;
  case "history":
    summaries.push(await historyWith());
    break;
  case "ingest":
    summaries.push(await ingestWith(number(values.batch, 0)));
    break;
  case "refusals":
    summaries.push(
      ...(await refusals(
        {
          seconds,
          users: Number(values.users),
          rooms: Number(values.rooms),
          readers: Number(values.readers),
          userRate: Number(values["user-rate"]),
          pingEveryMs: Number(values["ping-every"]),
          abuse: values.abuse.split(",").filter((w): w is AbuseWay => ["a", "b", "c"].includes(w)),
          inFlight: Number(values["in-flight"]),
          guests: Number(values.guests),
          guestRate: Number(values["guest-rate"]),
          warmup: Number(values.warmup),
          settle: Number(values.settle),
          abuserNice: Number(values["abuser-nice"]),
        },
        options,
      )),
    );
    break;
  case "search":
    summaries.push(
      ...(await search({
        messages: Number(values.stored),
        queries: Number(values.queries),
        runs: number(values.runs, 3),
        seconds,
        window: number(values.window, 1600),
        fresh: values.fresh,
        quietDays: Number(values["quiet-days"]),
        postgres: options.nodes > 1,
        durability: options.durability,
      })),
    );
    break;
  case undefined:
    summaries.push(
      await fanoutWith(8, 4),
      await fanoutWith(100, 4),
      await fanoutWith(1000, 1),
      await fanoutWith(8, 1, 50),
      ...(await transportsWith(100, 4, 50, false)),
      ...(await transportsWith(100, 4, 0, false)),
      ...(await transportsWith(1000, 1, 200, false)),
      ...(await transportsWith(1000, 1, 0, false)),
      ...(await transportsWith(100, 4, 50, true)),
      ...(await transportsWith(100, 4, 0, true)),
      await capacityWith(20_000),
      await historyWith(),
      await ingestWith(0),
      await ingestWith(100),
    );
    break;
  default:
    process.stderr.write(
      `Unknown scenario "${scenario}"; try fanout, capacity, history, ingest, refusals or search, or none for all.\n`,
    );
    process.exit(2);
}

const figure = (value: number | undefined, unit: string) =>
  value === undefined
    ? "-"
    : unit === "/s"
      ? `${Math.round(value).toLocaleString("en")}/s`
      : `${value.toFixed(value < 10 ? 2 : 0)} ${unit}`;
process.stdout.write(
  "\n| scenario | ours | reference | target | met | notes |\n| --- | --- | --- | --- | --- | --- |\n",
);
for (const s of summaries) {
  process.stdout.write(
    `| ${s.scenario} | ${figure(s.ours, s.unit)} | ${figure(s.reference, s.unit)} | ${s.target} | ${s.met ? "yes" : "no"} | ${s.detail} |\n`,
  );
}
if (values.plot) {
  writeFileSync(values.plot, plot(summaries));
  process.stdout.write(`wrote ${values.plot}\n`);
}
