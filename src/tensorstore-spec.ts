// A composition as one tensorstore `kvstack` kvstore spec: group shards and index stores become key
// ranges mapped onto tensorstore's own drivers (file, zip, http, s3), so tensorstore reads it alone.
import { relativeIfInside } from "./config/paths.js";
import { memberPath, type StoreConfig } from "./config/registry.js";
import { ConfigError } from "./errors.js";
import { MemoryStore } from "./memory-store.js";
import { ShardedStore } from "./sharded-store.js";
import type { AbsolutePath, Store } from "./types.js";

/**
 * A tensorstore kvstore spec (JSON): `driver` plus that driver's members.
 *
 * @example
 * ```ts
 * const file: TensorstoreKvStore = { driver: "file", path: "/data/base.zarr/" };
 * ```
 */
export interface TensorstoreKvStore {
  driver: string;
  path?: string;
  [member: string]: unknown;
}

/**
 * One layer of a `kvstack` spec: the keys it covers (`prefix`, `exact` or `inclusive_min` /
 * `exclusive_max`), how many leading characters of a key to drop (`strip_prefix`), and the store
 * the rest of the key is read from (appended to the base's `path`).
 *
 * @example
 * ```ts
 * const layer: TensorstoreLayer = { prefix: "people/", base: { driver: "file", path: "/data/people.zarr/" } };
 * ```
 */
export interface TensorstoreLayer {
  base: TensorstoreKvStore;
  prefix?: string;
  exact?: string;
  inclusive_min?: string;
  exclusive_max?: string;
  strip_prefix?: number;
}

/**
 * Options of {@link toTensorstoreSpec}.
 *
 * @example
 * ```ts
 * await toTensorstoreSpec(store, { relativeTo: "/data" }); // file paths below /data written relative to it
 * ```
 */
export interface TensorstoreSpecOptions {
  /**
   * Write file paths below this folder relative to it (tensorstore resolves relative paths against
   * its working directory). Default: absolute paths.
   */
  relativeTo?: string;
}

interface ArrayKeys {
  /** `default`: v3 `c/…` keys; `v2`: bare indices (Zarr v2, v3's `v2` encoding). */
  encoding: "default" | "v2";
  separator: "/" | ".";
  ndim: number;
  format: 2 | 3;
}

const decoder = new TextDecoder();
const isHttp = (s: string) => /^https?:\/\//i.test(s);
const withSlash = (s: string) => (s === "" || s.endsWith("/") ? s : `${s}/`);

function describeStore(store: Store): string {
  const s = String(store);
  return s === "[object Object]" ? (store?.constructor?.name ?? "store") : s;
}

/** The chunk key scheme of an array from its metadata document, or `null` when it has none. */
async function arrayKeys(store: ShardedStore, path: string, where: string): Promise<ArrayKeys | null> {
  const parse = (bytes: Uint8Array, name: string): Record<string, unknown> => {
    try {
      const doc = JSON.parse(decoder.decode(bytes)) as unknown;
      if (doc !== null && typeof doc === "object" && !Array.isArray(doc))
        return doc as Record<string, unknown>;
    } catch {}
    throw new ConfigError(
      memberPath(where, "config", "kwargs", "array_shards", path),
      `the array's ${name} is not a JSON object`,
    );
  };
  const v3 = await store.get(`/${path}/zarr.json` as AbsolutePath);
  if (v3 !== undefined) {
    const doc = parse(v3, "zarr.json");
    const enc = (doc.chunk_key_encoding ?? {}) as { name?: string; configuration?: { separator?: string } };
    const encoding = enc.name === "v2" ? "v2" : "default";
    const sep = enc.configuration?.separator ?? (encoding === "v2" ? "." : "/");
    const ndim = Array.isArray(doc.shape) ? doc.shape.length : 0;
    return { encoding, separator: sep === "." ? "." : "/", ndim, format: 3 };
  }
  const v2 = await store.get(`/${path}/.zarray` as AbsolutePath);
  if (v2 !== undefined) {
    const doc = parse(v2, ".zarray");
    const ndim = Array.isArray(doc.shape) ? doc.shape.length : 0;
    return { encoding: "v2", separator: doc.dimension_separator === "/" ? "/" : ".", ndim, format: 2 };
  }
  return null;
}

/** The config of one store (any type the config registry knows), through the public `toConfig`. */
function leafConfig(store: Store, where: string): StoreConfig {
  if (store instanceof MemoryStore) {
    throw new ConfigError(where, "a MemoryStore has no location tensorstore can open (no tensorstore spec)");
  }
  let config: StoreConfig;
  try {
    config = new ShardedStore(store).toConfig();
  } catch (e) {
    throw new ConfigError(
      where,
      `${describeStore(store)} cannot be described, so it has no tensorstore spec: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const leaf = config.config.args[0] as StoreConfig;
  return leaf;
}

/** A file path or http(s) URL as a tensorstore kvstore whose `path` is the folder (with `/`). */
function locationSpec(location: string, options: TensorstoreSpecOptions, where: string): TensorstoreKvStore {
  if (isHttp(location)) {
    const url = new URL(location);
    if (url.hash !== "")
      throw new ConfigError(where, `URL ${location} has a fragment; tensorstore refuses it`);
    // An absolute `path` beside a bare origin: tensorstore appends keys to it as they are.
    return { driver: "http", base_url: `${url.origin}${url.search}`, path: decodeURIComponent(url.pathname) };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith("file:")) {
    throw new ConfigError(where, `location ${JSON.stringify(location)} has no tensorstore driver here`);
  }
  let p = location.startsWith("file:") ? decodeURIComponent(new URL(location).pathname) : location;
  if (options.relativeTo !== undefined) p = relativeIfInside(options.relativeTo, p);
  return { driver: "file", path: p };
}

/** One store as a kvstore spec whose `path` ends where the store's keys begin (`""` or `…/`). */
async function storeSpec(
  store: Store,
  where: string,
  options: TensorstoreSpecOptions,
): Promise<TensorstoreKvStore> {
  if (store instanceof ShardedStore) return { ...(await composition(store, where, options)), path: "" };
  const c = leafConfig(store, where);
  const arg0 = c.config.args[0];
  const kind = `${c.module}.${c.name}`;
  switch (kind) {
    case "zarr.storage.DirectoryStore":
    case "zarr.storage.NestedDirectoryStore":
    case "shardedstore.DirectoryStore":
    case "zarr.storage.FSStore":
    case "shardedstore.FetchStore": {
      const loc = locationSpec(String(arg0), options, where);
      return { ...loc, path: withSlash(loc.path ?? "") };
    }
    case "zarr.storage.ZipStore":
    case "shardedstore.ZipStore": {
      const file = locationSpec(String(arg0), options, where);
      return { driver: "zip", base: file, path: "" };
    }
    case "shardedstore.S3Store": {
      const k = c.config.kwargs as { bucket: string; prefix?: string; region?: string; endpoint?: string };
      const spec: TensorstoreKvStore = { driver: "s3", bucket: k.bucket, path: withSlash(k.prefix ?? "") };
      if (k.endpoint !== undefined) spec.endpoint = k.endpoint;
      if (k.region !== undefined) spec.aws_region = k.region;
      return spec;
    }
    default:
      throw new ConfigError(
        where,
        `${describeStore(store)} (${kind}) has no tensorstore driver; only directory, zip, http(s), S3 and nested compositions can be exported`,
      );
  }
}

const at = (spec: TensorstoreKvStore, suffix: string): TensorstoreKvStore => ({
  ...spec,
  path: `${spec.path ?? ""}${suffix}`,
});

/** The layers of one index store of an array shard. */
function indexLayers(
  arrayPath: string,
  index: readonly number[],
  keys: ArrayKeys,
  spec: TensorstoreKvStore,
): TensorstoreLayer[] {
  const sep = keys.separator;
  const head =
    keys.encoding === "default"
      ? `${arrayPath}/c${sep}${index.join(sep)}`
      : `${arrayPath}/${index.join(sep)}`;
  // Every sharded dimension: the index store holds one chunk, "c" (v3) or "0" (v2).
  if (keys.ndim === index.length) {
    return [
      { exact: head, strip_prefix: head.length, base: at(spec, keys.encoding === "default" ? "c" : "0") },
    ];
  }
  if (keys.encoding === "default") {
    // The index store's chunks all start with "c<sep>": its own zarr.json is outside that prefix.
    return [{ prefix: `${head}${sep}`, strip_prefix: head.length + 1, base: at(spec, `c${sep}`) }];
  }
  // v2 keys start with a digit; a plain prefix would also map the index store's .zarray/.zattrs.
  return [
    {
      inclusive_min: `${head}${sep}0`,
      exclusive_max: `${head}${sep}:`,
      strip_prefix: head.length + 1,
      base: spec,
    },
  ];
}

async function composition(
  store: ShardedStore,
  where: string,
  options: TensorstoreSpecOptions,
): Promise<TensorstoreKvStore> {
  const layers: TensorstoreLayer[] = [
    { prefix: "", base: await storeSpec(store.base, memberPath(where, "config", "args", 0), options) },
  ];
  for (const [mount, shard] of store.shardMounts) {
    const spec = await storeSpec(shard, memberPath(where, "config", "kwargs", "shards", mount), options);
    layers.push({ prefix: `${mount}/`, strip_prefix: mount.length + 1, base: spec });
  }
  const entries = await store.shards();
  const keysOf = new Map<string, ArrayKeys | null>();
  for (const mount of store.arrayMounts.keys()) keysOf.set(mount, await arrayKeys(store, mount, where));
  for (const e of entries) {
    if (e.kind !== "array" || e.index === undefined) continue;
    const keys = keysOf.get(e.mount);
    if (keys === null || keys === undefined) continue;
    // Index stores come into being with their metadata; one without it holds no chunk.
    const meta = await e.store.get(keys.format === 3 ? "/zarr.json" : "/.zarray");
    if (meta === undefined) continue;
    const spec = await storeSpec(
      e.store,
      memberPath(where, "config", "kwargs", "array_shards", e.mount, e.index.join("/")),
      options,
    );
    layers.push(...indexLayers(e.mount, e.index, keys, spec));
  }
  return { driver: "kvstack", layers };
}

/**
 * One tensorstore `kvstack` kvstore spec for a whole composition: the base store as the bottom
 * layer, a prefix layer per group shard, and per index store of an array shard a layer that strips
 * the array path and leading chunk indices (v3 `c/…` and `c.…` keys by prefix; v2 keys by a key
 * range over the digits, so the index store's own metadata stays hidden). Directories map to
 * tensorstore's `file` driver, zips to `zip`, HTTP(S) stores to `http`, S3 to `s3`, nested
 * compositions to nested `kvstack`s. Tensorstore (C++ or Python) then opens any array with
 * `{"driver": "zarr3" | "zarr", "kvstore": {...spec, "path": "<array>/"}}`. A store with no
 * tensorstore equivalent (a `MemoryStore`, a user store) is a {@link ConfigError} naming it.
 *
 * @example
 * ```ts
 * import { openShardedStore, toTensorstoreSpec } from "shardedstore/node";
 * const store = await openShardedStore("composition.json");
 * const kvstore = await toTensorstoreSpec(store);
 * const spec = { driver: "zarr3", kvstore: { ...kvstore, path: "simulation/fine/foo/" } };
 * ```
 */
export async function toTensorstoreSpec(
  store: ShardedStore,
  options: TensorstoreSpecOptions = {},
): Promise<TensorstoreKvStore> {
  if (!(store instanceof ShardedStore)) {
    throw new ConfigError("(root)", `toTensorstoreSpec needs a ShardedStore, got ${describeStore(store)}`);
  }
  return composition(store, "", options);
}
