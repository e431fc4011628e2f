// A sound shortcut of the config schema for the store configs an expanded config holds by the
// hundred thousand: zarr's DirectoryStore / NestedDirectoryStore / ZipStore on a path. It accepts
// only what `#/definitions/store` of schema.ts accepts; anything else (including every invalid
// config) goes through the schema interpreter, so error messages are unchanged.
// tests/config-fast-check.test.ts checks "accepted here ⇒ valid under the schema" with fast-check.

type Obj = Record<string, unknown>;

const isObject = (d: unknown): d is Obj => typeof d === "object" && d !== null && !Array.isArray(d);
type Check = (v: unknown) => boolean;
const isSeparator: Check = (v) => v === "." || v === "/" || v === null;

/** `kwargs` of zarr.storage.DirectoryStore: only `normalize_keys: false` and `dimension_separator`. */
const DIRECTORY: Record<string, Check> = {
  normalize_keys: (v) => v === false,
  dimension_separator: isSeparator,
};
/** `kwargs` of zarr.storage.ZipStore: mode, compression, allowZip64, dimension_separator. */
const ZIP: Record<string, Check> = {
  mode: (v) => v === "r" || v === "a" || v === "w",
  compression: (v) => Number.isInteger(v) && (v as number) >= 0,
  allowZip64: (v) => typeof v === "boolean",
  dimension_separator: isSeparator,
};
/** `config.shardedstore` of zarr.storage.ZipStore: only `mode`. */
const ZIP_EXTRA: Record<string, Check> = { mode: (v) => v === "r" || v === "a" };

/** Whether every member of `k` is one that `allowed` names, with a value it accepts. */
function only(k: Obj, allowed: Record<string, Check>): boolean {
  for (const name in k) if (!Object.hasOwn(allowed, name) || !allowed[name]?.(k[name])) return false;
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
  const zarr = module === "zarr.storage";
  if (zarr && name === "ZipStore") {
    return (
      only(kwargs, ZIP) && (config.shardedstore === undefined || only(config.shardedstore as Obj, ZIP_EXTRA))
    );
  }
  const directory =
    name === "DirectoryStore" ? zarr || module === "shardedstore" : zarr && name === "NestedDirectoryStore";
  return directory && only(kwargs, DIRECTORY);
}
