// The ShardedStore store type (registered in codec.ts, a module with side effects): the Python original's members, plus `array_shard_factories`.
import { ConfigError, isShardedStoreError } from "../errors.js";
import type { IndexBox } from "../index-set.js";
import { isThenable } from "../index-stores.js";
import { normalizeMount } from "../keys.js";
import { LazyIndexEntry } from "../lazy-index-entry.js";
import { type ArrayMount, ShardedStore } from "../sharded-store.js";
import type { ArrayShardFactory, ArrayShardSpec, Store } from "../types.js";
import {
  type FactorySpec,
  factoryKindOf,
  factorySpecOf,
  INDEX_SUFFIX,
  inferFactory,
  isUrlLike,
  makeFactory,
} from "./factories.js";
import { type FromConfigContext, memberPath, type StoreConfig, type ToConfigContext } from "./registry.js";

/** The package version written into configs. */
export const VERSION = "0.1.0";

/** The members of a sharded store's `config.kwargs` (already checked against the schema). */
interface ShardedKwargs {
  dimension_separator?: "/" | "." | null;
  shards?: Record<string, StoreConfig>;
  array_shard_dims?: Record<string, number>;
  array_shards?: Record<string, Record<string, StoreConfig>>;
  array_shard_factories?: Record<string, FactorySpec>;
  array_shard_indices?: Record<string, IndexBox[]>;
}

/**
 * @internal What packs an expanded array's entries that are exactly its factory's index stores (the
 * Node entry sets it: config/pack-entries.ts): `add` takes an entry (true) and keeps nothing of it
 * but its index; `done` gives the factory opening them as their entries said, and their boxes.
 */
export interface EntryPacker {
  add(index: number[], c: StoreConfig, where: string): boolean;
  done(factory: ArrayShardFactory): { factory: ArrayShardFactory; indices: IndexBox[] } | undefined;
}

let packerFor:
  | ((spec: FactorySpec, ctx: FromConfigContext, at: string, entries: object) => EntryPacker | undefined)
  | undefined;

/** @internal Sets how configs read here pack expanded arrays (see {@link EntryPacker}). */
export const setEntryPacker = (f: typeof packerFor): void => {
  packerFor = f;
};

/** The separator of the index keys an array shard was read with, until its metadata tells. */
const keySeparators = new WeakMap<ArrayShardFactory, "/" | ".">();

/**
 * C order of index tuples: index-tuples.ts' `compareTuples`, repeated here because that module loads
 * on first use and importing it would put it in every app's first load (+730 B measured).
 */
const compareTuples = (a: readonly number[], b: readonly number[]) => {
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return (a[d] ?? 0) - (b[d] ?? 0);
  return 0;
};

/**
 * The store an expanded config describes at `index`: the one open, else one made for its
 * description only (a config's entry, or the factory's; it has done no I/O and holds nothing:
 * saving 10^5 keeps none of them). An asynchronous factory's is opened and kept.
 */
function storeToDescribe(m: ArrayMount, index: readonly number[]): Store {
  const id = index.join(",");
  const e = m.stores.get(id);
  if (e !== undefined) return e instanceof LazyIndexEntry ? e.borrow() : e.store;
  const made = m.factory(index);
  return isThenable(made) ? m.store(index, id) : made;
}

/**
 * Past this many index stores in one array, `form: "auto"` writes the compact form even for an
 * array the Python original could read: the expanded form would be tens of MB (~225 B per store).
 */
export const EXPANDED_LIMIT = 100_000;

/** Whether a given index store is exactly what the factory would open (so a compact config can name it). */
function isFactoryOutput(
  spec: FactorySpec,
  index: readonly number[],
  config: StoreConfig,
  ctx: ToConfigContext,
) {
  // Only directory and zip factories open stores at a path: `prefix/i/j.zarr` (or `.zarr.zip`).
  return (
    factoryKindOf(config) === spec.kind &&
    config.config.args[0] ===
      ctx.writePath(`${spec.prefix}/${index.join(spec.separator)}${INDEX_SUFFIX[spec.kind]}`)
  );
}

/** The config of a ShardedStore (registered as a store type by codec.ts). */
export function describeSharded(store: ShardedStore, ctx: ToConfigContext): StoreConfig {
  const at = (...parts: (string | number)[]) => memberPath(ctx.path, "config", "kwargs", ...parts);
  const shards: Record<string, StoreConfig> = {};
  for (const [p, s] of store.shardMounts) shards[p] = ctx.describe(s, at("shards", p));
  const dims: Record<string, number> = {};
  const arrayShards: Record<string, Record<string, StoreConfig>> = {};
  const factories: Record<string, FactorySpec> = {};
  const indices: Record<string, IndexBox[]> = {};
  let separator: "/" | "." | null = null;
  const form = ctx.form ?? "auto";
  for (const [p, m] of store.arrayMounts) {
    dims[p] = m.dims;
    const spec = factorySpecOf(m.factory);
    // Index keys use the array's chunk key separator: the Python original routes by them.
    const known = m.layout?.separator ?? keySeparators.get(m.factory);
    if (known !== undefined) separator = separator === null || separator === known ? known : "/";
    const sep = known ?? "/";
    // Compact: the factory and the index boxes that exist; the Python original reads only the
    // expanded form, so "auto" keeps it for arrays it can read (v2, or not yet read) of a sane size
    // that were not opened from a compact config.
    const compact =
      spec !== undefined &&
      (form === "compact" ||
        (form === "auto" &&
          (m.layout?.format === 3 ||
            (m.declared !== null && !(m.factory as { expanded?: true }).expanded) ||
            m.knownCount > EXPANDED_LIMIT)));
    let out: Record<string, StoreConfig> = {};
    if (compact) {
      // Given index stores that are not the factory's output stay listed one by one.
      const listed = new Set<string>();
      for (const id of m.explicit) {
        const e = m.stores.get(id)!;
        const key = e.index.join(sep);
        const c = ctx.describe(e.store, at("array_shards", p, key));
        if (!isFactoryOutput(spec, e.index, c, ctx)) {
          out[key] = c;
          listed.add(id);
        }
      }
      indices[p] = m.indexBoxes(listed);
    } else {
      const tuples = [...m.knownIndices()].sort(compareTuples);
      const members = function* () {
        for (const index of tuples) {
          const id = index.join(sep);
          yield [id, ctx.describe(storeToDescribe(m, index), at("array_shards", p, id))] as const;
        }
      };
      // Index ids are digits and separators: no "__proto__" among them.
      out = ctx.deferMembers ? ctx.deferMembers(members) : Object.fromEntries(members());
    }
    arrayShards[p] = out;
    if (spec) {
      const prefix = isUrlLike(spec.prefix) ? spec.prefix : ctx.writePath(spec.prefix);
      factories[p] = { kind: spec.kind, prefix, separator: spec.separator };
    }
  }
  const kwargs: Record<string, unknown> = {
    dimension_separator: separator ?? "/",
    shards,
    array_shard_dims: dims,
    array_shards: arrayShards,
  };
  // The original's from_config reads only `shards` and `array_shards`, so these members are safe.
  if (Object.keys(factories).length > 0) kwargs.array_shard_factories = factories;
  if (Object.keys(indices).length > 0) kwargs.array_shard_indices = indices;
  return {
    version: VERSION,
    name: "ShardedStore",
    module: "shardedstore",
    config: { args: [ctx.describe(store.base, memberPath(ctx.path, "config", "args", 0))], kwargs },
  };
}

/**
 * `"0/12"` or `"0.12"` → `[0, 12]` (the schema has checked the shape: digits without leading
 * zeros, separated by `.` or `/`).
 */
function parseIndex(id: string, where: string): number[] {
  let n = 1;
  let sep = 0;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c === 46 || c === 47) {
      if (sep !== 0 && sep !== c) throw new ConfigError(where, "mixes '/' and '.' in an index tuple");
      sep = c;
      n++;
    }
  }
  // Sized up front: 10^5 of these stay alive for the composition's life.
  const index = new Array<number>(n);
  let d = 0;
  let value = 0;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c === sep) {
      index[d++] = value;
      value = 0;
    } else value = value * 10 + (c - 48);
  }
  index[d] = value;
  return index;
}

function buildArrayShard(
  p: string,
  kw: ShardedKwargs,
  ctx: FromConfigContext,
  at: (...parts: (string | number)[]) => string,
): ArrayShardSpec {
  let dims = kw.array_shard_dims?.[p];
  const stores: LazyIndexEntry[] = [];
  const seen = new Map<string, string>();
  const entries = kw.array_shards?.[p] ?? {};
  // Index ids are never identifiers: each member's JSON path is the array's plus `["id"]` (the
  // schema allows only digits and separators, nothing to escape).
  const arrayAt = at("array_shards", p);
  // Each index store is checked now (path, confinement, type) and opened on first use.
  const prepare =
    ctx.prepare ??
    ((c: StoreConfig, where: string) => {
      const store = ctx.build(c, where);
      return () => store;
    });
  const spec = kw.array_shard_factories?.[p] ?? inferFactory(entries);
  const packer = spec && !kw.array_shard_indices?.[p] ? packerFor?.(spec, ctx, arrayAt, entries) : undefined;
  let firstSeparator: string | undefined;
  for (const id in entries) {
    const where = `${arrayAt}["${id}"]`;
    const index = parseIndex(id, where);
    // Dims come from the number of indices (the original's string-length rule breaks at 10).
    dims ??= index.length;
    if (index.length !== dims) {
      throw new ConfigError(
        where,
        `index tuple has ${index.length} indices, but array_shard_dims says ${dims}`,
      );
    }
    // "0.1" and "0/1" are the same index (the schema rules out leading zeros).
    let key = id;
    if (dims > 1) {
      firstSeparator ??= id.includes(".") ? "." : "/";
      if (!id.includes(firstSeparator)) key = index.join(firstSeparator);
    }
    const twin = seen.get(key);
    if (twin !== undefined) throw new ConfigError(where, `is the same index as ${JSON.stringify(twin)}`);
    seen.set(key, id);
    if (!packer?.add(index, entries[id] as StoreConfig, where))
      stores.push(new LazyIndexEntry(index, prepare(entries[id] as StoreConfig, where)));
  }
  const boxes = kw.array_shard_indices?.[p];
  dims ??= boxes?.[0]?.length;
  if (dims === undefined)
    throw new ConfigError(at("array_shard_dims", p), "is required when an array shard has no index stores");
  boxes?.forEach((box, i) => {
    const where = memberPath(at("array_shard_indices", p), i);
    if (box.length !== dims)
      throw new ConfigError(where, `has ${box.length} ranges, but the array is sharded over ${dims} dims`);
    box.forEach((r, d) => {
      if (typeof r !== "number" && r[0] >= r[1])
        throw new ConfigError(
          `${where}[${d}]`,
          `range [${r[0]}, ${r[1]}) is empty (start must be below stop)`,
        );
    });
  });
  if (boxes !== undefined && boxes.length > 0 && spec === undefined)
    throw new ConfigError(
      at("array_shard_indices", p),
      "needs a factory in array_shard_factories to open its index stores",
    );
  const made = makeFactory(p, spec, ctx, at("array_shard_factories", p));
  const packed = packer?.done(made);
  const factory = packed?.factory ?? made;
  const sep = firstSeparator ?? kw.dimension_separator;
  if (sep === "/" || sep === ".") keySeparators.set(factory, sep);
  const indices = boxes ?? packed?.indices;
  return { dims, factory, stores, ...(indices !== undefined ? { indices } : {}) };
}

/** A ShardedStore from its config (registered as a store type by codec.ts). */
export function buildSharded(c: StoreConfig, ctx: FromConfigContext): Store {
  const at = (...parts: (string | number)[]) => memberPath(ctx.path, "config", "kwargs", ...parts);
  const kw = c.config.kwargs as ShardedKwargs;
  const arrayPaths = new Set([
    ...Object.keys(kw.array_shard_dims ?? {}),
    ...Object.keys(kw.array_shards ?? {}),
  ]);
  for (const member of ["array_shard_factories", "array_shard_indices"] as const) {
    for (const p of Object.keys(kw[member] ?? {})) {
      if (!arrayPaths.has(p))
        throw new ConfigError(at(member, p), "names no array in array_shard_dims or array_shards");
    }
  }
  // A malformed mount path is named by its own member; conflicts between mounts by config.kwargs.
  for (const [member, paths] of [
    ["shards", Object.keys(kw.shards ?? {})],
    ["array_shards", arrayPaths],
  ] as const) {
    for (const p of paths) {
      try {
        normalizeMount(p);
      } catch (e) {
        const where = member === "shards" || kw.array_shards?.[p] ? member : "array_shard_dims";
        throw new ConfigError(at(where, p), (e as Error).message, { cause: e });
      }
    }
  }
  const base = ctx.build(c.config.args[0] as StoreConfig, memberPath(ctx.path, "config", "args", 0));
  const shards: Record<string, Store> = {};
  for (const [p, sc] of Object.entries(kw.shards ?? {})) shards[p] = ctx.build(sc, at("shards", p));
  const arrayShards: Record<string, ArrayShardSpec> = {};
  for (const p of arrayPaths) arrayShards[p] = buildArrayShard(p, kw, ctx, at);
  try {
    return new ShardedStore(base, { shards, arrayShards });
  } catch (e) {
    if (isShardedStoreError(e, "MountError")) throw new ConfigError(at(), e.message, { cause: e });
    throw e;
  }
}
