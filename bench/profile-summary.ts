// The functions a V8 CPU profile (node --cpu-prof, or `npm run bench --
// --cpu-prof`) spent most time in, by self time, with their share; with
// --inclusive, by the time in them and everything they called.
// Usage: node bench/profile-summary.ts CPU.<...>.cpuprofile [--top 25] [--inclusive]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" }, inclusive: { type: "boolean" } },
});
const file = positionals[0];
if (!file) {
  process.stderr.write("Usage: node bench/profile-summary.ts <file.cpuprofile> [--top 25]\n");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[] };
const keyOf = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules|src)\//, "$1/")}:${lineNumber + 1}` : "";
  return `${functionName || "(anonymous)"} ${where}`.trim();
};
const byFunction = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) total += node.hitCount ?? 0;
if (values.inclusive) {
  // Each sample counts once for every function on its stack (once however deep it recurses).
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const walk = (node: ProfileNode, onStack: ReadonlySet<string>): number => {
    let hits = node.hitCount ?? 0;
    const key = keyOf(node);
    const stack = onStack.has(key) ? onStack : new Set([...onStack, key]);
    for (const child of node.children ?? []) {
      const childNode = byId.get(child);
      if (childNode) hits += walk(childNode, stack);
    }
    if (!onStack.has(key)) byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    return hits;
  };
  const root = profile.nodes[0];
  if (root) walk(root, new Set());
} else {
  for (const node of profile.nodes) {
    byFunction.set(keyOf(node), (byFunction.get(keyOf(node)) ?? 0) + (node.hitCount ?? 0));
  }
}
const top = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
for (const [name, hits] of top) {
  process.stdout.write(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}\n`);
}
