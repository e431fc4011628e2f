import { randomBytes } from "node:crypto";
import { access, mkdir, rename, rm } from "node:fs/promises";
import * as path from "node:path";
import { arrayShardDirectoryStore } from "../array-shard-factories.js";
import { DirectoryStore } from "../directory-store.js";
import { ArrayShardError } from "../errors.js";
import type { ShardTransform } from "../map-shards.js";
import type { ShardedStore } from "../sharded-store.js";
import type { Store } from "../types.js";
import { arrayShardZipStore } from "../zip-shards.js";
import { ZipStore } from "../zip-store-node.js";
import { type PackOptions, packStore, unpackStore } from "./pack-store.js";

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Where a store of the composition goes under `prefix`: the layout `convert` uses. */
function storePath(
  prefix: string,
  mount: string,
  index: readonly number[] | undefined,
  zip: boolean,
): string {
  const root = path.resolve(prefix);
  const ext = zip ? ".zarr.zip" : ".zarr";
  if (mount === "") return `${root}${ext}`;
  if (index === undefined) return `${root}/${mount}${ext}`;
  return `${root}/${mount}/${index.join("/")}${ext}`;
}

/**
 * The shard shapes that apply inside one store of a composition: arrays under a group mount
 * relative to it; an index store's own array (`""`) without its sharded leading dimensions.
 */
function shardsFor(
  shards: Readonly<Record<string, readonly number[]>>,
  mount: string,
  index: readonly number[] | undefined,
  groupMounts: readonly string[],
): Record<string, readonly number[]> {
  const out: Record<string, readonly number[]> = {};
  for (const [p, shape] of Object.entries(shards)) {
    if (index !== undefined) {
      if (p === mount) out[""] = shape.slice(index.length);
      continue;
    }
    // The deepest group mount holding p is the store it lives in (the base when none).
    const owner =
      groupMounts.filter((m) => p.startsWith(`${m}/`)).sort((a, b) => b.length - a.length)[0] ?? "";
    if (owner === mount) out[mount === "" ? p : p.slice(mount.length + 1)] = shape;
  }
  return out;
}

/**
 * A shard transformation for `mapShards`: each store of a composition is packed (or unpacked) on
 * its own into a directory (or a zip) under `prefix`, with the layout `convert` uses. A store
 * appears under its final name only once complete, so a rerun skips the stores already done.
 */
function packTransform(
  prefix: string,
  shards: Readonly<Record<string, readonly number[]>>,
  groupMounts: readonly string[],
  options: { zip?: boolean; unpack?: boolean; concurrency?: number },
): ShardTransform {
  const zip = options.zip === true;
  const fn: ShardTransform = async (store, mount, index, ctx) => {
    const target = storePath(prefix, mount, index, zip);
    const open = (): Store => (zip ? new ZipStore(target, { mode: "r" }) : new DirectoryStore(target));
    if (await exists(target)) {
      ctx.skipped();
      return open();
    }
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.~partial-${randomBytes(4).toString("hex")}`;
    const out: Store = zip ? new ZipStore(tmp, { mode: "w" }) : new DirectoryStore(tmp);
    const common = {
      onBytes: ctx.reportBytes,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    };
    try {
      if (options.unpack) await unpackStore(store, out, common);
      else await packStore(store, out, { ...common, shards: shardsFor(shards, mount, index, groupMounts) });
      await out.close?.();
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    return open();
  };
  fn.arrayShardFactory = (mount) =>
    zip
      ? arrayShardZipStore(path.join(path.resolve(prefix), mount))
      : arrayShardDirectoryStore(path.join(path.resolve(prefix), mount));
  return fn;
}

/**
 * Options of {@link packComposition}.
 *
 * @example
 * ```ts
 * const options: PackCompositionOptions = { shards: { "sim/foo": [1, 4, 4] }, zip: true };
 * ```
 */
export interface PackCompositionOptions extends Pick<PackOptions, "shards" | "concurrency"> {
  /** Write each store as a zip file (default: a directory). */
  zip?: boolean;
  /** Stores packed at once (default 2). */
  storeConcurrency?: number;
  signal?: AbortSignal;
  onProgress?: (event: import("../map-shards.js").ShardProgress) => void;
}

/**
 * Packs a composition store by store (see {@link packStore}) into `prefix…` (the layout of
 * `convert`) and returns the new composition. An array split into index stores is packed inside
 * each of them; its shard shape must be 1 along the split dimensions. Resumable: stores already
 * written are kept.
 *
 * @example
 * ```ts
 * const packed = await packComposition(sharded, "out/data", { shards: { "sim/foo": [1, 4, 4] } });
 * await saveShardedStore(packed, "out/composition.json");
 * ```
 */
export async function packComposition(
  sharded: ShardedStore,
  prefix: string,
  options: PackCompositionOptions,
): Promise<ShardedStore> {
  for (const [p, shape] of Object.entries(options.shards)) {
    const m = sharded.arrayMounts.get(p);
    if (m !== undefined && shape.slice(0, m.dims).some((s) => s !== 1)) {
      throw new ArrayShardError(
        p,
        `the array is split into index stores over ${m.dims} dimension(s); its shard shape ${JSON.stringify(shape)} must be 1 there`,
      );
    }
  }
  const groupMounts = [...sharded.shardMounts.keys()];
  return sharded.mapShards(packTransform(prefix, options.shards, groupMounts, options), {
    concurrency: options.storeConcurrency ?? 2,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/**
 * Unpacks every packed array of a composition, store by store (see {@link unpackStore}), into
 * `prefix…`; the arrays can be written by zarrita again. Resumable like {@link packComposition}.
 *
 * @example
 * ```ts
 * const plain = await unpackComposition(packed, "out/plain");
 * ```
 */
export async function unpackComposition(
  sharded: ShardedStore,
  prefix: string,
  options: Omit<PackCompositionOptions, "shards"> = {},
): Promise<ShardedStore> {
  return sharded.mapShards(packTransform(prefix, {}, [], { ...options, unpack: true }), {
    concurrency: options.storeConcurrency ?? 2,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
