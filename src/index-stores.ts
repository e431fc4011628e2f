// Small parts of array shards: stores standing for index stores while opening or missing (grid
// walks, sliced attributes and ordering are in index-tuples.ts, loaded on first use).

import type { ArrayShard } from "./array-shards.js";
import { ArrayShardError, NotWritableError } from "./errors.js";
import { sliceRange } from "./range.js";
import type { AbsolutePath, GetOptions, RangeQuery, Resolution, Store } from "./types.js";

export function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === "function";
}

/**
 * Wraps a store whose factory returned a promise, so routing can stay synchronous.
 *
 * @example
 * ```ts
 * const s = new PendingStore(Promise.resolve(new MemoryStore()));
 * ```
 */
export class PendingStore implements Store {
  readonly #store: Promise<Store>;
  constructor(store: Promise<Store>) {
    this.#store = store;
  }
  async get(key: AbsolutePath, opts?: GetOptions) {
    return (await this.#store).get(key, opts);
  }
  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions) {
    const s = await this.#store;
    if (s.getRange) return s.getRange(key, range, opts);
    const v = await s.get(key, opts);
    return v === undefined ? undefined : sliceRange(v, range, key);
  }
  async set(key: AbsolutePath, value: Uint8Array) {
    const s = await this.#store;
    if (!s.set) throw new NotWritableError(String(s), key);
    await s.set(key, value);
  }
  async delete(key: AbsolutePath) {
    const s = await this.#store;
    if (!s.delete) throw new NotWritableError(String(s), key, "delete");
    await s.delete(key);
  }
  async *list(prefix?: AbsolutePath) {
    const s = await this.#store;
    if (s.list) yield* s.list(prefix);
  }
  async close() {
    await (await this.#store).close?.();
  }
  resolved(): Promise<Store> {
    return this.#store;
  }
}

/**
 * An index store that does not exist and cannot be made: reads find nothing, writes say why.
 *
 * @example
 * ```ts
 * const missing: Store = new MissingIndexStore("a", "no factory");
 * await missing.get("/0"); // undefined
 * ```
 */
export class MissingIndexStore implements Store {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {}
  get() {
    return undefined;
  }
  getRange() {
    return undefined;
  }
  set(): never {
    throw new ArrayShardError(this.path, this.reason);
  }
  delete() {}
  async *list(): AsyncIterable<AbsolutePath> {}
  toString() {
    return "missing index store";
  }
}

/**
 * What an array shard needs from its composition: base reads and writes, error tagging, and
 * word that its layout changed.
 *
 * @example
 * ```ts
 * const host: ShardHost = { base: baseStore, call: callStore, layoutChanged: () => {}, routesToIndex: () => true };
 * ```
 */
export interface ShardHost {
  readonly base: Store;
  /** Calls one store method on a resolved key, turning foreign errors into tagged ones. */
  call<T>(r: Resolution, op: string, fn: (s: Store, k: AbsolutePath) => T | Promise<T>): Promise<T>;
  /** The array's layout changed: forget remembered routes. */
  layoutChanged(m: ArrayShard, previous: ArrayShard["state"]): void;
  /** Whether `key` routes to array `m`'s index store `id` (`"10,3"`) and `inner`, without opening it. */
  routesToIndex(key: AbsolutePath, m: ArrayShard, id: string, inner: AbsolutePath): boolean;
}

/**
 * One index store of an array shard.
 *
 * @example
 * ```ts
 * const entry: IndexEntry = { index: [10, 3], store: new MemoryStore() };
 * ```
 */
export interface IndexEntry {
  index: readonly number[];
  store: Store;
}
