import { NotWritableError, ShardedStoreError, StoreError } from "./errors.js";
import { compareMetadataKeys, forEachLimit, isMetadataDocument } from "./metadata-keys.js";
import type { AbsolutePath, Store } from "./types.js";

/** Keys of a store held from one listing; a bigger store is listed a second time instead. */
const LIST_ONCE_KEYS = 4096;

/**
 * Options of {@link copyStore}.
 *
 * @example
 * ```ts
 * let copied = 0;
 * await copyStore(from, to, { concurrency: 8, onBytes: (n) => (copied += n) });
 * ```
 */
export interface CopyStoreOptions {
  /** Only keys under this path prefix (default: all). */
  prefix?: AbsolutePath;
  /** Values in flight at once (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called with the size of each value copied. */
  onBytes?: (n: number) => void;
}

/**
 * Copies every key of `from` (which must be listable) into `to`, with bounded concurrency. Returns
 * the number of keys and bytes copied. `from` is only read. Metadata documents are written first,
 * one at a time, root first then breadth-first (see {@link compareMetadataKeys}), so an archive
 * written this way holds the whole hierarchy's metadata at its front; the chunks follow. The source
 * is listed once when it has at most a few thousand keys; a bigger one is listed twice (metadata
 * keys, then the rest), so no list of all its keys is held.
 *
 * @example
 * ```ts
 * const { keys, bytes } = await copyStore(new DirectoryStore("a.zarr"), new MemoryStore());
 * ```
 */
export async function copyStore(
  from: Store,
  to: Store,
  options: CopyStoreOptions = {},
): Promise<{ keys: number; bytes: number }> {
  const list = from.list?.bind(from);
  if (list === undefined) {
    throw new StoreError(
      String(from),
      "list",
      options.prefix ?? "/",
      new Error("the source store cannot list its keys"),
    );
  }
  if (typeof to.set !== "function") throw new NotWritableError(String(to), options.prefix ?? "/");
  const set = to.set.bind(to);
  const { signal } = options;
  let keys = 0;
  let bytes = 0;
  const copyOne = async (key: AbsolutePath) => {
    const value = await from.get(key);
    if (value === undefined) return; // deleted while we listed
    await set(key, value);
    keys++;
    bytes += value.byteLength;
    options.onBytes?.(value.byteLength);
  };
  const aborted = () => new ShardedStoreError("StoreError", "copy aborted", { cause: signal?.reason });
  // One listing when the store is small (the common case of a conversion: many small stores); a
  // store with more keys than LIST_ONCE_KEYS is listed again for its data keys instead of held.
  const metadata: AbsolutePath[] = [];
  let data: AbsolutePath[] | null = [];
  for await (const key of list(options.prefix)) {
    if (isMetadataDocument(key)) metadata.push(key);
    else if (data !== null) {
      data.push(key);
      if (data.length > LIST_ONCE_KEYS) data = null;
    }
  }
  metadata.sort(compareMetadataKeys);
  for (const key of metadata) {
    if (signal?.aborted) throw aborted();
    await copyOne(key);
  }
  async function* dataKeys(): AsyncIterable<AbsolutePath> {
    for await (const key of list!(options.prefix)) if (!isMetadataDocument(key)) yield key;
  }
  try {
    await forEachLimit(data ?? dataKeys(), options.concurrency ?? 8, copyOne, signal);
  } catch (e) {
    if (signal?.aborted && e === signal.reason) throw aborted();
    throw e;
  }
  return { keys, bytes };
}

/**
 * Every key of `from`, metadata documents first (root first, then breadth-first), or `null` when it
 * holds more than `maxKeys` keys (listing stops there).
 *
 * @example
 * ```ts
 * const keys = await keysMetadataFirst(store, 4096); // ["/.zgroup", "/a/.zarray", "/a/0.0", …]
 * ```
 */
export async function keysMetadataFirst(from: Store, maxKeys: number): Promise<AbsolutePath[] | null> {
  if (from.list === undefined)
    throw new StoreError(String(from), "list", "/", new Error("the source store cannot list its keys"));
  const metadata: AbsolutePath[] = [];
  const data: AbsolutePath[] = [];
  for await (const key of from.list()) {
    (isMetadataDocument(key) ? metadata : data).push(key);
    if (metadata.length + data.length > maxKeys) return null;
  }
  metadata.sort(compareMetadataKeys);
  return metadata.concat(data);
}

/**
 * Every value of the listable store `from`, metadata documents first (in the order
 * {@link copyStore} writes them) then the rest in listing order, read with bounded concurrency —
 * or `null`, having read no more than about `maxBytes`, when the store has more than `maxKeys` keys
 * or `maxBytes` bytes. For writers that do better with a small store whole than value by value.
 *
 * @example
 * ```ts
 * const values = await readSmallStore(new DirectoryStore("a.zarr"), { maxKeys: 4096, maxBytes: 8 << 20 });
 * ```
 */
export async function readSmallStore(
  from: Store,
  limits: { maxKeys: number; maxBytes: number; concurrency?: number; signal?: AbortSignal },
): Promise<Array<readonly [AbsolutePath, Uint8Array]> | null> {
  const keys = await keysMetadataFirst(from, limits.maxKeys);
  if (keys === null) return null;
  const values = new Array<Uint8Array | undefined>(keys.length);
  let bytes = 0;
  let i = 0;
  const indices = (function* () {
    while (i < keys.length && bytes <= limits.maxBytes) yield i++;
  })();
  const { signal } = limits;
  try {
    await forEachLimit(
      indices,
      limits.concurrency ?? 8,
      async (j) => {
        const value = await from.get(keys[j]!);
        if (value !== undefined) bytes += value.byteLength; // undefined: deleted while we listed
        values[j] = value;
      },
      signal,
    );
  } catch (e) {
    if (signal?.aborted && e === signal.reason)
      throw new ShardedStoreError("StoreError", "copy aborted", { cause: signal.reason });
    throw e;
  }
  if (bytes > limits.maxBytes) return null;
  const out: Array<readonly [AbsolutePath, Uint8Array]> = [];
  keys.forEach((k, j) => {
    const v = values[j];
    if (v !== undefined) out.push([k, v]);
  });
  return out;
}
