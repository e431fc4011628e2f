import { markTaggedErrors } from "./errors.js";
import { assertValidKey, normalizePrefix } from "./keys.js";
import { ownedBytes } from "./owned-bytes.js";
import { sliceRange } from "./range.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";

/**
 * An in-memory store (isomorphic). Values are copied on `set`; every value returned owns its buffer.
 *
 * @example
 * ```ts
 * import * as zarr from "zarrita";
 * const store = new MemoryStore();
 * const arr = await zarr.create(zarr.root(store).resolve("x"), { shape: [4], chunkShape: [2], dtype: "int32" });
 * ```
 */
export class MemoryStore implements Store {
  readonly #map = new Map<string, Uint8Array>();

  get(key: AbsolutePath, _opts?: GetOptions): Promise<Uint8Array | undefined> {
    try {
      assertValidKey(key, "MemoryStore");
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve(this.#map.get(key));
  }

  async getRange(key: AbsolutePath, range: RangeQuery, _opts?: GetOptions): Promise<Uint8Array | undefined> {
    assertValidKey(key, "MemoryStore");
    const v = this.#map.get(key);
    return v === undefined ? undefined : ownedBytes(sliceRange(v, range, `MemoryStore getRange ${key}`));
  }

  set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    try {
      assertValidKey(key, "MemoryStore");
    } catch (e) {
      return Promise.reject(e);
    }
    this.#map.set(key, value.slice());
    return Promise.resolve();
  }

  async delete(key: AbsolutePath): Promise<void> {
    assertValidKey(key, "MemoryStore");
    this.#map.delete(key);
  }

  async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    const p = normalizePrefix(prefix);
    for (const k of [...this.#map.keys()]) if (k.startsWith(p)) yield k as AbsolutePath;
  }

  async close(): Promise<void> {}

  /** Sets a value synchronously (for rebuilding from a config). */
  setSync(key: AbsolutePath, value: Uint8Array): void {
    assertValidKey(key, "MemoryStore");
    this.#map.set(key, value.slice());
  }

  /** Every key and value held (values are the store's own copies; do not mutate them). */
  entries(): IterableIterator<[string, Uint8Array]> {
    return this.#map.entries();
  }

  /** Number of keys held. */
  get size(): number {
    return this.#map.size;
  }

  toString(): string {
    return "MemoryStore";
  }
}

markTaggedErrors(MemoryStore);
