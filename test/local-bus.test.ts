import { LocalHub } from "../src/bus/local-bus.ts";
import { busContract } from "./bus-contract.ts";

const hub = new LocalHub();
busContract("LocalBus", async () => hub.connect());
