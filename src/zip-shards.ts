import * as path from "node:path";
import {
  type ArrayShardFactoryOptions,
  type DescribedFactory,
  listIndexStores,
} from "./array-shard-factories.js";
import { copyStore } from "./copy-store.js";
import { Limiter } from "./fd-limit.js";
// A transform module loads mapShards (it installs ShardedStore.mapShards).
import "./map-shards.js";
import type { ShardTransform } from "./map-shards.js";
import { outputFolders } from "./output-folders.js";
import { readSmallStoreNode } from "./read-small-node.js";
import type { Store } from "./types.js";
import { writeZipFile } from "./zip-file-write.js";
import { ZipStore } from "./zip-store-node.js";

/** A store up to this many keys and bytes is read whole and written as a zip in one go. */
const SMALL_KEYS = 4096;
const SMALL_BYTES = 1 << 20;
/** Bigger stores go through a `ZipStore`, this many at once (each has values in flight). */
const LARGE_AT_ONCE = 4;
/**
 * Array-shard factory of zip files: index `[i, j]` → `prefix/i/j.zarr.zip`, opened for appending
 * (created when missing). Node only. Its `listIndices` lists the zip files that exist under `prefix`.
 *
 * @example
 * ```ts
 * const store = new ShardedStore(base, { arrayShards: { "sim/foo": { dims: 1, factory: arrayShardZipStore("out/foo") } } });
 * ```
 */
export function arrayShardZipStore(prefix: string, options: ArrayShardFactoryOptions = {}): DescribedFactory {
  const root = path.resolve(prefix);
  const separator = options.separator ?? "/";
  const factory = (index: readonly number[]) =>
    new ZipStore(`${root}/${index.join(separator)}.zarr.zip`, { mode: "a" });
  return Object.assign(factory, {
    factorySpec: { kind: "zip" as const, prefix: root, separator },
    listIndices: (signal?: AbortSignal) => listIndexStores(root, separator, ".zarr.zip", "file", signal),
  });
}

/** The zip file a shard becomes under `prefix`. */
export function zipPathFor(prefix: string, mount: string, index?: readonly number[]): string {
  const root = path.resolve(prefix);
  if (mount === "") return `${root}.zarr.zip`;
  if (index === undefined) return `${root}/${mount}.zarr.zip`;
  return `${root}/${mount}/${index.join("/")}.zarr.zip`;
}

/** The number of keys `a` and `b` both hold, or `null` when they do not hold the same keys. */
async function sameKeys(a: Store, b: Store): Promise<number | null> {
  const keys = new Set<string>();
  for await (const k of a.list!()) keys.add(k);
  let n = 0;
  for await (const k of b.list!()) {
    if (!keys.has(k)) return null;
    n++;
  }
  return n === keys.size ? n : null;
}

/**
 * The shard transformation of the original's headline use: every shard becomes one zip file —
 * base → `prefix.zarr.zip`, group shard `p` → `prefix/p.zarr.zip`, array shard `p` index `[i, j]` →
 * `prefix/p/i/j.zarr.zip` — and the result opens them read-only. Entries are stored uncompressed
 * (Zarr chunks already are). A zip only appears under its final name once complete and synced to
 * disk, and the transformation's result for a shard is ready only once that name is synced too, so
 * an interrupted conversion (even a power cut) leaves none half-written; running it again skips the
 * shards whose zip exists with the source's keys. A small shard (up to 4,096 keys and 1 MiB) is
 * written in one go, without the `ZipStore` write lock: a conversion owns its output folder; a
 * bigger one through a `ZipStore` (four at a time). Converted arrays can still grow: new index
 * stores are zips made by {@link arrayShardZipStore}.
 *
 * @example
 * ```ts
 * const zipped = await sharded.mapShards(toZipStoreWithPrefix("out/data"), { concurrency: 4 });
 * await saveShardedStore(zipped, "out/data.json");
 * ```
 */
export function toZipStoreWithPrefix(prefix: string): ShardTransform {
  const folder = outputFolders();
  const large = new Limiter(LARGE_AT_ONCE);
  const fn: ShardTransform = async (store, mount, index, ctx) => {
    const file = zipPathFor(prefix, mount, index);
    const names = await folder(path.dirname(file));
    if (names.has(path.basename(file))) {
      const done = new ZipStore(file, { mode: "r" });
      const same = await sameKeys(store, done);
      await done.close();
      if (same !== null) {
        ctx.skipped();
        ctx.reportKeys?.(same);
        // A fresh store: the one that listed the zip would keep its entries for the life of the result.
        return new ZipStore(file, { mode: "r" });
      }
    }
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    // A small store (the usual shard) in one write, made durable with others' (see writeZipFile).
    const values = await readSmallStoreNode(store, { maxKeys: SMALL_KEYS, maxBytes: SMALL_BYTES, ...signal });
    if (values !== null) {
      for (const [, v] of values) ctx.reportBytes(v.byteLength);
      await writeZipFile(file, values);
      ctx.reportKeys?.(values.length);
      return new ZipStore(file, { mode: "r" });
    }
    return large.run(async () => {
      const zip = new ZipStore(file, { mode: "w" });
      let keys: number;
      try {
        ({ keys } = await copyStore(store, zip, { onBytes: ctx.reportBytes, ...signal }));
      } catch (e) {
        await zip.discard();
        throw e;
      }
      await zip.close();
      ctx.reportKeys?.(keys);
      return new ZipStore(file, { mode: "r" });
    });
  };
  fn.arrayShardFactory = (mount) => arrayShardZipStore(path.join(path.resolve(prefix), mount));
  return fn;
}
