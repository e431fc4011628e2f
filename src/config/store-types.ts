// Store types every platform knows: MemoryStore, FetchStore (and zarr's FSStore over http), S3Store,
// ZipStore read from a URL, and zarr's DirectoryStore/ZipStore at a location that a URL base turns
// into a URL. Shapes of args/kwargs are checked by the JSON Schema (schema.ts).
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { FULL_BODY_LIMIT } from "../http-byte-source.js";
import { MemoryStore } from "../memory-store.js";
import { arrayShardS3Store, parseS3Url, s3Url } from "../s3-shards.js";
import { S3Store, type S3StoreOptions } from "../s3-store.js";
import type { AbsolutePath, ArrayShardFactory, Store } from "../types.js";
import { ZipStore } from "../zip-store.js";
import { INDEX_SUFFIX, registerFactoryKind } from "./factories.js";
import { isRemoteUrl } from "./locations.js";
import {
  type FromConfigContext,
  memberPath,
  registerStoreType,
  type StoreConfig,
  type StoreType,
  stringArg,
  type ToConfigContext,
} from "./registry.js";

const isS3 = (s: string) => /^s3:\/\//i.test(s);

/** Remote options (timeout, retries, concurrency, fullBodyLimit) of a config member, as given. */
export type Remote = { timeout?: number; retries?: number; concurrency?: number; fullBodyLimit?: number };
export function remoteOf(k: Record<string, unknown> | undefined): Remote {
  const out: Remote = {};
  for (const n of ["timeout", "retries", "concurrency", "fullBodyLimit"] as const) {
    if (typeof k?.[n] === "number") out[n] = k[n] as number;
  }
  return out;
}

/** FetchStore options from the caller's remote options. */
function fetchOptions(ctx: Pick<FromConfigContext, "remote">): {
  fetch?: typeof fetch;
  headers?: Record<string, string>;
} {
  const r = ctx.remote;
  return { ...(r?.fetch ? { fetch: r.fetch } : {}), ...(r?.headers ? { headers: r.headers } : {}) };
}

/**
 * The `S3Store` of an `s3://bucket/prefix?endpoint=…` location (the key prefix cut to `keep`
 * characters when given: a zip's folder), with the caller's S3 client options, the URL's connection
 * options and `remote`; `key` is the rest of the prefix (a zip's name). A URL that is not one is a
 * {@link ConfigError} at `where`.
 */
function s3StoreAt(
  url: string,
  ctx: Pick<FromConfigContext, "remote">,
  where: string,
  remote: Remote,
  zip?: boolean,
): { store: S3Store; key: string } {
  let loc: ReturnType<typeof parseS3Url>;
  try {
    loc = parseS3Url(url);
  } catch (e) {
    throw new ConfigError(where, (e as Error).message, { cause: e });
  }
  let { prefix } = loc;
  let key = "";
  if (zip) {
    if (prefix === "") throw new ConfigError(where, `names no object: ${JSON.stringify(url)}`);
    const cut = prefix.lastIndexOf("/");
    key = prefix.slice(cut + 1);
    prefix = cut === -1 ? "" : prefix.slice(0, cut);
  }
  const store = new S3Store({ ...ctx.remote?.s3, ...loc.options, ...remote, bucket: loc.bucket, prefix });
  return { store, key };
}

/**
 * The store of a directory at a URL location: a read-only `FetchStore` over http(s), an `S3Store`
 * over `s3://` (with the caller's S3 client options).
 *
 * @example
 * ```ts
 * remoteDirectoryStore("https://example.com/demo/base.zarr", ctx, "config.args[0]");
 * ```
 */
export function remoteDirectoryStore(
  url: string,
  ctx: Pick<FromConfigContext, "remote">,
  where: string,
  remote: Remote = {},
): Store {
  if (isS3(url)) return s3StoreAt(url, ctx, where, remote).store;
  return new FetchStore(url, { ...fetchOptions(ctx), ...remote });
}

/**
 * The store of a zip file at a URL location: a `ZipStore` read by range requests over http(s), or
 * through an `S3Store` (signed range requests, never a presigned URL) over `s3://`.
 *
 * @example
 * ```ts
 * remoteZipStore("https://example.com/demo/base.zarr.zip", ctx, "config.args[0]");
 * ```
 */
export function remoteZipStore(
  url: string,
  ctx: Pick<FromConfigContext, "remote">,
  where: string,
  remote: Remote = {},
): ZipStore {
  if (!isS3(url)) return new ZipStore(url, { ...fetchOptions(ctx), ...remote });
  const { store, key } = s3StoreAt(url, ctx, where, remote, true);
  return new ZipStore({ store, key: `/${key}` });
}

/**
 * An array-shard factory over a URL prefix: index `[i, j]` → `prefix/i/j.zarr` (or `.zarr.zip`)
 * as a read-only `FetchStore`/`ZipStore` over http(s) (reading works; growing the array is refused
 * as a write to a read-only store), or a writable `S3Store` over `s3://`.
 *
 * @example
 * ```ts
 * const f = urlArrayShardFactory("directory", "https://example.com/demo/arrays/foo", "/", ctx);
 * ```
 */
export function urlArrayShardFactory(
  kind: "directory" | "zip",
  prefix: string,
  separator: "/" | ".",
  ctx: Pick<FromConfigContext, "remote"> = {},
): ArrayShardFactory {
  const zip = kind === "zip";
  const where = `array-shard factory ${prefix}`;
  const factory = (index: readonly number[]) => {
    const at = `${prefix.replace(/\/+$/, "")}/${index.join(separator)}${INDEX_SUFFIX[kind]}`;
    return zip ? remoteZipStore(at, ctx, where) : remoteDirectoryStore(at, ctx, where);
  };
  return Object.assign(factory, { factorySpec: { kind, prefix, separator } });
}

/** The factory kinds in browsers: URL prefixes only (the Node entry replaces these). */
for (const kind of ["directory", "zip"] as const) {
  registerFactoryKind(kind, (prefix, separator, ctx) => {
    if (isRemoteUrl(prefix)) return urlArrayShardFactory(kind, prefix, separator, ctx);
    return (index) => {
      throw new ConfigError(
        "array_shard_factories",
        `no local "${kind}" array-shard factory here (import shardedstore/node) to create index [${index.join(", ")}] under ${prefix}`,
      );
    };
  });
}

const sameStatuses = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/**
 * A FetchStore's config: zarr's read-only `FSStore` (which zarr-python opens too) when that says it
 * all; `shardedstore.FetchStore` when it is writable or reads other statuses as missing. Headers
 * and `fetch` are never written (they may hold credentials).
 */
export function fetchStoreConfig(s: FetchStore): StoreConfig {
  // The remote options that differ from the defaults.
  const remote: Remote = { ...s.policy.changed() };
  if (s.fullBodyLimit !== FULL_BODY_LIMIT) remote.fullBodyLimit = s.fullBodyLimit;
  if (!s.writable && sameStatuses(s.missingStatuses, [404])) {
    // zarr-python's FSStore would hand unknown kwargs to fsspec: remote options go where only we read.
    const config: StoreConfig["config"] = { args: [s.url], kwargs: { mode: "r" } };
    if (Object.keys(remote).length > 0) config.shardedstore = remote;
    return { name: "FSStore", module: "zarr.storage", config };
  }
  const kwargs: Record<string, unknown> = remote;
  if (s.writable) kwargs.writable = true;
  if (!sameStatuses(s.missingStatuses, [404])) kwargs.missingStatuses = [...s.missingStatuses];
  return { name: "FetchStore", module: "shardedstore", config: { args: [s.url], kwargs } };
}

/** The config of a zip read over HTTP; a zip read from bytes or a Blob has nothing to write. */
export function urlZipConfig(z: ZipStore, path: string): StoreConfig {
  const archive = z.archive;
  let url = z.url;
  let kwargs = { ...z.remoteOptions };
  if (archive !== undefined) {
    const s3 = archive.store;
    if (!(s3 instanceof S3Store)) {
      throw new ConfigError(
        path || "(root)",
        `a ZipStore read through ${String(s3)} cannot be written in a config (only S3Store archives can)`,
      );
    }
    const key = s3.prefix === "" ? archive.key.slice(1) : `${s3.prefix}${archive.key}`;
    const conn = { region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle };
    url = s3Url(s3.bucket, key, { ...conn, ...s3.policy.changed() });
    kwargs = {};
  }
  if (url === undefined) {
    throw new ConfigError(
      path || "(root)",
      "a ZipStore read from bytes or a Blob cannot be written in a config (it has no path or URL)",
    );
  }
  return { name: "ZipStore", module: "shardedstore", config: { args: [url], kwargs } };
}

/**
 * Registers a store type whose `args[0]` is a location (`what` names it in errors), resolved (a
 * local path is refused here: only the Node entry opens files) and opened by `open`.
 */
function locationType(
  name: string,
  module: string,
  what: string,
  open: (url: string, where: string, c: StoreConfig, ctx: FromConfigContext) => Store,
  describes: StoreType["describes"] = () => false,
  toConfig: StoreType["toConfig"] = (_s, ctx) => {
    throw new ConfigError(ctx.path || "(root)", `${name} needs shardedstore/node`);
  },
  aliases?: StoreType["aliases"],
): void {
  registerStoreType({
    name,
    module,
    ...(aliases ? { aliases } : {}),
    describes,
    toConfig,
    fromConfig: (c, ctx) => {
      const where = memberPath(ctx.path, "config", "args", 0);
      const url = ctx.resolvePath(stringArg(c, 0, ctx.path, what), where);
      if (!isRemoteUrl(url)) {
        throw new ConfigError(
          where,
          `is a local path (${JSON.stringify(url)}); local files need shardedstore/node, here only http(s) and s3 locations (or a config opened from a URL)`,
        );
      }
      return open(url, where, c, ctx);
    },
  });
}

const isFetch = (s: Store) => s instanceof FetchStore;
const fetchConfig = (s: Store) => fetchStoreConfig(s as FetchStore);
const zipConfig = (s: Store, ctx: ToConfigContext) => urlZipConfig(s as ZipStore, ctx.path);
const zipAt = (url: string, where: string, c: StoreConfig, ctx: FromConfigContext) =>
  remoteZipStore(url, ctx, where, remoteOf(c.config.kwargs));

locationType(
  "DirectoryStore",
  "zarr.storage",
  "directory path",
  (url, where, _c, ctx) => remoteDirectoryStore(url, ctx, where),
  undefined,
  undefined,
  [
    { name: "NestedDirectoryStore", module: "zarr.storage" },
    { name: "DirectoryStore", module: "shardedstore" },
  ],
);
locationType(
  "FSStore",
  "zarr.storage",
  "URL or path",
  (url, where, c, ctx) => remoteDirectoryStore(url, ctx, where, remoteOf(c.config.shardedstore)),
  isFetch,
  fetchConfig,
);
locationType(
  "FetchStore",
  "shardedstore",
  "URL",
  (url, where, c, ctx) => {
    const k = c.config.kwargs as { writable?: boolean; missingStatuses?: number[] };
    if (isS3(url)) throw new ConfigError(where, `must be an http(s) URL, got ${JSON.stringify(url)}`);
    return new FetchStore(url, {
      ...fetchOptions(ctx),
      ...remoteOf(k),
      ...(k.writable !== undefined ? { writable: k.writable } : {}),
      ...(k.missingStatuses !== undefined ? { missingStatuses: k.missingStatuses } : {}),
    });
  },
  isFetch,
  fetchConfig,
);
locationType("ZipStore", "shardedstore", "zip URL", zipAt, (s) => s instanceof ZipStore, zipConfig);
locationType("ZipStore", "zarr.storage", "zip path or URL", zipAt, undefined, zipConfig);

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

registerStoreType({
  name: "MemoryStore",
  module: "shardedstore",
  describes: (s) => s instanceof MemoryStore,
  toConfig: (s) => {
    const entries: Record<string, string> = {};
    for (const [k, v] of (s as MemoryStore).entries()) entries[k] = toBase64(v);
    return { name: "MemoryStore", module: "shardedstore", config: { args: [], kwargs: { entries } } };
  },
  fromConfig: (c, ctx) => {
    const store = new MemoryStore();
    const entries = (c.config.kwargs.entries ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(entries)) {
      const where = memberPath(ctx.path, "config", "kwargs", "entries", k);
      let bytes: Uint8Array;
      try {
        bytes = Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
      } catch (e) {
        throw new ConfigError(where, "is not base64", { cause: e });
      }
      try {
        store.setSync(k as AbsolutePath, bytes);
      } catch (e) {
        throw new ConfigError(where, (e as Error).message, { cause: e });
      }
    }
    return store;
  },
});

/** The S3Store members a config holds when they are set (besides bucket, prefix and the remote options). */
const S3_MEMBERS = ["region", "endpoint", "forcePathStyle"] as const;

registerStoreType({
  name: "S3Store",
  module: "shardedstore",
  describes: (s) => s instanceof S3Store,
  toConfig: (s) => {
    const x = s as S3Store;
    const kwargs: Record<string, unknown> = { bucket: x.bucket, prefix: x.prefix, ...x.policy.changed() };
    for (const m of S3_MEMBERS) if (x[m] !== undefined) kwargs[m] = x[m];
    return { name: "S3Store", module: "shardedstore", config: { args: [], kwargs } };
  },
  fromConfig: (c, ctx) => {
    const k = c.config.kwargs as { bucket: string; prefix?: string; endpoint?: string } & Record<
      string,
      unknown
    >;
    // The caller's URL policy covers the bucket and any endpoint the config names.
    const kw = (m: string) => memberPath(ctx.path, "config", "kwargs", m);
    ctx.resolvePath(`s3://${encodeURIComponent(k.bucket)}/${k.prefix ?? ""}`, kw("bucket"));
    if (k.endpoint !== undefined) ctx.resolvePath(k.endpoint, kw("endpoint"));
    const options: Record<string, unknown> = { ...ctx.remote?.s3, ...remoteOf(k), bucket: k.bucket };
    for (const m of ["prefix", ...S3_MEMBERS]) if (k[m] !== undefined) options[m] = k[m];
    return new S3Store(options as unknown as S3StoreOptions);
  },
});

// Array-shard index stores in S3: isomorphic, so every entry point can grow such an array.
registerFactoryKind("s3", (prefix, separator) => arrayShardS3Store(prefix, { separator }));
