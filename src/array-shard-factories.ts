import { existsSync } from "node:fs";
import { opendir } from "node:fs/promises";
import * as path from "node:path";
import { DirectoryStore } from "./directory-store.js";
import { listDirectoryIndexTree } from "./index-tree.js";
import type { ArrayShardFactory, Store } from "./types.js";

const NUMBER = /^(?:0|[1-9][0-9]{0,14})$/;

/**
 * Whether a folder holds Zarr array metadata (a `zarr.json` or `.zarray`). Direct calls: the walk
 * asks one folder at a time, and a hand-off to Node's thread pool costs more than the lookup (a v2
 * store needs two); saving a converted composition of 10^4 directory stores spent 0.5 s here.
 */
function hasMetadata(dir: string): boolean {
  return existsSync(path.join(dir, "zarr.json")) || existsSync(path.join(dir, ".zarray"));
}

/**
 * The index tuples of the index stores under `root`: `root/i/j<suffix>` (separator "/") or
 * `root/i.j<suffix>` (separator "."), where every index is a plain decimal number. Entries whose name
 * does not parse are skipped; so are folders without array metadata (directory stores). Costs the
 * entries that exist under `root`, never the grid.
 *
 * @example
 * ```ts
 * for await (const index of listIndexStores("/data/foo", "/", ".zarr", "directory")) console.log(index);
 * ```
 */
export async function* listIndexStores(
  root: string,
  separator: "/" | ".",
  suffix: string,
  kind: "directory" | "file",
  signal?: AbortSignal,
): AsyncIterable<number[]> {
  const walk = async function* (dir: string, lead: number[]): AsyncIterable<number[]> {
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(dir, { bufferSize: 256 });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw e;
    }
    for await (const entry of handle) {
      signal?.throwIfAborted();
      const name = entry.name;
      const full = path.join(dir, name);
      const isDir = entry.isDirectory() || entry.isSymbolicLink();
      if (name.endsWith(suffix)) {
        const parts = name.slice(0, -suffix.length).split(separator === "." ? "." : "\0");
        if (!parts.every((p) => NUMBER.test(p))) continue;
        const ok =
          kind === "directory" ? isDir && hasMetadata(full) : entry.isFile() || entry.isSymbolicLink();
        if (ok) yield [...lead, ...parts.map(Number)];
      } else if (separator === "/" && isDir && NUMBER.test(name)) {
        yield* walk(full, [...lead, Number(name)]);
      }
    }
  };
  yield* walk(root, []);
}

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
  listIndices: (signal?: AbortSignal) => AsyncIterable<readonly number[]>;
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
 * whatever the array's chunk separator. Node only. Its `listIndices` lists the index stores that
 * exist under `prefix` (folders holding array metadata).
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
  const at = (index: readonly number[]) => `${root}/${index.join(separator)}.zarr`;
  const factory = (index: readonly number[]) => new DirectoryStore(at(index));
  return Object.assign(factory, {
    factorySpec: { kind: "directory" as const, prefix: root, separator },
    listIndices: (signal?: AbortSignal) => listIndexStores(root, separator, ".zarr", "directory", signal),
    listStoreKeys: (signal?: AbortSignal) => listDirectoryIndexTree(root, separator, ".zarr", signal),
    ownsStore: (store: Store, index: readonly number[]) =>
      store instanceof DirectoryStore && (store.root === at(index) || store.root === path.resolve(at(index))),
  });
}
