import * as path from "node:path";
import { DirectoryStore } from "./directory-store.js";
import type { ArrayShardFactory } from "./types.js";

/**
 * A factory that remembers how to rebuild itself, so configs can carry it (`kind` + absolute `prefix`).
 *
 * @example
 * ```ts
 * const f = arrayShardDirectoryStore("data/foo");
 * f.factorySpec; // { kind: "directory", prefix: "/abs/data/foo" }
 * ```
 */
export type DescribedFactory = ArrayShardFactory & {
  factorySpec: { kind: "directory" | "zip"; prefix: string; separator: "/" | "." };
};

/**
 * Options of the array-shard factories.
 *
 * @example
 * ```ts
 * arrayShardDirectoryStore("fine_foo", { separator: "." }); // [1, 2] → fine_foo/1.2.zarr (the Python original's "." layout)
 * ```
 */
export interface ArrayShardFactoryOptions {
  /** Joins the index in the file name: "/" (default) nests folders, "." keeps one folder. */
  separator?: "/" | ".";
}

/**
 * Array-shard factory of {@link DirectoryStore}s: index `[i, j]` → directory `prefix/i/j.zarr`,
 * whatever the array's chunk separator. Node only.
 *
 * @example
 * ```ts
 * const store = new ShardedStore(base, {
 *   arrayShards: { "simulation/fine/foo": { dims: 2, factory: arrayShardDirectoryStore("shards/fine_foo") } },
 * });
 * ```
 */
export function arrayShardDirectoryStore(
  prefix: string,
  options: ArrayShardFactoryOptions = {},
): DescribedFactory {
  const root = path.resolve(prefix);
  const separator = options.separator ?? "/";
  const factory = (index: readonly number[]) => new DirectoryStore(`${root}/${index.join(separator)}.zarr`);
  return Object.assign(factory, { factorySpec: { kind: "directory" as const, prefix: root, separator } });
}
