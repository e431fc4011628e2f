import { NotWritableError, ShardedStoreError, StoreError } from "./errors.js";
import { compareMetadataKeys, forEachLimit, isMetadataDocument } from "./metadata-keys.js";
import type { AbsolutePath, Store } from "./types.js";

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
 * is listed twice (metadata keys, then the rest), so no list of all keys is held.
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
  const metadata: AbsolutePath[] = [];
  for await (const key of list(options.prefix)) if (isMetadataDocument(key)) metadata.push(key);
  metadata.sort(compareMetadataKeys);
  for (const key of metadata) {
    if (signal?.aborted) throw aborted();
    await copyOne(key);
  }
  async function* data(): AsyncIterable<AbsolutePath> {
    for await (const key of list!(options.prefix)) if (!isMetadataDocument(key)) yield key;
  }
  try {
    await forEachLimit(data(), options.concurrency ?? 8, copyOne, signal);
  } catch (e) {
    if (signal?.aborted && e === signal.reason) throw aborted();
    throw e;
  }
  return { keys, bytes };
}
