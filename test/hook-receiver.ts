// A receiver for bots' outgoing hooks: a real HTTP server on loopback whose
// deliveries a test awaits, and which can go down and come back on its port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { within } from "./helpers.ts";

export interface Delivery {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  readonly json: { room: string; id: number; sender: string; text: string; time_ms: number };
}

/** An HTTP receiver whose deliveries are awaited one by one; `answer` chooses each reply. */
export class Receiver {
  readonly deliveries: Delivery[] = [];
  answer: (delivery: Delivery) => { status: number; json?: unknown } = () => ({ status: 200 });
  #server: Server | undefined;
  #port = 0;
  #waiters: Array<() => void> = [];

  async start(): Promise<void> {
    const server = createServer((request, response) => this.#take(request, response));
    await new Promise<void>((resolve) => server.listen(this.#port, "127.0.0.1", resolve));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Down: connections are refused until `start` again (same port). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  /** Resolves once `count` deliveries have arrived in all. */
  async until(count: number, what: string): Promise<Delivery[]> {
    await within(
      (async () => {
        while (this.deliveries.length < count) {
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      10_000,
      what,
    );
    return this.deliveries.slice(0, count);
  }

  #take(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const delivery = {
        path: request.url ?? "",
        headers: request.headers,
        body,
        json: JSON.parse(body),
      };
      const { status, json } = this.answer(delivery);
      if (status >= 200 && status < 300) this.deliveries.push(delivery);
      response.writeHead(status, { "content-type": json ? "application/json" : "text/plain" });
      response.end(json ? JSON.stringify(json) : "");
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }
}
