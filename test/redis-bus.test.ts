import { randomBytes } from "node:crypto";
import { connectRedisBus } from "../src/bus/redis-bus.ts";
import { busContract } from "./bus-contract.ts";
import { REDIS_URL } from "./engine-urls.ts";

// A prefix of its own, so that runs (and other suites) cannot hear each other.
const prefix = `test-${randomBytes(6).toString("hex")}`;
busContract("RedisBus", () => connectRedisBus({ url: REDIS_URL, prefix }));
