import { access, mkdir } from "node:fs/promises";
import * as path from "node:path";
import {
  type ArrayShardFactoryOptions,
  type DescribedFactory,
  listIndexStores,
} from "./array-shard-factories.js";
import { copyStore } from "./copy-store.js";
// A transform module loads mapShards (it installs ShardedStore.mapShards).
import "./map-shards.js";
import type { ShardTransform } from "./map-shards.js";
import type { Store } from "./types.js";
import { ZipStore } from "./zip-store-node.js";

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

async function sameKeys(a: Store, b: Store): Promise<boolean> {
  const keys = new Set<string>();
  for await (const k of a.list!()) keys.add(k);
  let n = 0;
  for await (const k of b.list!()) {
    if (!keys.has(k)) return false;
    n++;
  }
  return n === keys.size;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/**
 * The shard transformation of the original's headline use: every shard becomes one zip file —
 * base → `prefix.zarr.zip`, group shard `p` → `prefix/p.zarr.zip`, array shard `p` index `[i, j]` →
 * `prefix/p/i/j.zarr.zip` — and the result opens them read-only. Entries are stored uncompressed
 * (Zarr chunks already are). A zip only appears under its final name once complete, so an
 * interrupted conversion leaves none half-written; running it again skips the shards whose zip
 * exists with the source's keys. Converted arrays can still grow: new index stores are zips made by
 * {@link arrayShardZipStore}.
 *
 * @example
 * ```ts
 * const zipped = await sharded.mapShards(toZipStoreWithPrefix("out/data"), { concurrency: 4 });
 * await saveShardedStore(zipped, "out/data.json");
 * ```
 */
export function toZipStoreWithPrefix(prefix: string): ShardTransform {
  const fn: ShardTransform = async (store, mount, index, ctx) => {
    const file = zipPathFor(prefix, mount, index);
    if (await exists(file)) {
      const done = new ZipStore(file, { mode: "r" });
      if (await sameKeys(store, done)) {
        ctx.skipped();
        return done;
      }
      await done.close();
    }
    await mkdir(path.dirname(file), { recursive: true });
    const zip = new ZipStore(file, { mode: "w" });
    try {
      await copyStore(store, zip, {
        onBytes: ctx.reportBytes,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    } catch (e) {
      await zip.discard();
      throw e;
    }
    await zip.close();
    return new ZipStore(file, { mode: "r" });
  };
  fn.arrayShardFactory = (mount) => arrayShardZipStore(path.join(path.resolve(prefix), mount));
  return fn;
}
