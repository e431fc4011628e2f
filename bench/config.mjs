// Configs at scale: the compact form of a 10^6-index-store composition (bytes, open time, heap), and
// the expanded form at 10^4 index stores vs plain JSON.parse and vs the 0.1.0 codec (SS_BASELINE_DIST:
// a built dist/ of 0.1.0; skipped without it). No index store is created on disk: opening is lazy.
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import * as node from "shardedstore/node";
import { CHEAP, compare, figure } from "./measure.mjs";

const gc = typeof globalThis.gc === "function" ? globalThis.gc : () => {};
const ROOT = "/tmp/ss-bench-config"; // never written: factories open stores lazily

/** A composition whose array `data/a` has the index stores of a `rows × cols` grid. */
function composition(rows, cols) {
  return new node.ShardedStore(new node.DirectoryStore(`${ROOT}/base.zarr`), {
    arrayShards: {
      "data/a": {
        dims: 2,
        factory: node.arrayShardDirectoryStore(`${ROOT}/a`),
        indices:
          rows > 0
            ? [
                [
                  [0, rows],
                  [0, cols],
                ],
              ]
            : [],
      },
    },
  });
}

function heapMiB() {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function baselineCodec() {
  const dist = process.env.SS_BASELINE_DIST;
  if (!dist) return null;
  return import(pathToFileURL(path.join(path.resolve(dist), "node.js")).href);
}

export async function run() {
  const figures = [];
  const skipped = [];
  // Compact: 10^6 index stores (1000 × 1000), opened, and one chunk routed through it.
  const million = composition(1000, 1000);
  const compactText = JSON.stringify(million.toConfig({ form: "compact", relativeTo: ROOT }));
  const emptyText = JSON.stringify(composition(0, 0).toConfig({ form: "compact", relativeTo: ROOT }));
  const before = heapMiB();
  const opened = node.ShardedStore.fromConfig(JSON.parse(compactText), { baseDir: ROOT });
  const heldMiB = heapMiB() - before;
  if (opened.arrayMounts.get("data/a").knownCount !== 1e6)
    throw new Error("compact config lost index stores");
  const open = await compare(
    {
      ours: { run: () => node.ShardedStore.fromConfig(JSON.parse(compactText), { baseDir: ROOT }) },
      baseline: { run: () => node.ShardedStore.fromConfig(JSON.parse(emptyText), { baseDir: ROOT }) },
    },
    CHEAP,
  );
  figures.push(
    figure({
      section: "Config",
      name: `open a compact config of 10^6 index stores (${compactText.length} B, heap +${heldMiB.toFixed(1)} MiB)`,
      kind: "time",
      unit: "opens",
      work: 1,
      ours: open.ours,
      baseline: open.baseline,
      baselineName: "same config, no index stores",
      target: 2,
      note: `config ${compactText.length} bytes (target ≤ 10 KB); open ${(open.ours.median / 1e6).toFixed(2)} ms (target ≤ 500 ms); heap held ${heldMiB.toFixed(1)} MiB (target ≤ 100 MB)`,
    }),
  );
  console.log(
    `compact 10^6: ${compactText.length} B, open ${(open.ours.median / 1e6).toFixed(2)} ms, heap +${heldMiB.toFixed(1)} MiB`,
  );

  // Expanded: 10^4 index stores (100 × 100), the Python-compatible form.
  const tenK = composition(100, 100);
  const expandedText = JSON.stringify(tenK.toConfig({ form: "expanded", relativeTo: ROOT }));
  const expanded = await compare(
    {
      ours: { run: () => node.ShardedStore.fromConfig(JSON.parse(expandedText), { baseDir: ROOT }) },
      baseline: { run: () => JSON.parse(expandedText) },
    },
    CHEAP,
  );
  figures.push(
    figure({
      section: "Config",
      name: `open an expanded config of 10^4 index stores (${(expandedText.length / 1e6).toFixed(2)} MB)`,
      kind: "time",
      unit: "opens",
      work: 1,
      ours: expanded.ours,
      baseline: expanded.baseline,
      baselineName: "JSON.parse of the text alone",
      target: 10,
    }),
  );
  // The same, confined (the CLI's way): every index store's real path is checked, folder by folder.
  const confined = await compare(
    {
      ours: {
        run: () => node.ShardedStore.fromConfig(JSON.parse(expandedText), { baseDir: ROOT, confine: true }),
      },
      baseline: { run: () => JSON.parse(expandedText) },
    },
    CHEAP,
  );
  figures.push(
    figure({
      section: "Config",
      name: "open an expanded config of 10^4 index stores, confined (real paths checked)",
      kind: "time",
      unit: "opens",
      work: 1,
      ours: confined.ours,
      baseline: confined.baseline,
      baselineName: "JSON.parse of the text alone",
      target: 10,
    }),
  );
  // Expanded at 10^5 index stores (316 × 316 + 144): the cost per entry must not grow with size.
  const hundredK = composition(316, 317);
  const bigText = JSON.stringify(hundredK.toConfig({ form: "expanded", relativeTo: ROOT }));
  const big = await compare(
    {
      ours: { run: () => node.ShardedStore.fromConfig(JSON.parse(bigText), { baseDir: ROOT }) },
      baseline: { run: () => JSON.parse(bigText) },
    },
    { runs: 5, warmup: 1 },
  );
  figures.push(
    figure({
      section: "Config",
      name: `open an expanded config of ~10^5 index stores (${(bigText.length / 1e6).toFixed(1)} MB)`,
      kind: "time",
      unit: "opens",
      work: 1,
      ours: big.ours,
      baseline: big.baseline,
      baselineName: "JSON.parse of the text alone",
      target: 10,
    }),
  );
  const old = await baselineCodec();
  if (old === null) {
    skipped.push("Config: expanded 10^4 vs 0.1.0 (set SS_BASELINE_DIST to a built 0.1.0 dist/)");
  } else {
    const vsOld = await compare(
      {
        ours: { run: () => node.ShardedStore.fromConfig(JSON.parse(expandedText), { baseDir: ROOT }) },
        baseline: { run: () => old.ShardedStore.fromConfig(JSON.parse(expandedText), { baseDir: ROOT }) },
      },
      CHEAP,
    );
    figures.push(
      figure({
        section: "Config",
        name: "open an expanded config of 10^4 index stores, vs 0.1.0",
        kind: "time",
        unit: "opens",
        work: 1,
        ours: vsOld.ours,
        baseline: vsOld.baseline,
        baselineName: "0.1.0 fromConfig",
        target: 1,
      }),
    );
  }
  return { figures, skipped };
}
