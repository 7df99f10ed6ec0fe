import { ChatError } from "../core/chat-error.ts";
import { clientAddress } from "./identity.ts";

interface LiveCall {
  getPeer(): string;
  once(event: "cancelled" | "finish" | "close", listener: () => void): unknown;
}

/**
 * Connections with live streams open, per client address. A connection is a
 * peer (address and port); the limit is on how many of them one address
 * holds, so a client that opens a thousand connections cannot exhaust the
 * server while a team behind one address still fits.
 */
export class ConnectionsPerAddress {
  readonly #max: number;
  readonly #byAddress = new Map<string, Map<string, number>>();

  constructor(max: number) {
    this.#max = max;
  }

  /** Counts `call` until it ends; throws RESOURCE_EXHAUSTED past the limit. */
  enter(call: LiveCall): void {
    if (this.#max <= 0) return;
    const peer = call.getPeer();
    const address = clientAddress(call);
    let peers = this.#byAddress.get(address);
    if (!peers) {
      peers = new Map();
      this.#byAddress.set(address, peers);
    }
    const streams = peers.get(peer) ?? 0;
    if (streams === 0 && peers.size >= this.#max) {
      throw new ChatError(
        "resource_exhausted",
        `Your address already holds ${this.#max} connections with live streams, the most this server allows; close some first.`,
      );
    }
    peers.set(peer, streams + 1);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      const now = (peers.get(peer) ?? 1) - 1;
      if (now > 0) peers.set(peer, now);
      else peers.delete(peer);
      if (peers.size === 0) this.#byAddress.delete(address);
    };
    call.once("cancelled", leave);
    call.once("finish", leave);
    call.once("close", leave);
  }
}
