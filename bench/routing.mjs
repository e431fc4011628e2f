// Routing: ShardedStore.resolve over a realistic key mix vs a bare Map.get of the full key.
import { buildComposition } from "./composition.mjs";
import { CHEAP, compare, figure } from "./measure.mjs";

/** Times `resolve` and `Map.get` over the same key array, `passes` times per run. */
export async function routeVsMap(store, keys, passes) {
  const map = new Map();
  for (const k of keys) map.set(k, store.resolve(k));
  let sink = 0;
  // Cheap runs: more of them, to steady the median.
  const res = await compare(
    {
      ours: {
        run: () => {
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < keys.length; i++) sink += store.resolve(keys[i]).key.length;
        },
      },
      baseline: {
        run: () => {
          for (let p = 0; p < passes; p++)
            for (let i = 0; i < keys.length; i++) sink += map.get(keys[i]).key.length;
        },
      },
    },
    CHEAP,
  );
  if (sink === 0) throw new Error("routing produced nothing");
  return res;
}

export async function run() {
  const out = [];
  for (const mounts of [10, 1000]) {
    const { store, keys } = await buildComposition(mounts);
    // Hot: 4,096 distinct keys read again and again (metadata, a zarrita slice re-read).
    const hot = keys(4096, 7);
    const h = await routeVsMap(store, hot, 100);
    out.push(
      figure({
        section: "Routing",
        name: `resolve, ${mounts} mounts, 4,096 distinct keys repeated`,
        kind: "time",
        unit: "keys",
        work: hot.length * 100,
        ours: h.ours,
        baseline: h.baseline,
        baselineName: "Map.get(full key)",
        target: 2,
      }),
    );
    // Cold: 200,000 distinct keys, each seen once per pass (more than the route memo holds).
    const cold = keys(200_000, 11);
    const c = await routeVsMap(store, cold, 2);
    out.push(
      figure({
        section: "Routing",
        name: `resolve, ${mounts} mounts, 200,000 distinct keys (no memo hits)`,
        kind: "time",
        unit: "keys",
        work: cold.length * 2,
        ours: c.ours,
        baseline: c.baseline,
        baselineName: "Map.get(full key)",
        target: 2,
      }),
    );
  }
  return { figures: out };
}
