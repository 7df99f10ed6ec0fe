import { openPgStore } from "../src/store/pg-store.ts";
import { PG_URL, scratchSchemas } from "./engine-urls.ts";
import { storeContract } from "./store-contract.ts";

// Each test gets a schema of its own, dropped at the end.
const schema = scratchSchemas("test");

storeContract("PgStore", (now) => openPgStore({ url: PG_URL, schema: schema(), now }));
