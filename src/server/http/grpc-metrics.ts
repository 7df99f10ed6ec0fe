import type { DescMethod } from "@bufbuild/protobuf";
import { Counter, Histogram, type Registry } from "prom-client";
import type { Transport } from "../connections.ts";
import type { MethodMetrics, RpcMetrics } from "../rpc-metrics.ts";

/** gRPC's code names as the grpc-ecosystem metrics spell them (Go's codes.Code.String()). */
const CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

const TYPES: Record<DescMethod["methodKind"], string> = {
  unary: "unary",
  client_streaming: "client_stream",
  server_streaming: "server_stream",
  bidi_streaming: "bidi_stream",
};

const LABELS = ["grpc_service", "grpc_method", "grpc_type", "transport"] as const;

/**
 * `grpc_server_started_total`, `grpc_server_handled_total` and, for unary
 * calls, `grpc_server_handling_seconds`, with the names and labels of the
 * grpc-ecosystem's Go and Java interceptors (so their dashboards work), plus
 * a `transport` label: `grpc` for the native port, `http` for Connect and
 * gRPC-Web.
 */
export function createGrpcMetrics(registry: Registry): RpcMetrics {
  const registers = [registry];
  const started = new Counter({
    name: "grpc_server_started_total",
    help: "RPCs started on the server.",
    labelNames: LABELS,
    registers,
  });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, whatever their status.",
    labelNames: [...LABELS, "grpc_code"],
    registers,
  });
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from a unary RPC's start to its reply, in seconds.",
    labelNames: LABELS,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  return {
    of(method: DescMethod, transport: Transport): MethodMetrics {
      const labels = {
        grpc_service: method.parent.typeName,
        grpc_method: method.name,
        grpc_type: TYPES[method.methodKind],
        transport,
      };
      const startedCount = started.labels(labels);
      const timer = method.methodKind === "unary" ? seconds.labels(labels) : undefined;
      // A code's series is made when a call first ends with it.
      const byCode = new Map<number, { inc(): void }>();
      const handledAs = (code: number) => {
        let counter = byCode.get(code);
        if (!counter) {
          counter = handled.labels({ ...labels, grpc_code: CODE_NAMES[code] ?? "Unknown" });
          byCode.set(code, counter);
        }
        return counter;
      };
      return {
        start() {
          startedCount.inc();
          const startedAt = timer ? performance.now() : 0;
          let done = false;
          return (code) => {
            if (done) return;
            done = true;
            handledAs(code).inc();
            timer?.observe((performance.now() - startedAt) / 1000);
          };
        },
      };
    },
  };
}
