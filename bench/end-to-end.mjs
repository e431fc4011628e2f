// End to end: zarrita write + read of a 64×512×512 float32 array (chunks 1×256×256, no compression)
// through a ShardedStore sharded over dim 0 into DirectoryStores, vs one DirectoryStore.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ShardedStore } from "shardedstore";
import { arrayShardDirectoryStore, DirectoryStore } from "shardedstore/node";
import * as zarr from "zarrita";
import { compare, figure } from "./measure.mjs";

const SHAPE = [64, 512, 512];
const CHUNKS = [1, 256, 256];
const BYTES = SHAPE.reduce((a, b) => a * b, 4);

export function makeData() {
  const data = new Float32Array(BYTES / 4);
  for (let i = 0; i < data.length; i++) data[i] = (i % 1000) * 0.5;
  return { data, shape: SHAPE, stride: [SHAPE[1] * SHAPE[2], SHAPE[2], 1] };
}

export function shardedDirectory(dir) {
  return new ShardedStore(new DirectoryStore(`${dir}/base.zarr`), {
    arrayShards: { "data/x": { dims: 1, factory: arrayShardDirectoryStore(`${dir}/shards/x`) } },
  });
}

/** Creates the array and writes every chunk through zarrita. */
export async function writeArray(store, chunk) {
  const arr = await zarr.create(zarr.root(store).resolve("data/x"), {
    shape: SHAPE,
    chunkShape: CHUNKS,
    dtype: "float32",
  });
  await zarr.set(arr, null, chunk);
}

async function readArray(store) {
  const arr = await zarr.open(zarr.root(store).resolve("data/x"), { kind: "array" });
  const out = await zarr.get(arr);
  if (out.data.length !== BYTES / 4) throw new Error("short read");
}

export async function run() {
  const tmp = await mkdtemp(path.join(tmpdir(), "ss-bench-e2e-"));
  try {
    const chunk = makeData();
    let n = 0;
    const fresh = () => path.join(tmp, `w${n++}`);
    let dirOurs = "";
    let dirBase = "";
    const write = await compare({
      ours: {
        prepare: async () => {
          if (dirOurs) await rm(dirOurs, { recursive: true, force: true });
          dirOurs = fresh();
        },
        run: () => writeArray(shardedDirectory(dirOurs), chunk),
      },
      baseline: {
        prepare: async () => {
          if (dirBase) await rm(dirBase, { recursive: true, force: true });
          dirBase = fresh();
        },
        run: () => writeArray(new DirectoryStore(`${dirBase}/single.zarr`), chunk),
      },
    });
    // Reads: a fresh store object each run (no routes remembered), same files on disk.
    const read = await compare({
      ours: { run: () => readArray(shardedDirectory(dirOurs)) },
      baseline: { run: () => readArray(new DirectoryStore(`${dirBase}/single.zarr`)) },
    });
    const common = {
      section: "End to end (zarrita)",
      kind: "time",
      unit: "B",
      work: BYTES,
      target: 1.1,
      baselineName: "one DirectoryStore",
    };
    return {
      figures: [
        figure({
          ...common,
          name: "zarr.set 64×512×512 f32 (64 MiB, 256 chunks) into 64 array shards",
          ...write,
        }),
        figure({ ...common, name: "zarr.get of the same array", ...read }),
      ],
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
