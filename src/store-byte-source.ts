import type { AbsolutePath, GetOptions, RangeQuery } from "./types.js";
import type { ByteSource } from "./zip-store.js";

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

/**
 * The byte source of a zip that is a value of a store (see zip-store.ts `ByteSource`): checked and
 * named now; its reads ({@link storeReader} in zip-read.ts) load with the store's first read.
 */
export function storeByteSource(src: StoreZipSource): ByteSource {
  const { store, key } = src;
  if (typeof store?.getRange !== "function" || typeof key !== "string" || !key.startsWith("/")) {
    throw new TypeError("ZipStore: { store, key } needs a store with getRange and a key starting with /");
  }
  let reader: Promise<ByteSource> | undefined;
  const use = () => {
    reader ??= import("./zip-read.js").then(
      (m) => m.storeReader(src),
      (e: unknown) => {
        reader = undefined; // a chunk that failed to load is fetched again on the next read
        throw e;
      },
    );
    return reader;
  };
  return {
    label: `ZipStore(${String(store)}${key})`,
    size: async () => (await use()).size(),
    read: async (offset, length, signal) => (await use()).read(offset, length, signal),
    ...(store.tail ? { tail: async (length, signal) => (await use()).tail!(length, signal) } : {}),
  };
}
