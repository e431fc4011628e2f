#!/usr/bin/env node
import { fileURLToPath } from "node:url";
// What shardedstore adds to a zarrita app's bundle: esbuild bundles (minified, browser, ESM, code
// splitting on, as an app's bundler would) of an app importing zarrita alone, and of the same app
// also importing ShardedStore, FetchStore, ZipStore and config support (fromConfig, openShardedStore
// by URL). "Eager" is what the page loads before any store is used: the entry chunk and the chunks
// it imports statically; "lazy" chunks load on first use (S3, deflate, remote reads, zip parsing).
// The AWS SDK is left out: S3Store loads it lazily, only when an S3 store is used.
// Run after `npm run build` (it bundles dist/): `node scripts/size.mjs [--json] [--modules]`.
// The target (issue 12): the eager bytes the config app adds to zarrita alone stay ≤ 60,000.
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist/index.js`;

/** The eager bytes (minified) the config app may add to a zarrita-only app. */
export const TARGET_BYTES = 60_000;
export const BASELINE = "zarrita only";
export const CONFIG_APP = "zarrita + ShardedStore, FetchStore, ZipStore, configs";

const APPS = {
  [BASELINE]: `export * as zarr from "zarrita";`,
  [CONFIG_APP]: `export * as zarr from "zarrita";
export { ShardedStore, FetchStore, ZipStore, openShardedStore, shardedStoreFromConfig } from ${JSON.stringify(dist)};`,
  "zarrita + the whole isomorphic entry": `export * as zarr from "zarrita";
export * from ${JSON.stringify(dist)};`,
};

/** Sizes of one app: eager (entry + static imports) and lazy chunks, and eager bytes per module. */
async function measure(contents) {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: root, loader: "js", sourcefile: "app.js" },
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    splitting: true,
    outdir: "/size-out",
    metafile: true,
    external: ["@aws-sdk/client-s3"],
    logLevel: "error",
  });
  const outputs = result.metafile.outputs;
  const key = (p) => Object.keys(outputs).find((k) => p.endsWith(k.replace(/^(\.\.\/)+/, "")));
  const files = new Map(result.outputFiles.map((f) => [key(f.path), f.contents]));
  const entry = Object.keys(outputs).find((k) => /^(<stdin>|app\.js)$/.test(outputs[k].entryPoint ?? ""));
  if (entry === undefined) throw new Error("size.mjs: no output for the app itself");
  const eager = new Set();
  const visit = (k) => {
    if (eager.has(k)) return;
    eager.add(k);
    for (const i of outputs[k].imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  visit(entry);
  let bytes = 0;
  let lazy = 0;
  const eagerCode = [];
  const modules = {};
  for (const [k, out] of Object.entries(outputs)) {
    if (k.endsWith(".map")) continue;
    if (!eager.has(k)) {
      lazy += out.bytes;
      continue;
    }
    bytes += out.bytes;
    eagerCode.push(files.get(k));
    for (const [input, v] of Object.entries(out.inputs)) {
      const name = input.replace(/^.*node_modules\//, "").replace(/^dist\//, "");
      modules[name] = (modules[name] ?? 0) + v.bytesInOutput;
    }
  }
  const gzip = gzipSync(Buffer.concat(eagerCode.map((c) => Buffer.from(c)))).byteLength;
  return { bytes, gzip, lazy, modules };
}

const rows = {};
for (const [name, contents] of Object.entries(APPS)) rows[name] = await measure(contents);
const base = rows[BASELINE];
const added = rows[CONFIG_APP].bytes - base.bytes;
const ours = (m) => !/^(zarrita|numcodecs|@zarrita|reference-spec-reader|unzipit)/.test(m);
if (process.argv.includes("--json")) {
  const strip = ({ modules, ...r }) => r;
  const apps = Object.fromEntries(Object.entries(rows).map(([n, r]) => [n, strip(r)]));
  const modules = Object.fromEntries(
    Object.entries(rows[CONFIG_APP].modules).filter(([m, b]) => ours(m) && b > 0),
  );
  console.log(
    JSON.stringify(
      { baseline: strip(base), apps, configAppAdded: added, target: TARGET_BYTES, modules },
      null,
      1,
    ),
  );
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `${"app (eager = loaded up front; lazy = on first use)".padEnd(56)} ${"eager".padStart(10)} ${"gzip".padStart(10)}   ${"lazy".padStart(9)}   added to zarrita only`,
  );
  for (const [name, r] of Object.entries(rows)) {
    const plus =
      name === BASELINE ? "(baseline)" : `+${r.bytes - base.bytes} B (+${kb(r.gzip - base.gzip)} gzip)`;
    console.log(
      `${name.padEnd(56)} ${kb(r.bytes).padStart(10)} ${kb(r.gzip).padStart(10)}   ${kb(r.lazy).padStart(9)}   ${plus}`,
    );
  }
  const verdict = added <= TARGET_BYTES ? "within" : "OVER";
  console.log(
    `config app adds ${added} B eager: ${verdict} the ${TARGET_BYTES} B target (${((100 * added) / TARGET_BYTES).toFixed(1)} %)`,
  );
  if (process.argv.includes("--modules")) {
    const mods = Object.entries(rows[CONFIG_APP].modules).filter(([m, b]) => ours(m) && b > 0);
    mods.sort((a, b) => b[1] - a[1]);
    for (const [m, b] of mods) console.log(`${String(b).padStart(8)}  ${m}`);
  }
}
