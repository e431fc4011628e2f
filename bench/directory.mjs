// Directory store: our DirectoryStore vs zarrita's FileSystemStore, same chunks written and read.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { DirectoryStore } from "shardedstore/node";
import { compare, figure, pool } from "./measure.mjs";

const CHUNKS = 256;
const CHUNK_BYTES = 256 * 1024;
export const CONCURRENCY = 8;

/** 256 chunk keys of a 2-D-chunked array, as zarrita writes them (`/c/i/j`). */
export function chunkKeys(prefix = "/data/x") {
  const keys = [];
  for (let i = 0; i < CHUNKS; i++) keys.push(`${prefix}/c/${i >> 4}/${i & 15}`);
  return keys;
}

export function chunkValues() {
  return chunkKeys().map((_, i) => new Uint8Array(CHUNK_BYTES).fill(i & 255));
}

export async function run() {
  const tmp = await mkdtemp(path.join(tmpdir(), "ss-bench-dir-"));
  try {
    const keys = chunkKeys();
    const values = chunkValues();
    let n = 0;
    const dirs = { ours: "", baseline: "" };
    const variant = (name, make) => ({
      prepare: async () => {
        if (dirs[name]) await rm(dirs[name], { recursive: true, force: true });
        dirs[name] = path.join(tmp, `${name}${n++}`);
      },
      run: () => {
        const store = make(dirs[name]);
        return pool(keys, CONCURRENCY, (k, i) => store.set(k, values[i]));
      },
    });
    const write = await compare({
      ours: variant("ours", (d) => new DirectoryStore(d)),
      baseline: variant("baseline", (d) => new FileSystemStore(d)),
    });
    let sink = 0;
    const reader = (store) => () =>
      pool(keys, CONCURRENCY, async (k) => {
        sink += (await store.get(k)).length;
      });
    // Both read the same files (written by ours).
    const read = await compare({
      ours: { run: reader(new DirectoryStore(dirs.ours)) },
      baseline: { run: reader(new FileSystemStore(dirs.ours)) },
    });
    if (sink === 0) throw new Error("nothing read");
    const common = {
      section: "Directory store",
      kind: "speed",
      unit: "B",
      work: CHUNKS * CHUNK_BYTES,
      target: 1,
      baselineName: "zarrita FileSystemStore",
    };
    return {
      figures: [
        figure({ ...common, name: `write 256 × 256 KiB chunks, ${CONCURRENCY} at a time`, ...write }),
        figure({ ...common, name: `read the same chunks, ${CONCURRENCY} at a time`, ...read }),
      ],
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
