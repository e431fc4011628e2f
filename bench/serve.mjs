// Serve: zarrita reading a 16×512×512 float32 array (256 KiB chunks, no compression) over HTTP from
// `shardedstore serve` (a child process) vs zarrita reading the same composition in-process, and
// vs `python3 -m http.server` serving the monolithic single.zarr (zarrita over HTTP both times).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ShardedStore } from "shardedstore";
import {
  arrayShardDirectoryStore,
  DirectoryStore,
  openShardedStore,
  saveShardedStore,
} from "shardedstore/node";
import * as zarr from "zarrita";
import { compare, figure } from "./measure.mjs";

const SHAPE = [16, 512, 512];
const CHUNKS = [1, 256, 256];
const BYTES = SHAPE.reduce((a, b) => a * b, 4);
const BIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

async function write(store) {
  const arr = await zarr.create(zarr.root(store).resolve("data/x"), {
    shape: SHAPE,
    chunkShape: CHUNKS,
    dtype: "float32",
  });
  const data = new Float32Array(BYTES / 4);
  for (let i = 0; i < data.length; i++) data[i] = (i % 1000) * 0.5;
  await zarr.set(arr, null, { data, shape: SHAPE, stride: [SHAPE[1] * SHAPE[2], SHAPE[2], 1] });
}

async function readAll(store) {
  const arr = await zarr.open(zarr.root(store).resolve("data/x"), { kind: "array" });
  const out = await zarr.get(arr);
  if (out.data.length !== BYTES / 4) throw new Error("short read");
}

/** Starts a server process and resolves with the URL it announces on stdout or stderr. */
function startProcess(cmd, args, pattern) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d) => {
      text += d;
      const m = pattern.exec(text);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${cmd} exited with ${code}: ${text}`)));
  });
}

export async function run() {
  const tmp = await mkdtemp(path.join(tmpdir(), "ss-bench-serve-"));
  const children = [];
  try {
    const config = path.join(tmp, "composition.json");
    const sharded = new ShardedStore(new DirectoryStore(`${tmp}/base.zarr`), {
      arrayShards: { "data/x": { dims: 1, factory: arrayShardDirectoryStore(`${tmp}/shards/x`) } },
    });
    await write(sharded);
    await saveShardedStore(sharded, config);
    await write(new DirectoryStore(`${tmp}/single.zarr`));

    const serve = await startProcess(
      process.execPath,
      [BIN, "serve", config, "--port", "0"],
      /at (http:\/\/\S+)\//,
    );
    children.push(serve.child);
    const py = await startProcess(
      "python3",
      ["-m", "http.server", "--bind", "127.0.0.1", "--directory", `${tmp}/single.zarr`, "0"],
      /Serving HTTP on \S+ port (\d+)/,
    );
    children.push(py.child);
    const local = await openShardedStore(config);
    const served = new zarr.FetchStore(serve.url);
    // http.server's listen backlog is 5: under 64 concurrent connections it sometimes resets one.
    // The baseline gets a retry on a failed request (which only helps it).
    const pyStore = new zarr.FetchStore(`http://127.0.0.1:${py.url}`);
    const python = {
      get: (key, opts) => pyStore.get(key, opts).catch(() => pyStore.get(key, opts)),
    };

    const res = await compare({
      serve: { run: () => readAll(served) },
      inProcess: { run: () => readAll(local) },
      python: { run: () => readAll(python) },
    });
    const common = { section: "Serve", kind: "speed", unit: "B", work: BYTES, ours: res.serve };
    return {
      figures: [
        figure({
          ...common,
          name: "zarrita over HTTP from `shardedstore serve`, 256 KiB chunks of a local composition",
          baseline: res.inProcess,
          baselineName: "zarrita reading the composition in-process",
          target: 0.5,
        }),
        figure({
          ...common,
          name: "zarrita over HTTP from `shardedstore serve` vs from Python's http.server",
          baseline: res.python,
          baselineName: "zarrita over HTTP from `python3 -m http.server` serving single.zarr",
          target: 1.0001,
        }),
      ],
    };
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await rm(tmp, { recursive: true, force: true });
  }
}
