// Appends/s through PgStore: `senders` callers each sending one message at a time.
const root = process.argv[2] ?? "/work/main";
const senders = Number(process.argv[3] ?? 50);
const seconds = Number(process.argv[4] ?? 8);
const { openPgStore } = await import(`${root}/src/store/pg-store.ts`);
const schema = `probe_${Math.random().toString(16).slice(2, 10)}`;
const store = await openPgStore({ url: "postgres://postgres@127.0.0.1:5432/test", schema, ...(process.argv[5] ? { appendLanes: Number(process.argv[5]) } : {}) });
let count = 0;
const until = Date.now() + seconds * 1000;
const latencies: number[] = [];
await Promise.all(
  Array.from({ length: senders }, async (_, s) => {
    for (let i = 0; Date.now() < until; i++) {
      const t = performance.now();
      await store.append([
        { room: `room-${s % 10}`, userId: `u${s}`, username: `u${s}`, text: "hello there", kind: "chat", clientMsgId: `k${i}` },
      ]);
      latencies.push(performance.now() - t);
      count++;
    }
  }),
);
latencies.sort((a, b) => a - b);
console.log(`${root}: ${Math.round(count / seconds)} appends/s, p50 ${latencies[Math.floor(latencies.length / 2)]?.toFixed(2)} ms, p99 ${latencies[Math.floor(latencies.length * 0.99)]?.toFixed(2)} ms`);
await store.close();
const pg = (await import("pg")).default;
const c = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/test" });
await c.connect(); await c.query(`DROP SCHEMA ${schema} CASCADE`); await c.end();
