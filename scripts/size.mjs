#!/usr/bin/env node
import { fileURLToPath } from "node:url";
// What shardedstore adds to a zarrita app's bundle: esbuild bundles (minified, browser, ESM) of an
// app importing zarrita alone, and of the same app also importing ShardedStore, FetchStore, ZipStore
// and config support (fromConfig, openShardedStore by URL); prints both and the difference.
// The AWS SDK is left out: S3Store loads it lazily, only when an S3 store is used.
// Run after `npm run build` (it bundles dist/): `node scripts/size.mjs [--json]`.
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist/index.js`;

const APPS = {
  "zarrita only": `export * as zarr from "zarrita";`,
  "zarrita + ShardedStore, FetchStore, ZipStore, configs": `export * as zarr from "zarrita";
export { ShardedStore, FetchStore, ZipStore, openShardedStore, shardedStoreFromConfig } from ${JSON.stringify(dist)};`,
  "zarrita + the whole isomorphic entry": `export * as zarr from "zarrita";
export * from ${JSON.stringify(dist)};`,
};

async function measure(contents) {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: root, loader: "js" },
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external: ["@aws-sdk/client-s3"],
    logLevel: "error",
  });
  const code = result.outputFiles[0].contents;
  return { bytes: code.byteLength, gzip: gzipSync(code).byteLength };
}

const rows = {};
for (const [name, contents] of Object.entries(APPS)) rows[name] = await measure(contents);
const base = rows["zarrita only"];
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ baseline: base, apps: rows }, null, 1));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  for (const [name, r] of Object.entries(rows)) {
    const added =
      name === "zarrita only"
        ? "(baseline)"
        : `+${kb(r.bytes - base.bytes)} (+${kb(r.gzip - base.gzip)} gzip)`;
    console.log(`${name.padEnd(56)} ${kb(r.bytes).padStart(10)} ${kb(r.gzip).padStart(10)} gzip   ${added}`);
  }
}
