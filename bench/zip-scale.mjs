// Zip scale: what each open archive costs. 10^4 small zips opened and read (a composition's index
// stores), side by side with the same stores as directories: RSS and heap per archive, open
// descriptors, time; and heap per central-directory entry on archives of 1,000 entries. Each variant
// runs in a child process of its own (`--child`), so one variant's heap never counts for another.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { figure, pool } from "./measure.mjs";

const sh = promisify(execFile);
const N = Number(process.env.ZIP_SCALE_N ?? 10_000);
const BIG_ENTRIES = 1000;
const BIG_ZIPS = 100;
const CHUNKS = ["c/0/0", "c/0/1", "c/1/0", "c/1/1"];
const META = JSON.stringify({ zarr_format: 3, node_type: "array", shape: [2, 2], data_type: "uint8" });

const fds = async () => (await readdir("/proc/self/fd")).length;
const mem = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.arrayBuffers };
};

/** In a child: opens every store of `kind`, reads two keys of each, and keeps them all. */
async function child(kind, dir, count) {
  const node = await import("shardedstore/node");
  const pooled = kind === "zip-unbounded" ? new node.ZipFilePool({ maxOpen: count + 100 }) : undefined;
  const open = (i) =>
    kind === "directory"
      ? new node.DirectoryStore(path.join(dir, `${i}.zarr`))
      : new node.ZipStore(path.join(dir, `${i}.zarr.zip`), pooled ? { pool: pooled } : {});
  const fds0 = await fds();
  const before = mem();
  const t0 = process.hrtime.bigint();
  const stores = new Array(count);
  let peakFds = fds0;
  await pool(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (i) => {
      const s = open(i);
      stores[i] = s;
      if ((await s.get("/zarr.json")) === undefined) throw new Error(`no metadata in store ${i}`);
      if ((await s.get("/c/1/1")) === undefined) throw new Error(`no chunk in store ${i}`);
      if (i % 500 === 0) peakFds = Math.max(peakFds, await fds());
    },
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  peakFds = Math.max(peakFds, await fds());
  const after = mem();
  const result = {
    ms,
    rssPer: (after.rss - before.rss) / count,
    heapPer: (after.heap - before.heap) / count,
    fds: peakFds - fds0,
    kept: stores.length,
  };
  process.stdout.write(JSON.stringify(result));
}

/** In a child: heap per entry of open archives of BIG_ENTRIES entries (names `c/<i>/<j>`, ~7 bytes). */
async function childEntries(dir) {
  const node = await import("shardedstore/node");
  const before = mem();
  const stores = [];
  for (let i = 0; i < BIG_ZIPS; i++) {
    const s = new node.ZipStore(path.join(dir, `big-${i}.zip`));
    await s.get("/c/0/0");
    stores.push(s);
  }
  const after = mem();
  process.stdout.write(JSON.stringify({ perEntry: (after.heap - before.heap) / (BIG_ZIPS * BIG_ENTRIES) }));
}

async function build(dir) {
  const node = await import("shardedstore/node");
  const value = new Uint8Array(4).fill(7);
  const one = path.join(dir, "one.zip");
  const z = new node.ZipStore(one, { mode: "w" });
  await z.set("/zarr.json", new TextEncoder().encode(META));
  for (const c of CHUNKS) await z.set(`/${c}`, value);
  await z.close();
  const bytes = await readFile(one);
  await pool(
    Array.from({ length: N }, (_, i) => i),
    16,
    async (i) => {
      await writeFile(path.join(dir, `${i}.zarr.zip`), bytes);
      const d = path.join(dir, `${i}.zarr`);
      await mkdir(path.join(d, "c", "0"), { recursive: true });
      await mkdir(path.join(d, "c", "1"), { recursive: true });
      await writeFile(path.join(d, "zarr.json"), META);
      for (const c of CHUNKS) await writeFile(path.join(d, c), value);
    },
  );
  for (let i = 0; i < BIG_ZIPS; i++) {
    const big = new node.ZipStore(path.join(dir, `big-${i}.zip`), { mode: "w" });
    await Promise.all(
      Array.from({ length: BIG_ENTRIES }, (_, j) => big.set(`/c/${i % 10}/${j}`, value)).concat([
        big.set("/c/0/0", value),
      ]),
    );
    await big.close();
  }
}

async function inChild(...args) {
  const { stdout } = await sh(
    process.execPath,
    ["--expose-gc", fileURLToPath(import.meta.url), "--child", ...args],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout);
}

const kb = (b) => `${(b / 1024).toFixed(2)} KiB`;

export async function run() {
  const node = await import("shardedstore/node");
  if (typeof node.ZipFilePool !== "function")
    return { figures: [], skipped: ["Zip scale: skipped: ZipFilePool not built"] };
  const dir = await mkdtemp(path.join(tmpdir(), "ss-bench-zipscale-"));
  try {
    await build(dir);
    const rows = {};
    for (const kind of ["zip", "directory", "zip-unbounded"])
      rows[kind] = await inChild(kind, dir, String(N));
    const entries = await inChild("entries", dir);
    const lines = [
      `Zip scale: ${N.toLocaleString("en")} stores of 5 keys, each opened and read (2 keys), all kept open:`,
      "| store | time | RSS per store | heap per store | descriptors open (peak) |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...Object.entries(rows).map(
        ([k, r]) =>
          `| ${k === "zip" ? "ZipStore (shared pool, 128)" : k === "zip-unbounded" ? "ZipStore (pool of N + 100: one fd per zip, as before)" : "DirectoryStore"} | ${r.ms.toFixed(0)} ms | ${kb(r.rssPer)} | ${kb(r.heapPer)} | ${r.fds} |`,
      ),
      `Central-directory index: ${entries.perEntry.toFixed(0)} bytes of heap per entry (${BIG_ZIPS} open zips × ${BIG_ENTRIES} entries, names of ~7 bytes, name strings included)`,
    ];
    for (const l of lines) console.log(l);
    const f = figure({
      section: "Zip scale",
      name: `open and read ${N.toLocaleString("en")} small zips (2 keys each), all kept open`,
      kind: "time",
      unit: "stores",
      work: N,
      ours: { median: rows.zip.ms * 1e6, samples: [rows.zip.ms * 1e6] },
      baseline: { median: rows.directory.ms * 1e6, samples: [rows.directory.ms * 1e6] },
      baselineName: "the same stores as DirectoryStores",
      target: 2,
      note: lines.join("\n"),
    });
    return { figures: [f], skipped: [], tables: lines };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  const [kind, dir, count] = process.argv.slice(3);
  if (kind === "entries") await childEntries(dir);
  else await child(kind, dir, Number(count));
}
