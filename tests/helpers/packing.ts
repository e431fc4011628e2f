// Opening a config with Node's entry packing on or off (config/pack-entries.ts), and counting the
// entries an array keeps one by one: shared by the packing and config-splitting tests.
import { entryPacker } from "../../src/config/pack-entries.js";
import { setEntryPacker } from "../../src/config/sharded-config.js";
import { LazyIndexEntry } from "../../src/lazy-index-entry.js";
import { type OpenOptions, openShardedStore, type ShardedStore } from "../../src/node.js";

/**
 * Opens `file` with packing on (as Node always does) or off (every entry kept; a split config is
 * then read again whole), and puts packing back on.
 *
 * @example
 * ```ts
 * const plain = await openPacked("composition.json", false);
 * ```
 */
export async function openPacked(
  file: string,
  pack: boolean,
  options: OpenOptions = {},
): Promise<ShardedStore> {
  setEntryPacker(pack ? entryPacker : undefined);
  try {
    return await openShardedStore(file, options);
  } finally {
    setEntryPacker(entryPacker);
  }
}

/**
 * The number of entries array `a` of `s` keeps one by one (config entries not packed).
 *
 * @example
 * ```ts
 * keptEntries(store); // 0 when every entry was packed
 * ```
 */
export const keptEntries = (s: ShardedStore, array = "a"): number =>
  [...s.arrayMounts.get(array)!.stores.values()].filter((e) => e instanceof LazyIndexEntry).length;
