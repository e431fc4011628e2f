import * as esbuild from "esbuild";
const root = process.cwd() + "/";
async function m(contents){
const r = await esbuild.build({
  stdin: { contents, resolveDir: root, loader: "js", sourcefile: "app.js" },
  bundle: true, write: false, minify: true, format: "esm", platform: "browser", target: "es2022", splitting: true,
  outdir: "/qs", metafile: true, external: ["@aws-sdk/client-s3"], logLevel: "error", plugins: [{ name: "se", setup(b) { b.onResolve({ filter: /(codec|store-types|node-types)\.js$/ }, (a) => ({ path: (a.resolveDir + "/" + a.path).replace(/\.js$/, ".ts"), sideEffects: true })); } }],
});
const outputs = r.metafile.outputs;
const entry = Object.keys(outputs).find((k) => /^(<stdin>|app\.js)$/.test(outputs[k].entryPoint ?? ""));
const eager = new Set();
const visit = (k) => { if (eager.has(k)) return; eager.add(k); for (const i of outputs[k].imports) if (i.kind === "import-statement" && !i.external) visit(i.path); };
visit(entry);
let bytes=0; const mods={};
for (const k of eager) { bytes += outputs[k].bytes; for (const [i,v] of Object.entries(outputs[k].inputs)) mods[i]=(mods[i]??0)+v.bytesInOutput; }
return {bytes, mods};
}
const base = await m(`export * as zarr from "zarrita";`);
const app = await m(`export * as zarr from "zarrita";
export { ShardedStore, FetchStore, ZipStore, openShardedStore, shardedStoreFromConfig } from "./src/index.ts";`);
console.log("added", app.bytes - base.bytes);
if (process.argv[2]) for (const [k,v] of Object.entries(app.mods).filter(([k])=>k.startsWith("src")).sort((a,b)=>b[1]-a[1])) console.log(String(v).padStart(7), k);
