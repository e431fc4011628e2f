// Index stores of array shards by flat chunk index: routing a chunk finds its index store by the
// numbers, without making its id string ("10,3") and hashing it in a map per array.
import type { ArrayShard } from "./array-shards.js";
import type { IndexEntry } from "./index-stores.js";
import type { Store } from "./types.js";

/**
 * The index stores routing has found, by array and flat index (row-major over the leading `dims`
 * of the chunk grid), for arrays whose layout is known. Entries are the array's own (they are never
 * replaced), so a store opened later or resolved from a promise is seen. Forget an array when its
 * layout changes.
 *
 * @example
 * ```ts
 * const cache = new IndexStoreCache();
 * cache.store(shard, [10, 3]); // same as shard.store([10, 3], "10,3")
 * ```
 */
export class IndexStoreCache {
  readonly #byArray = new Map<ArrayShard, Map<number, IndexEntry> | null>();

  /** The index store of `index` in `m`, as `m.store` gives it. */
  store(m: ArrayShard, index: readonly number[]): Store {
    const grid = m.layout?.grid;
    let entries = grid === undefined ? null : this.#byArray.get(m);
    if (entries === undefined) {
      // Flat indices are exact only while the leading grid holds at most 2^53 tuples.
      let tuples = 1;
      for (let d = 0; d < m.dims; d++) tuples *= grid![d] ?? Number.POSITIVE_INFINITY;
      entries = tuples <= Number.MAX_SAFE_INTEGER ? new Map() : null;
      this.#byArray.set(m, entries);
    }
    if (entries === null) return m.store(index, index.join(","));
    let flat = 0;
    for (let d = 0; d < index.length; d++) flat = flat * grid![d]! + index[d]!;
    const hit = entries.get(flat);
    if (hit !== undefined) return hit.store;
    const id = index.join(",");
    const store = m.store(index, id);
    const made = m.stores.get(id);
    if (made !== undefined) entries.set(flat, made);
    return store;
  }

  /** Drops what is known of `m` (its layout changed). */
  forget(m: ArrayShard): void {
    this.#byArray.delete(m);
  }
}
