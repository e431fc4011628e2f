import { ConfigError } from "../errors.js";
import type { Store } from "../types.js";
import type { RemoteAccess } from "./locations.js";
import { jsonPath } from "./validate.js";

/**
 * A store's JSON config: the Python original's envelope.
 *
 * @example
 * ```ts
 * const c: StoreConfig = { name: "DirectoryStore", module: "zarr.storage", config: { args: ["a.zarr"], kwargs: {} } };
 * ```
 */
export interface StoreConfig {
  name: string;
  module: string;
  version?: string;
  config: {
    args: unknown[];
    kwargs: Record<string, unknown>;
    path_relative_to?: "config_dir";
    /** What only shardedstore reads (zarr-python reads `args` and `kwargs` alone). */
    shardedstore?: Record<string, unknown>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/**
 * What a store type gets when it is rebuilt from a config.
 *
 * @example
 * ```ts
 * const store = ctx.build(cfg.config.args[0] as StoreConfig, `${ctx.path}.config.args[0]`);
 * ```
 */
export interface FromConfigContext {
  /** JSON path of this store config, e.g. `config.kwargs.shards.people`. */
  path: string;
  /** Folder that relative paths resolve against. */
  baseDir?: string;
  /** Reject paths that resolve outside `baseDir`. */
  confine: boolean;
  /**
   * Resolves a path or URL from the config to an absolute path or an http(s)/s3 URL (relative ones
   * against `baseDir`, which may be a URL); throws ConfigError at `jsonPath` when the caller's
   * confinement or URL policy forbids it.
   */
  resolvePath(p: string, jsonPath: string): string;
  /** How URL locations are reached (fetch, headers, S3 client options). */
  remote?: RemoteAccess;
  /** Builds a nested store config. */
  build(config: StoreConfig, jsonPath: string): Store;
  /**
   * Checks a nested store config now (every {@link ConfigError} it could raise is raised here) and
   * returns a function that opens the store, for stores made by the thousand (an expanded config's
   * index stores). Absent in contexts made by hand: use `build`.
   */
  prepare?(config: StoreConfig, jsonPath: string): () => Store;
}

/**
 * What a store type gets when it describes a live store.
 *
 * @example
 * ```ts
 * const args = [ctx.writePath(store.root)];
 * ```
 */
export interface ToConfigContext {
  /** JSON path of the config being written. */
  path: string;
  /** A path as it should appear in the config (relative to the config's folder when below it). */
  writePath(absolute: string): string;
  /** Describes a nested store. */
  describe(store: Store, jsonPath: string): StoreConfig;
  /** How array-shard index stores are written (see `ToConfigOptions.form`); "auto" when absent. */
  form?: "auto" | "compact" | "expanded";
  /**
   * @internal Wraps an array's expanded index stores, made by `members` when walked (a
   * `DeferredMembers`, described while the config is written), instead of listing them now.
   */
  deferMembers?: (members: () => Iterable<readonly [string, StoreConfig]>) => Record<string, StoreConfig>;
}

/**
 * A store type the config codec knows: how to recognise a live store, describe it, and rebuild it.
 * `aliases` are other `module.name` pairs it reads (zarr-python's names). `configSchema`, a JSON
 * Schema of the `config` member (`{ args, kwargs }`), is checked with Ajv before `fromConfig` runs,
 * so `fromConfig` sees only well-formed configs and errors name the offending member.
 *
 * @example
 * ```ts
 * registerStoreType({
 *   name: "RedisStore", module: "my-lib",
 *   configSchema: { properties: { args: { type: "array", items: [{ type: "string", pattern: "^redis://" }], minItems: 1 } } },
 *   describes: (s) => s instanceof RedisStore,
 *   toConfig: (s) => ({ name: "RedisStore", module: "my-lib", config: { args: [(s as RedisStore).url], kwargs: {} } }),
 *   fromConfig: (c) => new RedisStore(String(c.config.args[0])),
 * });
 * ```
 */
export interface StoreType {
  name: string;
  module: string;
  aliases?: { name: string; module: string }[];
  configSchema?: object;
  describes(store: Store): boolean;
  toConfig(store: Store, ctx: ToConfigContext): StoreConfig;
  fromConfig(config: StoreConfig, ctx: FromConfigContext): Store;
  /**
   * Optional split of `fromConfig` for configs listed by the thousand: check the config and resolve
   * its locations now (throwing what `fromConfig` would), return a function making the store later.
   */
  prepare?(config: StoreConfig, ctx: FromConfigContext): () => Store;
}

const byName = new Map<string, StoreType>();
let last: { module: string; name: string; type: StoreType | undefined } = {
  module: "",
  name: "",
  type: undefined,
};
const types: StoreType[] = [];

/**
 * Adds a store type to the registry (later registrations win for the same `module.name`, and are
 * asked first when describing a store).
 *
 * @example
 * ```ts
 * registerStoreType(myStoreType);
 * ```
 */
export function registerStoreType(type: StoreType): void {
  last = { module: "", name: "", type: undefined };
  for (const { name, module } of [{ name: type.name, module: type.module }, ...(type.aliases ?? [])]) {
    byName.set(`${module}.${name}`, type);
  }
  types.unshift(type);
}

/**
 * The JSON path of a member below the store config at `path`.
 *
 * @example
 * ```ts
 * memberPath("config.kwargs.shards.people", "config", "args", 0); // "config.kwargs.shards.people.config.args[0]"
 * ```
 */
export function memberPath(path: string, ...parts: (string | number)[]): string {
  return jsonPath(parts, path);
}

/**
 * The type registered for a config's `module.name`, or a ConfigError naming the member.
 *
 * @example
 * ```ts
 * storeTypeFor({ name: "DirectoryStore", module: "zarr.storage", config: { args: ["a"], kwargs: {} } }, "");
 * ```
 */
export function storeTypeFor(config: StoreConfig, path: string): StoreType {
  // An expanded config asks for the same type 10^5 times in a row.
  if (config.module === last.module && config.name === last.name && last.type !== undefined) return last.type;
  const t = byName.get(`${config.module}.${config.name}`);
  if (t !== undefined) {
    last = { module: config.module, name: config.name, type: t };
    return t;
  }
  const known = [...byName.keys()].sort().join(", ");
  const where =
    byName.has(`shardedstore.${config.name}`) || byName.has(`zarr.storage.${config.name}`)
      ? "module"
      : "name";
  throw new ConfigError(
    memberPath(path, where),
    `unknown store type "${config.module}.${config.name}" (known: ${known}; register others with registerStoreType)`,
  );
}

/**
 * The type that describes a live store (the latest registered first).
 *
 * @example
 * ```ts
 * storeTypeOf(new MemoryStore(), "").name; // "MemoryStore"
 * ```
 */
export function storeTypeOf(store: Store, path: string): StoreType {
  const t = types.find((x) => x.describes(store));
  if (t !== undefined) return t;
  const kind = store?.constructor?.name ?? typeof store;
  throw new ConfigError(
    path || "(root)",
    `cannot describe a store of type ${kind}; register it with registerStoreType`,
  );
}

/**
 * Reads `args[i]` as a non-empty string or throws a ConfigError naming it.
 *
 * @example
 * ```ts
 * const root = stringArg(config, 0, ctx.path, "directory path");
 * ```
 */
export function stringArg(config: StoreConfig, i: number, path: string, what: string): string {
  const v = config.config.args[i];
  if (typeof v !== "string" || v === "") {
    throw new ConfigError(
      memberPath(path, "config", "args", i),
      `must be the ${what} (a non-empty string), got ${JSON.stringify(v)}`,
    );
  }
  return v;
}
