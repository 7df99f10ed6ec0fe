// The layers docs/architecture.md draws, checked on what Node really loads:
// a module's whole import graph, resolved by Node itself.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

/** Every module `entry` loads, directly or not, as paths relative to the project (node_modules as package names). */
function graphOf(entry: string): string[] {
  const script = `
    import { registerHooks } from "node:module";
    const seen = new Set();
    registerHooks({
      resolve(specifier, context, next) {
        const resolved = next(specifier, context);
        seen.add(resolved.url);
        return resolved;
      },
    });
    await import(${JSON.stringify(new URL(`../${entry}`, import.meta.url).href)});
    process.stdout.write(JSON.stringify([...seen]));
  `;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  const root = new URL("..", import.meta.url).href;
  return (JSON.parse(run.stdout) as string[]).map((url) => {
    const inPackage = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (inPackage?.[1]) return inPackage[1];
    return url.startsWith(root) ? url.slice(root.length) : url;
  });
}

test("the HTTP port never loads grpc-js", () => {
  const graph = graphOf("src/server/http/http-server.ts");
  assert.ok(graph.includes("@connectrpc/connect-node"), "the graph is read");
  assert.deepEqual(
    graph.filter((module) => module.startsWith("@grpc/")),
    [],
  );
});

test("the core loads no transport, driver or client", () => {
  const graph = graphOf("src/core/chat.ts");
  const outside = graph.filter(
    (module) =>
      /^src\/(server|client|tui|cli|bus\/redis|store\/(sqlite|pg))/.test(module) ||
      /^(@grpc|@connectrpc|pg|redis|ink|react)$/.test(module),
  );
  assert.deepEqual(outside, []);
});

test("the terminal client goes through the SDK: it loads nothing of the core or the server", () => {
  for (const entry of ["src/tui/chat-controller.ts", "src/cli/client-command.ts"]) {
    const graph = graphOf(entry);
    assert.ok(graph.includes("src/client/chat-client.ts"), `${entry}'s graph is read`);
    assert.deepEqual(
      graph.filter((module) => /^src\/(core|server|store|bus)\//.test(module)),
      [],
      entry,
    );
  }
});
