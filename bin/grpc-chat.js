#!/usr/bin/env node
// The project runs on Node 24, which executes its TypeScript directly. When an
// older Node starts this (a system Node 20, say), hand over to the Node 24
// that `npm install` put in node_modules (the npm package `node`).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const major = Number(process.versions.node.split(".")[0]);

if (major >= 24) {
  await import(cli);
} else {
  let node;
  try {
    node = join(
      dirname(createRequire(import.meta.url).resolve("node/package.json")),
      "bin",
      "node",
    );
  } catch {
    process.stderr.write(
      `grpc-chat needs Node.js 24 or later (this is ${process.version}); run "npm install" in the project first.\n`,
    );
    process.exit(1);
  }
  const result = spawnSync(node, [cli, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}
