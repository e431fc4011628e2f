// A sound shortcut of the config schema for the store configs an expanded config holds by the
// hundred thousand: zarr's DirectoryStore / NestedDirectoryStore / ZipStore on a path. It accepts
// only what `#/definitions/store` of schema.ts accepts; anything else (including every invalid
// config) goes through the schema interpreter, so error messages are unchanged.
// tests/config-fast-check.test.ts checks "accepted here ⇒ valid under the schema" with fast-check.

type Obj = Record<string, unknown>;

const isObject = (d: unknown): d is Obj => typeof d === "object" && d !== null && !Array.isArray(d);
const isSeparator = (v: unknown) => v === "." || v === "/" || v === null;

/** `kwargs` of zarr.storage.DirectoryStore: only `normalize_keys: false` and `dimension_separator`. */
function directoryKwargs(k: Obj): boolean {
  for (const name in k) {
    const v = k[name];
    if (name === "normalize_keys") {
      if (v !== false) return false;
    } else if (name === "dimension_separator") {
      if (!isSeparator(v)) return false;
    } else return false;
  }
  return true;
}

/** `kwargs` of zarr.storage.ZipStore: mode, compression, allowZip64, dimension_separator. */
function zipKwargs(k: Obj): boolean {
  for (const name in k) {
    const v = k[name];
    if (name === "mode") {
      if (v !== "r" && v !== "a" && v !== "w") return false;
    } else if (name === "compression") {
      if (!Number.isInteger(v) || (v as number) < 0) return false;
    } else if (name === "allowZip64") {
      if (typeof v !== "boolean") return false;
    } else if (name === "dimension_separator") {
      if (!isSeparator(v)) return false;
    } else return false;
  }
  return true;
}

/**
 * `true` only for a store config that the published schema's `#/definitions/store` accepts and
 * that is a zarr.storage DirectoryStore, NestedDirectoryStore or ZipStore (or shardedstore's
 * DirectoryStore) on a non-empty path, with kwargs the schema allows. `false` means "not known
 * here", never "invalid": the caller then checks the config against the whole schema.
 *
 * @example
 * ```ts
 * isPlainPathStoreConfig({ name: "DirectoryStore", module: "zarr.storage", config: { args: ["a/0/0.zarr"], kwargs: {} } }); // true
 * isPlainPathStoreConfig({ name: "DirectoryStore", module: "zarr.storage", config: { args: [], kwargs: {} } }); // false
 * ```
 */
export function isPlainPathStoreConfig(d: unknown): boolean {
  if (!isObject(d)) return false;
  // Own members only (JSON.parse gives nothing else); the schema's `in` would see inherited ones.
  if (!Object.hasOwn(d, "name") || !Object.hasOwn(d, "module") || !Object.hasOwn(d, "config")) return false;
  const { name, module, config } = d;
  if (Object.hasOwn(d, "version") && typeof d.version !== "string") return false;
  if (!isObject(config) || !Object.hasOwn(config, "args") || !Object.hasOwn(config, "kwargs")) return false;
  const { args, kwargs } = config;
  if (!Array.isArray(args) || args.length !== 1 || typeof args[0] !== "string" || args[0] === "")
    return false;
  if (!isObject(kwargs)) return false;
  if (Object.hasOwn(config, "path_relative_to") && config.path_relative_to !== "config_dir") return false;
  if (Object.hasOwn(config, "shardedstore") && !isObject(config.shardedstore)) return false;
  if (module === "zarr.storage") {
    if (name === "DirectoryStore" || name === "NestedDirectoryStore") return directoryKwargs(kwargs);
    if (name === "ZipStore") {
      if (!zipKwargs(kwargs)) return false;
      const extra = config.shardedstore;
      if (extra === undefined) return true;
      for (const k in extra as Obj) {
        const v = (extra as Obj)[k];
        if (k !== "mode" || (v !== "r" && v !== "a")) return false;
      }
      return true;
    }
    return false;
  }
  if (module === "shardedstore" && name === "DirectoryStore") return directoryKwargs(kwargs);
  return false;
}
