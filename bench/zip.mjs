// Zip: our ZipStore chunk reads vs our DirectoryStore and vs zarrita's ZipFileStore on the same
// archive; conversion of a composition with mapShards(toZipStoreWithPrefix) vs `cp -r`.
import { execFile } from "node:child_process";
import { openAsBlob } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import ZipFileStore from "@zarrita/storage/zip";
import * as node from "shardedstore/node";
import { CONCURRENCY, chunkKeys, chunkValues } from "./directory.mjs";
import { makeData, shardedDirectory, writeArray } from "./end-to-end.mjs";
import { compare, figure, pool } from "./measure.mjs";

const sh = promisify(execFile);

/** Total size of the files under `dir`. */
async function du(dir) {
  let total = 0;
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (ent.isFile()) total += (await stat(path.join(ent.parentPath ?? ent.path, ent.name))).size;
  }
  return total;
}

async function chunkReads(tmp, ZipStore) {
  const keys = chunkKeys();
  const values = chunkValues();
  const file = path.join(tmp, "chunks.zarr.zip");
  const zip = new ZipStore(file, { mode: "w" });
  const dir = new node.DirectoryStore(path.join(tmp, "chunks.zarr"));
  for (const [i, k] of keys.entries()) {
    await zip.set(k, values[i]);
    await dir.set(k, values[i]);
  }
  await zip.close();
  let sink = 0;
  // Each run opens the store afresh (reading the zip's central directory is part of a read).
  const reader = (open) => async () => {
    const store = await open();
    await pool(keys, CONCURRENCY, async (k) => {
      sink += (await store.get(k)).length;
    });
    await store.close?.();
  };
  const res = await compare({
    ours: { run: reader(() => new ZipStore(file)) },
    directory: { run: reader(() => new node.DirectoryStore(path.join(tmp, "chunks.zarr"))) },
    zarrita: { run: reader(async () => ZipFileStore.fromBlob(await openAsBlob(file))) },
  });
  if (sink === 0) throw new Error("nothing read");
  const common = {
    section: "Zip",
    kind: "speed",
    unit: "B",
    work: values.length * values[0].length,
    name: `read 256 × 256 KiB stored chunks, ${CONCURRENCY} at a time`,
  };
  return [
    figure({
      ...common,
      ours: res.ours,
      baseline: res.directory,
      baselineName: "our DirectoryStore",
      target: 0.9,
    }),
    figure({
      ...common,
      ours: res.ours,
      baseline: res.zarrita,
      baselineName: "zarrita ZipFileStore (openAsBlob)",
      // "Faster": strictly above 1.
      target: 1.0001,
    }),
  ];
}

async function conversion(tmp) {
  const src = path.join(tmp, "src");
  await writeArray(shardedDirectory(src), makeData());
  const bytes = await du(src);
  let n = 0;
  let outOurs = "";
  let outCp = "";
  const res = await compare({
    ours: {
      prepare: async () => {
        if (outOurs) await rm(outOurs, { recursive: true, force: true });
        outOurs = path.join(tmp, `zip${n++}`);
      },
      run: async () => {
        const zipped = await shardedDirectory(src).mapShards(node.toZipStoreWithPrefix(`${outOurs}/data`));
        await zipped.close();
      },
    },
    baseline: {
      prepare: async () => {
        if (outCp) await rm(outCp, { recursive: true, force: true });
        outCp = path.join(tmp, `cp${n++}`);
      },
      run: () => sh("cp", ["-r", src, outCp]),
    },
  });
  return figure({
    section: "Zip",
    name: "convert the end-to-end composition (65 stores) to zips",
    kind: "speed",
    unit: "B",
    work: bytes,
    ours: res.ours,
    baseline: res.baseline,
    baselineName: "cp -r of the same files",
    target: 0.7,
  });
}

export async function run() {
  const { ZipStore, toZipStoreWithPrefix } = node;
  const figures = [];
  const skipped = [];
  const tmp = await mkdtemp(path.join(tmpdir(), "ss-bench-zip-"));
  try {
    if (typeof ZipStore !== "function") skipped.push("Zip chunk reads: skipped: ZipStore not built");
    else figures.push(...(await chunkReads(tmp, ZipStore)));
    if (typeof ZipStore !== "function" || typeof toZipStoreWithPrefix !== "function")
      skipped.push("Zip conversion: skipped: ZipStore / toZipStoreWithPrefix not built");
    else figures.push(await conversion(tmp));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  for (const s of skipped) console.log(s);
  return { figures, skipped };
}
