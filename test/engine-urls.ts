// The PostgreSQL and Redis servers of this machine (the tests' pretest step
// starts them when they are installed but stopped). Each suite keeps to a
// schema or key prefix of its own.

export const PG_URL = process.env.GRPC_CHAT_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

export const REDIS_URL = process.env.GRPC_CHAT_TEST_REDIS ?? "redis://127.0.0.1:6379";
