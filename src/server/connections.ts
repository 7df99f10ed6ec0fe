import { ChatError } from "../core/chat-error.ts";

/** How a live stream reached the server. */
export type Transport = "grpc" | "http";

/**
 * Connections with live streams open, per client address and per transport.
 * A connection is a peer (address and port); the limit is on how many of
 * them one address holds, so a client that opens a thousand connections
 * cannot exhaust the server while a team behind one address still fits.
 */
export class ConnectionsPerAddress {
  readonly #max: number;
  /** Live streams per peer, per address. */
  readonly #byAddress = new Map<string, Map<string, number>>();
  readonly #peers = new Map<Transport, Map<string, number>>([
    ["grpc", new Map()],
    ["http", new Map()],
  ]);

  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Counts one live stream of `peer` until the returned function is called
   * (more calls do nothing); throws RESOURCE_EXHAUSTED past the limit.
   */
  enter(transport: Transport, address: string, peer: string): () => void {
    let peers = this.#byAddress.get(address);
    if (!peers) {
      peers = new Map();
      this.#byAddress.set(address, peers);
    }
    const streams = peers.get(peer) ?? 0;
    if (this.#max > 0 && streams === 0 && peers.size >= this.#max) {
      if (peers.size === 0) this.#byAddress.delete(address);
      throw new ChatError(
        "resource_exhausted",
        `Your address already holds ${this.#max} connections with live streams, the most this server allows; close some first.`,
      );
    }
    const ofTransport = this.#peers.get(transport) as Map<string, number>;
    peers.set(peer, streams + 1);
    ofTransport.set(peer, (ofTransport.get(peer) ?? 0) + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      decrement(peers, peer);
      decrement(ofTransport, peer);
      if (peers.size === 0) this.#byAddress.delete(address);
    };
  }

  /** Connections and streams with live calls on one transport, for metrics. */
  live(transport: Transport): { connections: number; streams: number } {
    const peers = this.#peers.get(transport) as Map<string, number>;
    let streams = 0;
    for (const count of peers.values()) streams += count;
    return { connections: peers.size, streams };
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const now = (counts.get(key) ?? 1) - 1;
  if (now > 0) counts.set(key, now);
  else counts.delete(key);
}
