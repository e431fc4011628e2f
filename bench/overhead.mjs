// Overhead: get/set of 1 KiB values through ShardedStore over MemoryStores vs one MemoryStore.
import { MemoryStore } from "shardedstore";
import { buildComposition } from "./composition.mjs";
import { CHEAP, compare, figure } from "./measure.mjs";

const COUNT = 20_000;

export async function run() {
  const { store, keys } = await buildComposition(100);
  // The mix's chunk keys (group shards, array shards, base); metadata documents are left out.
  const ks = [...new Set(keys(COUNT * 2, 3))]
    .filter((k) => !/\/(zarr\.json|\.z\w+)$/.test(k))
    .slice(0, COUNT);
  const value = new Uint8Array(1024).fill(7);
  const single = new MemoryStore();
  let sink = 0;
  const set = await compare(
    {
      ours: {
        run: async () => {
          for (const k of ks) await store.set(k, value);
        },
      },
      baseline: {
        run: async () => {
          for (const k of ks) await single.set(k, value);
        },
      },
    },
    CHEAP,
  );
  const get = await compare(
    {
      ours: {
        run: async () => {
          for (const k of ks) sink += (await store.get(k)).length;
        },
      },
      baseline: {
        run: async () => {
          for (const k of ks) sink += (await single.get(k)).length;
        },
      },
    },
    CHEAP,
  );
  // The floor under any router: the same gets sent straight to the composition's own stores, routes
  // worked out beforehand — what spreading the keys over ~100 stores costs before routing costs anything.
  const routes = ks.map((k) => store.resolve(k));
  const floor = await compare(
    {
      ours: {
        run: async () => {
          for (const r of routes) sink += (await r.store.get(r.key)).length;
        },
      },
      baseline: {
        run: async () => {
          for (const k of ks) sink += (await single.get(k)).length;
        },
      },
    },
    CHEAP,
  );
  if (sink === 0) throw new Error("nothing read");
  const common = { section: "Overhead", kind: "time", unit: "ops", work: ks.length, target: 1.25 };
  return {
    figures: [
      figure({
        ...common,
        name: `set 1 KiB, ${ks.length.toLocaleString("en")} keys, 100 mounts`,
        ours: set.ours,
        baseline: set.baseline,
        baselineName: "one MemoryStore.set",
      }),
      figure({
        ...common,
        name: `get 1 KiB, ${ks.length.toLocaleString("en")} keys, 100 mounts`,
        ours: get.ours,
        baseline: get.baseline,
        baselineName: "one MemoryStore.get",
      }),
      figure({
        ...common,
        target: undefined,
        name: `get 1 KiB, ${ks.length.toLocaleString("en")} keys, from the ~100 stores directly, routes known (floor)`,
        ours: floor.ours,
        baseline: floor.baseline,
        baselineName: "one MemoryStore.get",
        note: "no ShardedStore involved: the cost of the keys living in many stores",
      }),
    ],
  };
}
