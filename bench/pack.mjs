// Pack: rewriting a 64×512×512 float32 array (256 chunks of 16×64×64) with the sharding codec
// (packStore, shards of 16×512×512) vs converting the same store to one zip (convert --to zip's
// mapShards(toZipStoreWithPrefix)). Both read the same directory store and write to the same disk.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as node from "shardedstore/node";
import * as zarr from "zarrita";
import { compare, figure } from "./measure.mjs";

const SHAPE = [64, 512, 512];
const CHUNKS = [16, 64, 64];
const SHARDS = [16, 512, 512];

async function countFiles(dir) {
  let n = 0;
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true })) if (ent.isFile()) n++;
  return n;
}

async function writeSource(dir) {
  const store = new node.DirectoryStore(dir);
  await zarr.create(zarr.root(store));
  const arr = await zarr.create(zarr.root(store).resolve("volume"), {
    shape: SHAPE,
    chunkShape: CHUNKS,
    dtype: "float32",
    fillValue: 0,
    codecs: [{ name: "bytes", configuration: { endian: "little" } }],
  });
  const n = SHAPE.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i / 97) * 1000;
  await zarr.set(arr, null, { data, shape: SHAPE, stride: [SHAPE[1] * SHAPE[2], SHAPE[2], 1] });
  return n * 4;
}

export async function run() {
  const { packStore, toZipStoreWithPrefix, ShardedStore, DirectoryStore } = node;
  if (typeof packStore !== "function") {
    const skipped = ["Pack: skipped: packStore not built"];
    console.log(skipped[0]);
    return { figures: [], skipped };
  }
  const tmp = await mkdtemp(path.join(tmpdir(), "ss-bench-pack-"));
  try {
    const src = path.join(tmp, "src.zarr");
    const bytes = await writeSource(src);
    let n = 0;
    let outPack = "";
    let outZip = "";
    const res = await compare({
      ours: {
        prepare: async () => {
          if (outPack) await rm(outPack, { recursive: true, force: true });
          outPack = path.join(tmp, `packed${n++}.zarr`);
        },
        run: async () => {
          await packStore(new DirectoryStore(src), new DirectoryStore(outPack), {
            shards: { volume: SHARDS },
          });
        },
      },
      baseline: {
        prepare: async () => {
          if (outZip) await rm(outZip, { recursive: true, force: true });
          outZip = path.join(tmp, `zip${n++}`);
        },
        run: async () => {
          const zipped = await new ShardedStore(new DirectoryStore(src)).mapShards(
            toZipStoreWithPrefix(`${outZip}/data`),
          );
          await zipped.close();
        },
      },
    });
    const before = await countFiles(src);
    const packed = await countFiles(outPack);
    const zipped = await countFiles(outZip);
    const note = `objects: source ${before} files; pack → ${packed} files; convert --to zip → ${zipped} file`;
    console.log(note);
    return {
      figures: [
        figure({
          section: "Pack",
          name: "pack 64×512×512 float32 (256 chunks) into 4 shards",
          kind: "speed",
          unit: "B",
          work: bytes,
          ours: res.ours,
          baseline: res.baseline,
          baselineName: "convert --to zip of the same store",
          target: 0.8,
          note,
        }),
      ],
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
