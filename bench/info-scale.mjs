// `shardedstore info` on a composition of 10^4 and 10^5 directory index stores, built by writing
// the files straight to disk. Beside it, in the same run: a Node walk of the same tree that stats
// every file (the least any `info` must do to count keys and bytes).
// Run: npm run build && node bench/info-scale.mjs [sizes…]   (default 10000 100000)
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const sizes = process.argv.slice(2).map(Number);

function arrayMeta(shape, chunks) {
  return JSON.stringify({
    zarr_format: 3,
    node_type: "array",
    shape,
    data_type: "uint8",
    chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    codecs: [{ name: "bytes", configuration: {} }],
    fill_value: 0,
    attributes: {},
  });
}

/** A composition of `n` index stores of array `x` (shape [n, 4], chunks [1, 4], sharded on dim 0). */
export async function buildComposition(dir, n) {
  await mkdir(path.join(dir, "base.zarr", "x"), { recursive: true });
  await writeFile(
    path.join(dir, "base.zarr", "zarr.json"),
    JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }),
  );
  await writeFile(path.join(dir, "base.zarr", "x", "zarr.json"), arrayMeta([n, 4], [1, 4]));
  const indexMeta = arrayMeta([4], [4]);
  const chunk = new Uint8Array([1, 2, 3, 4]);
  const shards = {};
  const batch = 256;
  for (let start = 0; start < n; start += batch) {
    const jobs = [];
    for (let i = start; i < Math.min(n, start + batch); i++) {
      const root = path.join(dir, "data", "x", `${i}.zarr`);
      shards[String(i)] = {
        name: "DirectoryStore",
        module: "zarr.storage",
        config: { args: [`data/x/${i}.zarr`], kwargs: {}, path_relative_to: "config_dir" },
      };
      jobs.push(
        mkdir(path.join(root, "c"), { recursive: true }).then(() =>
          Promise.all([
            writeFile(path.join(root, "zarr.json"), indexMeta),
            writeFile(path.join(root, "c", "0"), chunk),
          ]),
        ),
      );
    }
    await Promise.all(jobs);
  }
  const config = {
    version: "0.1.0",
    name: "ShardedStore",
    module: "shardedstore",
    config: {
      args: [
        {
          name: "DirectoryStore",
          module: "zarr.storage",
          config: { args: ["base.zarr"], kwargs: {}, path_relative_to: "config_dir" },
        },
      ],
      kwargs: {
        dimension_separator: "/",
        shards: {},
        array_shard_dims: { x: 1 },
        array_shards: { x: shards },
        array_shard_factories: { x: { kind: "directory", prefix: "data/x", separator: "/" } },
      },
    },
  };
  await writeFile(path.join(dir, "composition.json"), JSON.stringify(config));
  return path.join(dir, "composition.json");
}

async function seconds(fn) {
  const t0 = performance.now();
  const out = await fn();
  return [(performance.now() - t0) / 1000, out];
}

async function walkAndStat(dir) {
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  let bytes = 0;
  let files = 0;
  const list = names.filter((e) => e.isFile());
  for (let i = 0; i < list.length; i += 64) {
    const sts = await Promise.all(
      list.slice(i, i + 64).map((e) => stat(path.join(e.parentPath ?? e.path, e.name))),
    );
    for (const st of sts) bytes += st.size;
    files += sts.length;
  }
  return { files, bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const n of sizes.length ? sizes : [1e4, 1e5]) {
    const dir = await mkdtemp(path.join(tmpdir(), "ss-info-"));
    try {
      const [build] = await seconds(() => buildComposition(dir, n));
      const cfg = path.join(dir, "composition.json");
      const [base, walked] = await seconds(() => walkAndStat(dir));
      const [text, out] = await seconds(() =>
        run("node", [CLI, "info", cfg, "--no-progress"], { maxBuffer: 1 << 30 }),
      );
      const [json] = await seconds(() => run("node", [CLI, "info", cfg, "--json"], { maxBuffer: 1 << 30 }));
      const lines = out.stdout.split("\n").length;
      console.log(
        `info on ${n} index stores: ${text.toFixed(2)} s (${lines} lines), --json ${json.toFixed(2)} s; ` +
          `walk+stat of the same ${walked.files} files ${base.toFixed(2)} s → ${(text / base).toFixed(1)}× (build ${build.toFixed(1)} s)`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
