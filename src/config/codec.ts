import { ConfigError, isShardedStoreError } from "../errors.js";
import { ShardedStore } from "../sharded-store.js";
import type { ArrayShardFactory, ArrayShardSpec, Store } from "../types.js";
import { isInside, relativeIfInside, resolvePosix } from "./paths.js";
import {
  type FromConfigContext,
  registerStoreType,
  type StoreConfig,
  storeTypeFor,
  storeTypeOf,
  type ToConfigContext,
} from "./registry.js";
import "./store-types.js";
import { jsonPath, validateConfig } from "./validate.js";

export type { StoreConfig } from "./registry.js";

/** The package version written into configs. */
export const VERSION = "0.1.0";

/**
 * Options of {@link shardedStoreFromConfig}.
 *
 * @example
 * ```ts
 * ShardedStore.fromConfig(config, { baseDir: "/data/composition", confine: true });
 * ```
 */
export interface FromConfigOptions {
  /** Folder that relative paths resolve against (the config file's folder). */
  baseDir?: string;
  /** Refuse any path that resolves outside `baseDir`. */
  confine?: boolean;
}

/**
 * Options of {@link shardedStoreToConfig}.
 *
 * @example
 * ```ts
 * store.toConfig({ relativeTo: "/data/composition" });
 * ```
 */
export interface ToConfigOptions {
  /** Write paths below this folder relative to it (tagged `"path_relative_to": "config_dir"`). */
  relativeTo?: string;
}

/** Makes array-shard factories of a kind ("directory", "zip") — registered by the Node entry. */
export type FactoryMaker = (prefix: string, separator: "/" | ".") => ArrayShardFactory;
const factoryKinds = new Map<string, FactoryMaker>();

/**
 * Registers how configs rebuild array-shard factories of a kind.
 *
 * @example
 * ```ts
 * registerFactoryKind("directory", (prefix, separator) => arrayShardDirectoryStore(prefix, { separator }));
 * ```
 */
export function registerFactoryKind(kind: string, make: FactoryMaker): void {
  factoryKinds.set(kind, make);
}

type FactorySpec = { kind: string; prefix: string; separator: "/" | "." };

function factorySpecOf(f: ArrayShardFactory): FactorySpec | undefined {
  const spec = (f as { factorySpec?: FactorySpec }).factorySpec;
  return spec && typeof spec.prefix === "string" ? spec : undefined;
}

/** A store's config, with its JSON path; any nested store goes through `describe` again. */
function describeStore(store: Store, path: string, options: ToConfigOptions): StoreConfig {
  const ctx: ToConfigContext = {
    path,
    writePath: (abs) => (options.relativeTo !== undefined ? relativeIfInside(options.relativeTo, abs) : abs),
    describe: (s, p) => describeStore(s, p, options),
  };
  const config = storeTypeOf(store, path).toConfig(store, ctx);
  if (
    options.relativeTo !== undefined &&
    config.config.args.some((a) => typeof a === "string" && isRelativePath(a))
  ) {
    config.config.path_relative_to = "config_dir";
  }
  return config;
}

function isRelativePath(a: string): boolean {
  return a !== "" && !a.startsWith("/") && !/^[a-z][a-z0-9+.-]*:/i.test(a);
}

/**
 * The config of a whole composition: the Python original's envelope and member names (so its
 * `from_config` reads our directory and zip compositions), plus `array_shard_factories`, which
 * the original ignores, so a reloaded array can still grow.
 *
 * @example
 * ```ts
 * const config = shardedStoreToConfig(store, { relativeTo: "/data" });
 * ```
 */
export function shardedStoreToConfig(store: ShardedStore, options: ToConfigOptions = {}): StoreConfig {
  return describeStore(store, "", options);
}

function describeSharded(store: ShardedStore, ctx: ToConfigContext): StoreConfig {
  const at = (...parts: (string | number)[]) => childPath(ctx.path, parts);
  const shards: Record<string, StoreConfig> = {};
  for (const [p, s] of store.shardMounts) shards[p] = ctx.describe(s, at("config", "kwargs", "shards", p));
  const dims: Record<string, number> = {};
  const arrayShards: Record<string, Record<string, StoreConfig>> = {};
  const factories: Record<string, FactorySpec> = {};
  let separator: "/" | "." | null = null;
  for (const [p, m] of store.arrayMounts) {
    dims[p] = m.dims;
    const sep = m.layout?.separator ?? factorySpecOf(m.factory)?.separator ?? "/";
    separator ??= sep;
    if (separator !== sep) separator = "/";
    const entries = [...m.stores.values()].sort((a, b) => {
      for (let d = 0; d < a.index.length; d++)
        if (a.index[d] !== b.index[d]) return (a.index[d] ?? 0) - (b.index[d] ?? 0);
      return 0;
    });
    const out: Record<string, StoreConfig> = {};
    for (const { index, store: s } of entries) {
      const id = index.join(sep);
      out[id] = ctx.describe(s, at("config", "kwargs", "array_shards", p, id));
    }
    arrayShards[p] = out;
    const spec = factorySpecOf(m.factory);
    if (spec)
      factories[p] = { kind: spec.kind, prefix: ctx.writePath(spec.prefix), separator: spec.separator };
  }
  const kwargs: Record<string, unknown> = {
    dimension_separator: separator ?? "/",
    shards,
    array_shard_dims: dims,
    array_shards: arrayShards,
  };
  if (Object.keys(factories).length > 0) kwargs.array_shard_factories = factories;
  return {
    version: VERSION,
    name: "ShardedStore",
    module: "shardedstore",
    config: { args: [ctx.describe(store.base, at("config", "args", 0))], kwargs },
  };
}

/**
 * Rebuilds a composition from a config (ours or the Python original's). Synchronous: stores are
 * opened lazily. Validates against the JSON Schema first; every problem is a {@link ConfigError}
 * naming the JSON path of the offending member, raised before anything is created on disk.
 *
 * @example
 * ```ts
 * const store = shardedStoreFromConfig(JSON.parse(text), { baseDir: "/data/composition" });
 * ```
 */
export function shardedStoreFromConfig(config: unknown, options: FromConfigOptions = {}): ShardedStore {
  if (typeof config === "string") {
    try {
      config = JSON.parse(config);
    } catch (e) {
      throw new ConfigError("(root)", `is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  validateConfig(config);
  const top = config as StoreConfig;
  if (top.name !== "ShardedStore") {
    throw new ConfigError(
      "name",
      `must be "ShardedStore" for a composition, got ${JSON.stringify(top.name)}`,
    );
  }
  const confine = options.confine ?? false;
  if (confine && options.baseDir === undefined) throw new ConfigError("(root)", "confine needs a baseDir");
  const build = (c: StoreConfig, path: string): Store => {
    const ctx: FromConfigContext = {
      path,
      ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
      confine,
      resolvePath: (p, jp) => {
        const abs = resolvePosix(options.baseDir, p);
        if (confine && !isInside(options.baseDir!, abs)) {
          throw new ConfigError(
            jp,
            `path ${JSON.stringify(p)} resolves to ${abs}, outside ${options.baseDir}`,
          );
        }
        return abs;
      },
      build,
    };
    return storeTypeFor(c, path).fromConfig(c, ctx);
  };
  return build(top, "") as ShardedStore;
}

/** The JSON path of a member below the config at `path`. */
function childPath(path: string, parts: (string | number)[]): string {
  const rest = jsonPath(parts);
  if (path === "") return rest;
  return rest.startsWith("[") ? `${path}${rest}` : `${path}.${rest}`;
}

function parseIndex(id: string, path: string): { index: number[]; sep: "/" | "." | null } {
  const sep = id.includes("/") ? "/" : id.includes(".") ? "." : null;
  if (sep !== null && id.includes(sep === "/" ? "." : "/"))
    throw new ConfigError(path, "mixes '/' and '.' in an index tuple");
  return { index: id.split(sep ?? "/").map(Number), sep };
}

function buildSharded(c: StoreConfig, ctx: FromConfigContext): Store {
  const at = (...parts: (string | number)[]) => childPath(ctx.path, parts);
  const kw = c.config.kwargs as {
    shards?: Record<string, StoreConfig>;
    array_shard_dims?: Record<string, number>;
    array_shards?: Record<string, Record<string, StoreConfig>>;
    array_shard_factories?: Record<string, FactorySpec>;
  };
  const base = ctx.build(c.config.args[0] as StoreConfig, at("config", "args", 0));
  const shards: Record<string, Store> = {};
  for (const [p, sc] of Object.entries(kw.shards ?? {}))
    shards[p] = ctx.build(sc, at("config", "kwargs", "shards", p));
  const arrayShards: Record<string, ArrayShardSpec> = {};
  const paths = new Set([...Object.keys(kw.array_shard_dims ?? {}), ...Object.keys(kw.array_shards ?? {})]);
  for (const p of paths) {
    const indexConfigs = kw.array_shards?.[p] ?? {};
    let dims = kw.array_shard_dims?.[p];
    const stores: { index: readonly number[]; store: Store }[] = [];
    const paths: { id: string; config: StoreConfig; sep: "/" | "." | null }[] = [];
    for (const [id, sc] of Object.entries(indexConfigs)) {
      const where = at("config", "kwargs", "array_shards", p, id);
      const { index, sep } = parseIndex(id, where);
      if (dims === undefined) dims = index.length;
      if (index.length !== dims) {
        throw new ConfigError(
          where,
          `index tuple has ${index.length} indices, but array_shard_dims says ${dims}`,
        );
      }
      stores.push({ index, store: ctx.build(sc, where) });
      paths.push({ id, config: sc, sep });
    }
    if (dims === undefined)
      throw new ConfigError(
        at("config", "kwargs", "array_shard_dims", p),
        "is required when an array shard has no index stores",
      );
    let spec = kw.array_shard_factories?.[p];
    spec ??= inferFactory(paths, ctx);
    const factory = makeFactory(p, spec, ctx, at("config", "kwargs", "array_shard_factories", p));
    arrayShards[p] = { dims, factory, stores };
  }
  try {
    return new ShardedStore(base, { shards, arrayShards });
  } catch (e) {
    if (isShardedStoreError(e, "MountError"))
      throw new ConfigError(at("config", "kwargs"), e.message, { cause: e });
    throw e;
  }
}

/** The Python original stores no factory: recognise `prefix/i/j.zarr` (or `.zarr.zip`, or `i.j`) paths. */
function inferFactory(
  entries: { id: string; config: StoreConfig; sep: "/" | "." | null }[],
  ctx: FromConfigContext,
): FactorySpec | undefined {
  let found: FactorySpec | undefined;
  for (const { id, config, sep } of entries) {
    const arg = config.config.args[0];
    if (typeof arg !== "string") return undefined;
    const kind =
      config.name === "ZipStore" ? "zip" : config.name.endsWith("DirectoryStore") ? "directory" : null;
    const suffix = kind === "zip" ? ".zarr.zip" : ".zarr";
    if (kind === null || !arg.endsWith(`/${id}${suffix}`)) return undefined;
    const spec: FactorySpec = {
      kind,
      prefix: arg.slice(0, -(id.length + suffix.length + 1)),
      separator: sep ?? "/",
    };
    if (
      found &&
      (found.kind !== spec.kind ||
        found.prefix !== spec.prefix ||
        (sep !== null && found.separator !== spec.separator))
    )
      return undefined;
    found ??= spec;
    if (sep !== null) found.separator = sep;
  }
  void ctx;
  return found;
}

function makeFactory(
  arrayPath: string,
  spec: FactorySpec | undefined,
  ctx: FromConfigContext,
  where: string,
): ArrayShardFactory {
  if (spec === undefined) {
    return (index) => {
      throw new ConfigError(
        where,
        `array shard "${arrayPath}" has no factory in its config, so index [${index.join(", ")}] cannot be created`,
      );
    };
  }
  const prefix = ctx.resolvePath(spec.prefix, `${where}.prefix`);
  const make = factoryKinds.get(spec.kind);
  if (make === undefined) {
    return (index) => {
      throw new ConfigError(
        `${where}.kind`,
        `no "${spec.kind}" array-shard factory here (Node only) to create index [${index.join(", ")}]`,
      );
    };
  }
  return make(prefix, spec.separator);
}

registerStoreType({
  name: "ShardedStore",
  module: "shardedstore",
  describes: (s) => s instanceof ShardedStore,
  toConfig: (s, ctx) => describeSharded(s as ShardedStore, ctx),
  fromConfig: (c, ctx) => buildSharded(c, ctx),
});
