import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Chat } from "../../core/chat.ts";
import type { ChatStats } from "../../core/stats.ts";
import type { Store } from "../../store/store.ts";
import type { ConnectionsPerAddress, Transport } from "../connections.ts";
import type { FallbackWrites } from "../fallback-writes.ts";
import type { RpcMetrics } from "../rpc-metrics.ts";
import { createGrpcMetrics } from "./grpc-metrics.ts";

const TRANSPORTS: readonly Transport[] = ["grpc", "http"];

/** Store calls timed, by what they are. */
const TIMED: Record<string, "append" | "query"> = {
  append: "append",
  history: "query",
  after: "query",
  lastId: "query",
  listRooms: "query",
};

/**
 * The server's Prometheus metrics, in a registry of its own (so several
 * servers in one process never share one). The core's counts are plain
 * numbers, read when scraped; only the store's latency is timed as it happens.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  /** Every RPC on both transports, in the grpc-ecosystem's names. */
  readonly rpc: RpcMetrics;
  readonly #storeSeconds: Histogram<"operation">;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.rpc = createGrpcMetrics(this.registry);
    this.#storeSeconds = new Histogram({
      name: "grpc_chat_store_seconds",
      help: "Store call latency: append (a group commit, fsync included) and query (reads).",
      labelNames: ["operation"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [this.registry],
    });
  }

  /** The store with its appends and reads timed; every other call passes straight through. */
  timeStore(store: Store): Store {
    const seconds = this.#storeSeconds;
    // Methods are looked up on every call the core makes: wrap each once.
    const methods = new Map<PropertyKey, unknown>();
    return new Proxy(store, {
      get(target, property) {
        const known = methods.get(property);
        if (known) return known;
        const value = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        const operation = typeof property === "string" ? TIMED[property] : undefined;
        const timer = operation ? seconds.labels(operation) : undefined;
        const method = timer
          ? async (...args: unknown[]) => {
              const stop = timer.startTimer();
              try {
                return await value.apply(target, args);
              } finally {
                stop();
              }
            }
          : value.bind(target);
        methods.set(property, method);
        return method;
      },
    });
  }

  /** Registers what is read from the running chat and its connections at each scrape. */
  watch(chat: Chat, connections: ConnectionsPerAddress, fallback: FallbackWrites): void {
    const register = [this.registry];
    const stats = chat.stats;
    const total = (name: string, help: string, read: (stats: ChatStats) => number) =>
      new Counter({
        name,
        help,
        registers: register,
        collect() {
          this.reset();
          this.inc(read(stats));
        },
      });
    total(
      "grpc_chat_messages_stored_total",
      "Messages stored and acknowledged.",
      (s) => s.messagesStored,
    );
    total(
      "grpc_chat_messages_fanned_out_total",
      "Messages fanned out to a room's streams on this node (its own and those from other nodes).",
      (s) => s.messagesFannedOut,
    );
    total("grpc_chat_deliveries_total", "Items written to live streams.", (s) => s.deliveries);
    new Counter({
      name: "grpc_chat_fallback_writes_total",
      help: "Live-stream writes through grpc-js instead of straight to the HTTP/2 stream (0 unless something took the direct path away).",
      registers: register,
      collect() {
        this.reset();
        this.inc(fallback.count);
      },
    });
    total(
      "grpc_chat_readers_cut_off_total",
      "Times a stream's queue passed its bound and the stream was fed from the store instead.",
      (s) => s.readersCutOff,
    );
    total(
      "grpc_chat_readers_ended_total",
      "Streams ended because their reader took nothing for the reader timeout.",
      (s) => s.readersEnded,
    );
    total(
      "grpc_chat_replay_pages_total",
      "History pages read to catch streams up.",
      (s) => s.replayPages,
    );
    total(
      "grpc_chat_replayed_messages_total",
      "Messages delivered from history to catch streams up.",
      (s) => s.replayedMessages,
    );
    const byLabel = <K extends string>(
      name: string,
      help: string,
      label: string,
      read: (stats: ChatStats) => Map<K, number>,
    ) =>
      new Counter({
        name,
        help,
        labelNames: [label],
        registers: register,
        collect() {
          this.reset();
          for (const [value, count] of read(stats)) this.inc({ [label]: value }, count);
        },
      });
    byLabel(
      "grpc_chat_sends_rejected_total",
      "Sends refused, by code.",
      "reason",
      (s) => s.rejectedSends,
    );
    byLabel(
      "grpc_chat_auth_failures_total",
      "Calls refused for who they are, by why.",
      "reason",
      (s) => s.authFailures,
    );
    const gauge = (
      name: string,
      help: string,
      set: (gauge: Gauge<string>) => void,
      labels: string[] = [],
    ) =>
      new Gauge({
        name,
        help,
        labelNames: labels,
        registers: register,
        collect() {
          set(this);
        },
      });
    gauge(
      "grpc_chat_connections",
      "Client connections with live streams, by transport.",
      (g) => {
        for (const transport of TRANSPORTS)
          g.set({ transport }, connections.live(transport).connections);
      },
      ["transport"],
    );
    gauge(
      "grpc_chat_streams",
      "Live streams, by transport.",
      (g) => {
        for (const transport of TRANSPORTS)
          g.set({ transport }, connections.live(transport).streams);
      },
      ["transport"],
    );
    gauge("grpc_chat_rooms", "Rooms with at least one live stream.", (g) => g.set(chat.roomCount));
    gauge(
      "grpc_chat_cluster_nodes",
      "Other nodes this node hears from (0 alone, or while the bus is away).",
      (g) => g.set(chat.otherNodes),
    );
    gauge(
      "grpc_chat_queued_bytes",
      "Encoded bytes waiting in live streams' queues for slow readers.",
      (g) => g.set(chat.queuedBytes()),
    );
    new Counter({
      name: "grpc_chat_outgoing_hook_posts_total",
      help: "POSTs to bots' outgoing hooks from this node, by outcome (failed: an error or a non-2xx answer; retried).",
      labelNames: ["outcome"],
      registers: register,
      collect() {
        this.reset();
        const totals = chat.outgoing?.totals() ?? { delivered: 0, failed: 0 };
        this.inc({ outcome: "delivered" }, totals.delivered);
        this.inc({ outcome: "failed" }, totals.failed);
      },
    });
  }
}
