import { createConnection, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy on a free loopback port that a test can cut. */
export interface TcpProxy {
  /** "127.0.0.1:port": dial this instead of the target. */
  readonly address: string;
  /** Connections open through it now. */
  readonly open: number;
  /** Drops every open connection at once, as a network fault would; new ones are let through. */
  cut(): number;
  /** Sends new connections to `target` from now on, as a load balancer does when a node is gone. */
  retarget(target: string): void;
  close(): Promise<void>;
}

/** Forwards each connection to `target` ("host:port"). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  let current = target;
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    const [host, port] = current.split(":") as [string, string];
    const upstream = createConnection({ host, port: Number(port) });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");
  return {
    address: `127.0.0.1:${address.port}`,
    get open() {
      return pairs.size;
    },
    cut() {
      const count = pairs.size;
      for (const [client, upstream] of [...pairs]) {
        // A reset, not a polite close: the peer learns at its next read or write.
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
      return count;
    },
    retarget(next) {
      current = next;
    },
    close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
