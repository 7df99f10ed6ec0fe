// Builds the browser client into web/dist/, which the server serves at /:
// web/src/main.ts bundled into app.<hash>.js (and its source map), the
// stylesheet and icon beside it, each named after its content so browsers may
// keep it for ever, and index.html rewritten to name them. Every file also
// goes out precompressed (.br, .gz beside it), so the server compresses nothing.
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import { build, type Message } from "esbuild";
import { hashedName, isHashedName } from "../src/server/http/asset-names.ts";

const web = new URL("../web/", import.meta.url);
const dist = new URL("dist/", web);
const started = performance.now();

interface Asset {
  /** Its name in web/ and in index.html before the build. */
  readonly source: string;
  readonly name: string;
  readonly content: Uint8Array;
}

function describe(error: unknown): string {
  const errors = (error as { errors?: Message[] }).errors;
  const first = errors?.[0];
  if (first === undefined) return error instanceof Error ? error.message : String(error);
  const where = first.location ? `${first.location.file}:${first.location.line}: ` : "";
  const more = errors && errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${where}${first.text}${more}`;
}

const hashed = (source: string, content: Uint8Array): Asset => ({
  source,
  name: hashedName(source, content),
  content,
});

/** The bundle and its map, in memory: the map is named by its own hash, then the script by its. */
async function bundle(): Promise<Asset[]> {
  const result = await build({
    entryPoints: [new URL("src/main.ts", web).pathname],
    outfile: new URL("app.js", dist).pathname,
    write: false,
    bundle: true,
    format: "esm",
    minify: true,
    sourcemap: true,
    target: "es2022",
    platform: "browser",
    logLevel: "silent",
  });
  const output = (suffix: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(suffix));
    if (!file) throw new Error(`esbuild wrote no ${suffix}`);
    return file.contents;
  };
  const map = hashed("app.js.map", output("app.js.map"));
  const comment = "//# sourceMappingURL=app.js.map";
  const script = new TextDecoder().decode(output("app.js"));
  if (!script.includes(comment)) throw new Error(`the bundle does not end with ${comment}`);
  const js = script.replace(comment, `//# sourceMappingURL=${map.name}`);
  return [hashed("app.js", new TextEncoder().encode(js)), map];
}

/** The page, naming each asset by its hashed name; a reference it lacks fails the build. */
function rewritePage(page: string, assets: readonly Asset[]): string {
  let text = page;
  for (const { source, name } of assets) {
    if (source.endsWith(".map")) continue;
    const quoted = `"${source}"`;
    if (!text.includes(quoted)) {
      throw new Error(`web/index.html no longer refers to ${quoted}; update scripts/build-web.ts`);
    }
    text = text.replaceAll(quoted, `"${name}"`);
  }
  return text;
}

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Written under another name, then renamed: a file in dist/ is never half written. */
async function writeWhole(name: string, content: Uint8Array): Promise<void> {
  const temporary = new URL(`.${name}.partial`, dist);
  await writeFile(temporary, content);
  await rename(temporary, new URL(name, dist));
}

/** `.br` and `.gz` beside a file, at the best compression, each only when it is smaller. */
async function writeCompressed({ name, content }: Asset): Promise<void> {
  const [br, gz] = await Promise.all([
    brotli(content, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: content.byteLength,
      },
    }),
    gzipped(content, { level: constants.Z_BEST_COMPRESSION }),
  ]);
  if (br.byteLength < content.byteLength) await writeWhole(`${name}.br`, br);
  if (gz.byteLength < content.byteLength) await writeWhole(`${name}.gz`, gz);
  // Last: its presence says its variants are complete.
  await writeWhole(name, content);
}

const exists = (name: string) =>
  access(new URL(name, dist)).then(
    () => true,
    () => false,
  );

const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

try {
  const assets = await bundle();
  for (const source of ["styles.css", "favicon.svg"]) {
    assets.push(hashed(source, await readFile(new URL(source, web))));
  }
  const page = rewritePage(await readFile(new URL("index.html", web), "utf8"), assets);
  // The page keeps its name: it is what a browser asks for, and revalidates.
  const content = new TextEncoder().encode(page);
  const files = [...assets, { source: "index.html", name: "index.html", content }];

  await mkdir(dist, { recursive: true });
  // A hashed name already built has the same bytes, so its compressed files
  // stand (best-quality brotli of the source map takes seconds).
  const reused = await Promise.all(
    files.map(async (file) => isHashedName(file.name) && (await exists(file.name))),
  );
  await Promise.all(files.filter((_, i) => !reused[i]).map(writeCompressed));
  // A stale file from an earlier build must not be served.
  const wanted = new Set(files.flatMap(({ name }) => [name, `${name}.br`, `${name}.gz`]));
  for (const entry of await readdir(dist)) {
    if (!wanted.has(entry)) await rm(new URL(entry, dist), { recursive: true, force: true });
  }
  const [script] = files;
  const ms = Math.round(performance.now() - started);
  console.log(
    `web/dist: ${script?.name} ${kB(script?.content.byteLength ?? 0)} and ${files.length - 1} ` +
      `more files, with .br and .gz beside them (${ms} ms${reused.some(Boolean) ? ", some reused" : ""})`,
  );
} catch (error) {
  console.error(`web build failed: ${describe(error)}`);
  process.exitCode = 1;
}
