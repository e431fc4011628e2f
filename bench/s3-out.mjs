// `node --openssl-legacy-provider bench/s3-out.mjs 1000 10000` (after `npm run build`): `convert`
// of a composition of N index stores (one v2 array sharded over 2 dims, one 16-byte chunk each)
// into s3rver on 127.0.0.1 — `--to zip` (one object per store) and `--to dir` — beside the same
// conversion into a local folder, measured in the same run; then the resumed run (every store
// skipped). Each command is a fresh CLI process. s3rver needs the legacy provider for listings
// past 1,000 keys (a rerun lists the output prefix once). s3rver 3.7 lists a file `x.json` after
// a folder `x/…` (not in key order as S3 does), so past 1,000 keys its continuation drops keys:
// here the base store's marker (`data.zarr.json`, after `data/…`), so the resumed runs redo that
// one store ("skipped" shows N of N + 1).
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { grid } from "./scale-common.mjs";

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const CLI = here("../dist/cli/main.js");
const require = createRequire(import.meta.url);
const sizes = process.argv
  .slice(2)
  .filter((a) => /^\d+$/.test(a))
  .map(Number);
if (sizes.length === 0) sizes.push(1_000, 10_000);

const enc = (o) => `${JSON.stringify(o)}\n`;
const zarray = (shape) =>
  enc({
    zarr_format: 2,
    shape,
    chunks: [1, 1, 16],
    dtype: "|u1",
    compressor: null,
    fill_value: 0,
    filters: null,
    order: "C",
    dimension_separator: ".",
  });

/** A composition of n directory index stores, written file by file, and its config. */
async function build(root, n) {
  const [s0, s1] = grid(n);
  const node = await import("shardedstore/node");
  const base = path.join(root, "sharded/data.zarr");
  mkdirSync(path.join(base, "a"), { recursive: true });
  writeFileSync(path.join(base, ".zgroup"), enc({ zarr_format: 2 }));
  writeFileSync(path.join(base, "a/.zarray"), zarray([s0, s1, 16]));
  const chunk = new Uint8Array(16).fill(7);
  for (let i = 0; i < s0; i++) {
    for (let j = 0; j < s1; j++) {
      const dir = path.join(root, `sharded/data/a/${i}/${j}.zarr`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, ".zarray"), zarray([1, 1, 16]));
      writeFileSync(path.join(dir, "0.0.0"), chunk);
    }
  }
  const store = new node.ShardedStore(new node.DirectoryStore(base), {
    arrayShards: {
      a: { dims: 2, factory: node.arrayShardDirectoryStore(path.join(root, "sharded/data/a")) },
    },
  });
  const config = path.join(root, "sharded/composition.json");
  await node.saveShardedStore(store, config);
  return config;
}

/** One CLI process (asynchronous: s3rver answers from this process's event loop). */
function measure(args, env) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args, "--json", "--no-progress"],
      { env: { ...process.env, ...env }, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        const ms = performance.now() - t0;
        if (err) reject(new Error(`${args.join(" ")}: ${stderr.trim().split("\n").at(-1)}`));
        else resolve({ ms, report: JSON.parse(stdout) });
      },
    );
  });
}

const S3rver = require("s3rver");
const { S3Client, CreateBucketCommand } = await import("@aws-sdk/client-s3");
const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };
console.log(
  `${"stores".padStart(7)}  ${"operation".padEnd(30)} ${"into s3rver".padStart(12)} ${"into a folder".padStart(14)}  ratio`,
);
for (const n of sizes) {
  const root = path.join(tmpdir(), `ss-s3-out-${n}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const config = await build(root, n);
  const srv = new S3rver({ address: "127.0.0.1", port: 0, directory: path.join(root, "s3"), silent: true });
  const { port } = await srv.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await client.send(new CreateBucketCommand({ Bucket: "bench" }));
  try {
    for (const to of ["zip", "dir"]) {
      const s3 = ["convert", config, "--to", to, "--out", `s3://bench/${to}`, "--s3-endpoint", endpoint];
      const local = ["convert", config, "--to", to, "--out", path.join(root, `local-${to}`)];
      for (const label of [`convert --to ${to}`, `convert --to ${to}, resumed`]) {
        const a = await measure(s3, env);
        const b = await measure(local, env);
        if (a.report.stores !== n + 1 || b.report.stores !== n + 1)
          throw new Error(`expected ${n + 1} stores: ${JSON.stringify([a.report, b.report])}`);
        console.log(
          `${String(n).padStart(7)}  ${label.padEnd(30)} ${`${(a.ms / 1000).toFixed(2)} s`.padStart(12)} ${`${(b.ms / 1000).toFixed(2)} s`.padStart(14)}  ${(a.ms / b.ms).toFixed(2)}× time (skipped ${a.report.skipped})`,
        );
      }
    }
  } finally {
    client.destroy();
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  }
}
