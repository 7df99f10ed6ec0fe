// Builds the browser client: web/src/main.ts bundled into web/dist/app.js, with
// the page, its stylesheet and icon beside it (the server serves web/dist/ at /).
import { copyFile, mkdir, rm, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build, type Message } from "esbuild";

const web = fileURLToPath(new URL("../web/", import.meta.url));
const dist = `${web}dist/`;
const started = performance.now();

function describe(error: unknown): string {
  const errors = (error as { errors?: Message[] }).errors;
  const first = errors?.[0];
  if (first === undefined) return error instanceof Error ? error.message : String(error);
  const where = first.location ? `${first.location.file}:${first.location.line}: ` : "";
  const more = errors && errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${where}${first.text}${more}`;
}

try {
  // A stale file from an earlier build must not be served.
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  await build({
    entryPoints: [`${web}src/main.ts`],
    outfile: `${dist}app.js`,
    bundle: true,
    format: "esm",
    minify: true,
    sourcemap: true,
    target: "es2022",
    platform: "browser",
    logLevel: "silent",
  });
  await Promise.all(
    ["index.html", "styles.css", "favicon.svg"].map((name) => copyFile(web + name, dist + name)),
  );
  const { size } = await stat(`${dist}app.js`);
  const ms = Math.round(performance.now() - started);
  console.log(
    `web/dist: app.js ${(size / 1024).toFixed(1)} kB + index.html, styles.css, favicon.svg (${ms} ms)`,
  );
} catch (error) {
  console.error(`web build failed: ${describe(error)}`);
  process.exitCode = 1;
}
