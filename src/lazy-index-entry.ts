// An index store given by a config, opened on first use: a composition of 10^5 index stores opens
// without making 10^5 store objects, and closing it touches only those that were used.
import type { IndexEntry } from "./index-stores.js";
import type { Store } from "./types.js";

/**
 * An index entry whose store is made on first access of `store` (by `open`, which a config has
 * already checked, so it does not fail for reasons a config could have shown). Pass it in
 * `ArrayShardSpec.stores`; the composition keeps it as it is.
 *
 * @example
 * ```ts
 * const e = new LazyIndexEntry([0, 1], () => new MemoryStore());
 * e.opened; // false
 * e.store; // the MemoryStore, made now
 * ```
 */
export class LazyIndexEntry implements IndexEntry {
  readonly index: readonly number[];
  #open: (() => Store) | undefined;
  #store: Store | undefined;

  constructor(index: readonly number[], open: () => Store) {
    this.index = index;
    this.#open = open;
  }

  /** The store, opened now if it was not yet. */
  get store(): Store {
    if (this.#store === undefined) {
      this.#store = (this.#open as () => Store)();
      this.#open = undefined;
    }
    return this.#store;
  }

  set store(s: Store) {
    this.#store = s;
    this.#open = undefined;
  }

  /**
   * The store for one use: the one made already (see `opened`), else a new one this entry does not
   * keep (the caller closes it). A pass over 10^5 entries this way keeps none of their stores.
   *
   * @example
   * ```ts
   * const e = new LazyIndexEntry([0], () => new MemoryStore());
   * const store = e.borrow(); // a MemoryStore; e.opened stays false
   * ```
   */
  borrow(): Store {
    return this.#store ?? (this.#open as () => Store)();
  }

  /** Whether the store has been made (a store never made needs no closing). */
  get opened(): boolean {
    return this.#store !== undefined;
  }
}
