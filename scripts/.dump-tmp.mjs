import * as esbuild from "esbuild";
const root = process.cwd() + "/";
const dist = `${root}dist/index.js`;
const minify = process.argv[2] !== "nomin";
await esbuild.build({
  stdin: { contents: `export * as zarr from "zarrita";
export { ShardedStore, FetchStore, ZipStore, openShardedStore, shardedStoreFromConfig } from ${JSON.stringify(dist)};`, resolveDir: root, loader: "js", sourcefile: "app.js" },
  bundle: true, write: true, minify, format: "esm", platform: "browser", target: "es2022", splitting: true,
  outdir: "/tmp/size-out" + (minify ? "" : "-nomin"), metafile: false, external: ["@aws-sdk/client-s3"], logLevel: "error",
});
