import { eachLimit, type Sequence } from "../each-limit.js";
import type { ShardContext, ShardTransform, ShardVisit, Store } from "../node.js";

/**
 * What converting one store did: whether an earlier run had done it, and its keys and bytes
 * (bytes copied: 0 when skipped).
 *
 * @example
 * ```ts
 * const o: StoreOutcome = { skipped: false, keys: 2, bytes: 176 };
 * ```
 */
export interface StoreOutcome {
  skipped: boolean;
  keys: number;
  bytes: number;
}

/**
 * The totals of {@link convertEach}.
 *
 * @example
 * ```ts
 * const t: ConvertTotals = { stores: 3, converted: 2, skipped: 1, keys: 6, bytes: 512 };
 * ```
 */
export interface ConvertTotals {
  stores: number;
  converted: number;
  skipped: number;
  keys: number;
  bytes: number;
}

/**
 * Applies a shard transformation (`toZipStoreWithPrefix`, `toDirectoryStoreWithPrefix`) to every
 * store, `concurrency` at once, each source store open only while it is converted (the visits of
 * `shardsOnDemand()`), and closes each result at once: nothing is kept per store (unlike
 * `mapShards`, which keeps every source and result to build the new composition). `keep(entry)` says which results to return open instead (the base and group
 * shards, from which the caller builds the new composition; index stores come from the
 * transformation's factory). `onStore` hears of each store once it is done (durable, as the
 * transformation promises). Stops at the first failure, after the running stores settle.
 *
 * @example
 * ```ts
 * const { kept, totals } = await convertEach(await sharded.shardsOnDemand(), toZipStoreWithPrefix("out/data"), { concurrency: 64 });
 * ```
 */
export async function convertEach(
  entries: Sequence<ShardVisit>,
  fn: ShardTransform,
  options: {
    concurrency: number;
    keep?: (entry: ShardVisit) => boolean;
    onStore?: (entry: ShardVisit, outcome: StoreOutcome) => void;
    signal?: AbortSignal;
  },
): Promise<{ kept: Map<ShardVisit, Store>; totals: ConvertTotals }> {
  const totals: ConvertTotals = { stores: entries.length, converted: 0, skipped: 0, keys: 0, bytes: 0 };
  const kept = new Map<ShardVisit, Store>();
  await eachLimit(entries, options.concurrency, async (entry) => {
    const outcome: StoreOutcome = { skipped: false, keys: 0, bytes: 0 };
    const ctx: ShardContext = {
      kind: entry.kind,
      ...(options.signal ? { signal: options.signal } : {}),
      reportBytes: (n) => {
        outcome.bytes += n;
      },
      skipped: () => {
        outcome.skipped = true;
      },
      reportKeys: (n) => {
        outcome.keys = n;
      },
    };
    const result = await entry.use(async (store) => fn(store, entry.mount, entry.index, ctx));
    if (options.keep?.(entry)) kept.set(entry, result);
    else await result.close?.();
    if (outcome.skipped) totals.skipped++;
    else totals.converted++;
    totals.keys += outcome.keys;
    totals.bytes += outcome.bytes;
    options.onStore?.(entry, outcome);
  });
  return { kept, totals };
}
