import type { AbsolutePath, GetOptions, RangeQuery } from "./types.js";

/**
 * A store a zip can be read through by byte ranges (an `S3Store`, a `FetchStore`…). `tail`, when
 * present, gives the last bytes and the value's size in one request; otherwise `size` is asked.
 *
 * @example
 * ```ts
 * const s: RangeStore = new S3Store({ bucket: "b" });
 * ```
 */
export interface RangeStore {
  getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined>;
  tail?(
    key: AbsolutePath,
    length: number,
    opts?: GetOptions,
  ): Promise<{ bytes: Uint8Array; size: number } | undefined>;
  size?(key: AbsolutePath, opts?: GetOptions): Promise<number | undefined>;
  toString(): string;
}

/**
 * A zip archive that is one value of a store, read by signed range requests through that store
 * (no presigned URL, so nothing secret is ever written into a config).
 *
 * @example
 * ```ts
 * const zip = new ZipStore({ store: new S3Store({ bucket: "b", region: "eu-west-1" }), key: "/a.zarr.zip" });
 * ```
 */
export interface StoreZipSource {
  store: RangeStore;
  key: AbsolutePath;
}

/** The byte source of a zip that is a value of a store (see zip-store.ts `ByteSource`). */
export function storeByteSource(src: StoreZipSource) {
  const { store, key } = src;
  if (typeof store?.getRange !== "function" || typeof key !== "string" || !key.startsWith("/")) {
    throw new TypeError("ZipStore: { store, key } needs a store with getRange and a key starting with /");
  }
  const label = `ZipStore(${String(store)}${key})`;
  const missing = () => new Error(`the archive ${key} does not exist in ${String(store)}`);
  let total: Promise<number> | undefined;
  const withSignal = (signal?: AbortSignal): GetOptions => (signal ? { signal } : {});
  const size = async (): Promise<number> => {
    if (store.size) {
      const n = await store.size(key);
      if (n === undefined) throw missing();
      return n;
    }
    if (store.tail) {
      const t = await store.tail(key, 1);
      if (t === undefined) throw missing();
      return t.size;
    }
    throw new Error(`${String(store)} can tell no value's size (it needs a size or tail method)`);
  };
  return {
    label,
    size: () => {
      total ??= size();
      total.catch(() => {
        total = undefined;
      });
      return total;
    },
    read: async (offset: number, length: number, signal?: AbortSignal) => {
      if (length === 0) return new Uint8Array(0);
      const out = await store.getRange(key, { offset, length }, withSignal(signal));
      if (out === undefined) throw missing();
      return out;
    },
    ...(store.tail
      ? {
          tail: async (length: number, signal?: AbortSignal) => {
            const t = await store.tail?.(key, length, withSignal(signal));
            if (t === undefined) throw missing();
            total ??= Promise.resolve(t.size);
            return t;
          },
        }
      : {}),
  };
}
