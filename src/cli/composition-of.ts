import * as path from "node:path";
import type { ArrayShardSpec, Store } from "../node.js";
import {
  arrayShardDirectoryStore,
  arrayShardZipStore,
  DirectoryStore,
  ShardedStore,
  ZipStore,
} from "../node.js";
import { CheckFailed } from "./errors.js";
import { PREFIX_NAME } from "./layout.js";
import type { PartManifest, PartStore } from "./parts.js";

/**
 * The composition a set of written stores makes: zips read-only (or directories) at their paths,
 * group mounts and sharded arrays as `structure` says, array shards growing through the factory
 * under `root/data/ARRAY`. Every group needs its store and there is exactly one base, else a
 * {@link CheckFailed} naming `label`. An array with index boxes in `structure.indices` (its source's
 * compact config declared them) is declared by them, so a config saved as `"auto"` stays compact.
 *
 * @example
 * ```ts
 * const sharded = compositionOf("/out", "zip", { groups: [], arrays: {} }, [{ kind: "base", mount: "", path: "/out/data.zarr.zip" }], "/out");
 * ```
 */
export function compositionOf(
  root: string,
  type: "zip" | "dir",
  structure: Pick<PartManifest, "groups" | "arrays" | "indices">,
  stores: readonly PartStore[],
  label: string,
): ShardedStore {
  const zip = type === "zip";
  const open = (p: string): Store => (zip ? new ZipStore(p, { mode: "r" }) : new DirectoryStore(p));
  const base = stores.filter((s) => s.kind === "base");
  if (base.length !== 1)
    throw new CheckFailed(`${label}: ${base.length} base stores in the parts' manifests, expected 1`);
  const shards: Record<string, Store> = {};
  for (const g of structure.groups) {
    const s = stores.find((x) => x.kind === "group" && x.mount === g);
    if (s === undefined) throw new CheckFailed(`${label}: no part wrote the group shard "${g}"`);
    shards[g] = open(s.path);
  }
  const prefix = path.join(path.resolve(root), PREFIX_NAME);
  const arrayShards: Record<string, ArrayShardSpec> = {};
  for (const [p, dims] of Object.entries(structure.arrays)) {
    const at = path.join(prefix, p);
    arrayShards[p] = {
      dims,
      factory: zip ? arrayShardZipStore(at) : arrayShardDirectoryStore(at),
      stores: stores
        .filter((s) => s.kind === "array" && s.mount === p)
        .map((s) => ({ index: s.index ?? [], store: open(s.path) })),
      ...(structure.indices?.[p] !== undefined ? { indices: structure.indices[p] } : {}),
    };
  }
  return new ShardedStore(open(base[0]!.path), { shards, arrayShards });
}
