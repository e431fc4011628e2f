// Directory store: our DirectoryStore vs zarrita's FileSystemStore, same chunks written and read.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
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
        await burstFigure(tmp),
        ...(await listFigures(tmp)),
      ],
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Writes `n` small files as zarrita lays out chunks, 100 per folder, straight with fs. */
export async function buildTree(root, n) {
  const perDir = 100;
  for (let d = 0; d * perDir < n; d++) {
    const dir = path.join(root, "x", "c", String(d));
    await mkdir(dir, { recursive: true });
    const files = [];
    for (let i = 0; i < perDir && d * perDir + i < n; i++)
      files.push(writeFile(path.join(dir, String(i)), "v"));
    await Promise.all(files);
  }
}

/** `list()` of a DirectoryStore vs Node's recursive readdir of the same tree (target ≥ 0.8×). */
async function listFigures(tmp) {
  const out = [];
  for (const n of [1e4, 1e5]) {
    const root = path.join(tmp, `list${n}`);
    await buildTree(root, n);
    const store = new DirectoryStore(root);
    let seen = 0;
    const runs = n >= 1e5 ? { runs: 5, warmup: 1 } : {};
    const r = await compare(
      {
        ours: {
          run: async () => {
            let k = 0;
            for await (const _ of store.list()) k++;
            seen = k;
          },
        },
        baseline: { run: () => readdir(root, { recursive: true }) },
      },
      runs,
    );
    if (seen !== n) throw new Error(`listed ${seen} of ${n}`);
    out.push(
      figure({
        section: "Directory store",
        name: `list() of ${n.toExponential(0)} files`,
        kind: "speed",
        unit: "keys",
        work: n,
        target: 0.8,
        baselineName: "fs.readdir recursive",
        ...r,
      }),
    );
    await rm(root, { recursive: true, force: true });
  }
  return out;
}

/**
 * 10^4 small writes issued at once, as zarrita does: the process-wide bound on file operations
 * (DirectoryStore.maxOpenFiles) vs no bound (possible here only because `ulimit -n` is high).
 */
async function burstFigure(tmp) {
  const n = 10_000;
  const value = new Uint8Array(64);
  let k = 0;
  const variant = (limit) => ({
    prepare: () => {
      DirectoryStore.maxOpenFiles = limit;
    },
    run: async () => {
      const store = new DirectoryStore(path.join(tmp, `burst${k++}`));
      await Promise.all(Array.from({ length: n }, (_, i) => store.set(`/x/c/${i % 100}/${i}`, value)));
    },
  });
  const defaultLimit = DirectoryStore.maxOpenFiles;
  const r = await compare(
    { ours: variant(defaultLimit), baseline: variant(1_000_000) },
    { runs: 5, warmup: 1 },
  );
  DirectoryStore.maxOpenFiles = defaultLimit;
  return figure({
    section: "Directory store",
    name: `10^4 writes issued at once, ${defaultLimit} file operations at a time`,
    kind: "speed",
    unit: "keys",
    work: n,
    target: 0.9,
    baselineName: "no bound (EMFILE under ulimit -n 1024)",
    ...r,
  });
}
