#!/usr/bin/env node
// Bundles the isomorphic entry (dist/index.js, built by tsc first) into one browser ESM file,
// dist/browser/shardedstore.js, for pages that load modules without a bundler (import maps, CDNs).
// `zarrita` is a peer dependency and the AWS SDK is imported lazily by S3Store: both stay external.
// What loads on first use (S3 requests, remote reads, zip parsing, fflate's inflate) goes to
// dist/browser/chunks/, imported by the entry only when needed; serve the whole folder.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Specifiers the bundle leaves to the page's import map or bundler. */
const BROWSER_EXTERNALS = ["zarrita", "@aws-sdk/client-s3"];

// Chunk names carry content hashes: clear the last build's, so no stale chunk ships in the package.
rmSync(`${root}dist/browser`, { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { shardedstore: "dist/index.js" },
  outdir: "dist/browser",
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  external: BROWSER_EXTERNALS,
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
});

// A warning here has meant a dropped module (e.g. a registration import tree-shaken by "sideEffects").
if (result.warnings.length > 0) {
  console.error(`build-browser: ${result.warnings.length} warning(s), see above`);
  process.exit(1);
}
const outputs = result.metafile.outputs;
if (outputs["dist/browser/shardedstore.js"] === undefined) {
  console.error("build-browser: dist/browser/shardedstore.js was not written");
  process.exit(1);
}
// Loaded with the entry: it and the shared chunks it imports statically; the rest on first use.
const eager = new Set();
const visit = (f) => {
  if (eager.has(f)) return;
  eager.add(f);
  for (const i of outputs[f].imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
};
visit("dist/browser/shardedstore.js");
const js = Object.keys(outputs).filter((f) => f.endsWith(".js"));
const sum = (fs) => Math.round(fs.reduce((n, f) => n + outputs[f].bytes, 0) / 1024);
const lazy = js.filter((f) => !eager.has(f));
console.log(
  `dist/browser/shardedstore.js: ${sum([...eager])} KiB with the ${eager.size - 1} chunks it imports; ${lazy.length} chunks loaded on first use: ${sum(lazy)} KiB`,
);
