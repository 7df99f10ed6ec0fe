import { randomBytes } from "node:crypto";
import { connectRedisBus } from "../src/bus/redis-bus.ts";
import { busContract } from "./bus-contract.ts";

/** The Redis server of this machine (CI starts it). */
export const REDIS_URL = process.env.GRPC_CHAT_TEST_REDIS ?? "redis://127.0.0.1:6379";

// A prefix of its own, so that runs (and other suites) cannot hear each other.
const prefix = `test-${randomBytes(6).toString("hex")}`;
busContract("RedisBus", () => connectRedisBus({ url: REDIS_URL, prefix }));
