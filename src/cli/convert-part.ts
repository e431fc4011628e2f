import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { eachLimit } from "../each-limit.js";
import type { IndexBox, ShardedStore } from "../node.js";
import { toZipStoreWithPrefix, zipPathFor } from "../node.js";
import { dirPathFor, PREFIX_NAME, toDirectoryStoreWithPrefix } from "./layout.js";
import {
  type Part,
  type PartManifest,
  type PartStore,
  partOf,
  readManifest,
  storeId,
  writeManifest,
} from "./parts.js";
import type { ProgressBar } from "./progress.js";

/**
 * What one part of a split conversion did.
 *
 * @example
 * ```ts
 * const r: PartReport = { part: 1, of: 4, stores: 6, converted: 6, skipped: 0, bytes: 1024, alreadyComplete: false };
 * ```
 */
export interface PartReport {
  part: number;
  of: number;
  stores: number;
  converted: number;
  skipped: number;
  bytes: number;
  alreadyComplete: boolean;
}

/**
 * The index boxes of each array `sharded` declares by boxes (opened from a compact config): a
 * conversion turns every store they name into its factory's output, so the converted composition
 * declares those arrays by the same boxes and its config stays compact.
 *
 * @example
 * ```ts
 * declaredIndices(sharded); // { "simulation/fine/foo": [[[0, 6], [0, 3]]] }
 * ```
 */
export function declaredIndices(sharded: ShardedStore): Record<string, IndexBox[]> {
  const indices: Record<string, IndexBox[]> = {};
  // An expanded config's entries packed on reading (config/pack-entries.ts: the factory says
  // `expanded`) were not declared by boxes.
  for (const [p, m] of sharded.arrayMounts)
    if (m.declared !== null && !(m.factory as { expanded?: true }).expanded)
      indices[p] = [...m.declared.boxes];
  return indices;
}

/**
 * The group mounts and sharded arrays of a composition, and the index boxes of those it declares
 * by boxes, as a part manifest records them.
 *
 * @example
 * ```ts
 * structureOf(sharded); // { groups: ["people"], arrays: { "simulation/fine/foo": 2 } }
 * ```
 */
export function structureOf(sharded: ShardedStore): Pick<PartManifest, "groups" | "arrays" | "indices"> {
  const indices = declaredIndices(sharded);
  return {
    groups: [...sharded.shardMounts.keys()].sort(),
    arrays: Object.fromEntries([...sharded.arrayMounts].map(([p, m]) => [p, m.dims])),
    ...(Object.keys(indices).length > 0 ? { indices } : {}),
  };
}

/**
 * `convert --part K/N`: converts the stores of `sharded` that fall in part K (see {@link partOf}),
 * the way `convert` does (resumable store by store), and records them in the part's manifest. No
 * composition config: `finalize` writes it once every part is complete.
 *
 * @example
 * ```ts
 * await convertPart(sharded, "/abs/composition.json", "zip", "out", { k: 1, n: 4 }, 4, bar);
 * ```
 */
export async function convertPart(
  sharded: ShardedStore,
  source: string,
  to: "zip" | "dir",
  outDir: string,
  part: Part,
  concurrency: number,
  bar: ProgressBar,
): Promise<PartReport> {
  const out = path.resolve(outDir);
  const base: Omit<PartManifest, "complete" | "stores"> = {
    command: "convert",
    source,
    type: to,
    part: part.k,
    of: part.n,
    ...structureOf(sharded),
  };
  const done = await readManifest(out, part);
  const entries = [...(await sharded.shardsOnDemand())].filter(
    (e) => partOf(storeId(e.kind, e.mount, e.index), part.n) === part.k,
  );
  if (done?.complete) {
    return {
      part: part.k,
      of: part.n,
      stores: done.stores.length,
      converted: 0,
      skipped: done.stores.length,
      bytes: 0,
      alreadyComplete: true,
    };
  }
  await mkdir(out, { recursive: true });
  await writeManifest(out, { ...base, complete: false, stores: [] });
  const prefix = path.join(out, PREFIX_NAME);
  const fn = to === "zip" ? toZipStoreWithPrefix(prefix) : toDirectoryStoreWithPrefix(prefix);
  let skipped = 0;
  let bytes = 0;
  const stores: PartStore[] = [];
  bar.start(entries.length);
  try {
    await eachLimit(entries, concurrency, async (e) => {
      let wasSkipped = false;
      const result = await e.use(async (store) =>
        fn(store, e.mount, e.index, {
          kind: e.kind,
          reportBytes: (n) => {
            bytes += n;
          },
          skipped: () => {
            wasSkipped = true;
          },
        }),
      );
      await result.close?.();
      if (wasSkipped) skipped++;
      const where =
        to === "zip" ? zipPathFor(prefix, e.mount, e.index) : dirPathFor(prefix, e.mount, e.index);
      stores.push({ kind: e.kind, mount: e.mount, ...(e.index ? { index: [...e.index] } : {}), path: where });
      bar.increment();
    });
  } finally {
    bar.stop();
  }
  stores.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  await writeManifest(out, { ...base, complete: true, stores });
  return {
    part: part.k,
    of: part.n,
    stores: entries.length,
    converted: entries.length - skipped,
    skipped,
    bytes,
    alreadyComplete: false,
  };
}
