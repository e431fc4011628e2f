#!/usr/bin/env node
// Bundles the isomorphic entry (dist/index.js, built by tsc first) into one browser ESM file,
// dist/browser/shardedstore.js, for pages that load modules without a bundler (import maps, CDNs).
// `zarrita` is a peer dependency and the AWS SDK is imported lazily by S3Store: both stay external.
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Specifiers the bundle leaves to the page's import map or bundler. */
const BROWSER_EXTERNALS = ["zarrita", "@aws-sdk/client-s3"];

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["dist/index.js"],
  outfile: "dist/browser/shardedstore.js",
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
const out = result.metafile.outputs["dist/browser/shardedstore.js"];
console.log(`dist/browser/shardedstore.js: ${Math.round((out?.bytes ?? 0) / 1024)} KiB`);
