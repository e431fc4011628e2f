// Scaling: routing and list() cost as mounts grow 10 → 10,000 and keys 10^3 → 10^6.
import { buildComposition } from "./composition.mjs";
import { compare } from "./measure.mjs";

const METADATA = /\/(zarr\.json|\.z\w+)$/;
const ONE = new Uint8Array(1);

/** Writes `count` distinct chunk keys of the mix straight into the shards (routing with resolve). */
function populate(comp, count) {
  const keys = [...new Set(comp.keys(Math.round(count * 1.3), 5))].filter((k) => !METADATA.test(k));
  keys.length = Math.min(keys.length, count);
  for (const k of keys) {
    const r = comp.store.resolve(k);
    r.store.setSync(r.key, ONE);
  }
  return keys.length;
}

async function listAll(store) {
  let n = 0;
  for await (const _ of store.list()) n++;
  return n;
}

function routeAll(store, keys) {
  let sink = 0;
  for (let i = 0; i < keys.length; i++) sink += store.resolve(keys[i]).key.length;
  return sink;
}

async function row(mounts, count, opts) {
  const comp = await buildComposition(mounts);
  populate(comp, count);
  const listed = await listAll(comp.store);
  const cold = comp.keys(200_000, 13);
  const hot = comp.keys(4096, 17);
  const res = await compare(
    {
      list: { run: () => listAll(comp.store) },
      cold: { run: () => routeAll(comp.store, cold) },
      // 50 passes, so after the first the routes come from the memo.
      hot: {
        run: () => {
          for (let p = 0; p < 50; p++) routeAll(comp.store, hot);
        },
      },
    },
    opts,
  );
  return {
    mounts,
    keys: listed,
    listMs: res.list.median / 1e6,
    listNsPerKey: res.list.median / listed,
    coldRouteNsPerKey: res.cold.median / cold.length,
    hotRouteNsPerKey: res.hot.median / (hot.length * 50),
  };
}

export async function run() {
  const opts = { runs: 5, warmup: 1 };
  const byMounts = [];
  for (const mounts of [10, 100, 1000, 10_000]) {
    byMounts.push(await row(mounts, 100_000, opts));
  }
  const byKeys = [];
  for (const count of [1_000, 10_000, 100_000, 1_000_000]) {
    byKeys.push(await row(1000, count, opts));
  }
  return { figures: [], scaling: { byMounts, byKeys } };
}
