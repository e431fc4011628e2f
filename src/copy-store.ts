import { NotWritableError, ShardedStoreError, StoreError } from "./errors.js";
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
 * the number of keys and bytes copied. `from` is only read.
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
  if (typeof from.list !== "function") {
    throw new StoreError(
      String(from),
      "list",
      options.prefix ?? "/",
      new Error("the source store cannot list its keys"),
    );
  }
  if (typeof to.set !== "function") throw new NotWritableError(String(to), options.prefix ?? "/");
  const set = to.set.bind(to);
  const limit = Math.max(1, options.concurrency ?? 8);
  const { signal } = options;
  let keys = 0;
  let bytes = 0;
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  const copyOne = async (key: AbsolutePath) => {
    const value = await from.get(key);
    if (value === undefined) return; // deleted while we listed
    await set(key, value);
    keys++;
    bytes += value.byteLength;
    options.onBytes?.(value.byteLength);
  };
  for await (const key of from.list(options.prefix)) {
    if (failure !== null) break;
    if (signal?.aborted) {
      failure = { error: new ShardedStoreError("StoreError", "copy aborted", { cause: signal.reason }) };
      break;
    }
    const p: Promise<void> = copyOne(key).then(
      () => {
        inflight.delete(p);
      },
      (error: unknown) => {
        inflight.delete(p);
        failure ??= { error };
      },
    );
    inflight.add(p);
    if (inflight.size >= limit) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  if (failure !== null) throw (failure as { error: unknown }).error;
  return { keys, bytes };
}
