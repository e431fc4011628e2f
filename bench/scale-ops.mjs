// One measured operation of bench/scale.mjs, run in a fresh process:
//   node bench/scale-ops.mjs <open|list|read|read100|timed> <config|directory> <path>
// Prints one line: what it did (counts, checksums), so the parent can show it.

import { DirectoryStore, openShardedStore } from "shardedstore/node";
import * as zarr from "zarrita";

const [op, kind, where] = process.argv.slice(2);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const c0 = cpu();
const t0 = performance.now();
const store = kind === "config" ? await openShardedStore(where) : new DirectoryStore(where);
const opened = performance.now() - t0;
const openCpu = cpu() - c0;

async function readChunks(limit) {
  const arr = await zarr.open(zarr.root(store).resolve("a"), { kind: "array" });
  const [s0, s1] = arr.shape;
  let sum = 0;
  let chunks = 0;
  const rows = limit ? Math.min(10, s0) : s0;
  const cols = limit ? Math.min(10, s1) : s1;
  // Row by row: zarrita reads every chunk of a selection at once, which is the burst we survive.
  for (let i = 0; i < rows; i++) {
    const got = await zarr.get(arr, [i, zarr.slice(0, cols), null]);
    for (const v of got.data) sum += v;
    chunks += cols;
  }
  return { chunks, sum };
}

let what;
switch (op) {
  case "open":
    what = { opened: true };
    break;
  case "list": {
    let keys = 0;
    for await (const _ of store.list()) keys++;
    what = { keys };
    break;
  }
  case "read":
    what = await readChunks(false);
    break;
  case "read100":
  case "timed": {
    const t1 = performance.now();
    const c1 = cpu();
    what = await readChunks(true);
    what.openMs = opened;
    what.read100Ms = performance.now() - t1;
    // CPU time too: on a shared machine it is steadier than the wall clock.
    what.openCpuMs = openCpu;
    what.read100CpuMs = cpu() - c1;
    break;
  }
  default:
    throw new Error(`unknown operation ${op}`);
}
await store.close?.();
// CPU time over the same span as `ms` (config open included), thread pool included.
console.log(JSON.stringify({ ...what, ms: performance.now() - t0, cpuMs: cpu() - c0 }));
