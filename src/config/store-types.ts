// Store types every platform knows: MemoryStore, FetchStore (and zarr's FSStore over http), S3Store,
// ZipStore read from a URL, and zarr's DirectoryStore/ZipStore at a location that a URL base turns
// into a URL. Shapes of args/kwargs are checked by the JSON Schema (schema.ts).
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { FULL_BODY_LIMIT } from "../http-byte-source.js";
import { MemoryStore } from "../memory-store.js";
import { arrayShardS3Store, parseS3Url, s3Url } from "../s3-shards.js";
import { S3Store } from "../s3-store.js";
import type { AbsolutePath, ArrayShardFactory, Store } from "../types.js";
import { ZipStore } from "../zip-store.js";
import { type FactoryMaker, registerFactoryKind } from "./factories.js";
import { isRemoteUrl } from "./locations.js";
import {
  type FromConfigContext,
  memberPath,
  registerStoreType,
  type StoreConfig,
  stringArg,
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
/** A FetchStore's remote options that differ from the defaults. */
function fetchRemote(s: FetchStore): Remote {
  const out: Remote = { ...s.policy.changed() };
  if (s.fullBodyLimit !== FULL_BODY_LIMIT) out.fullBodyLimit = s.fullBodyLimit;
  return out;
}

/** An `s3://bucket/prefix?endpoint=…` location: bucket, key prefix and connection options. */
function s3At(url: string, where: string): ReturnType<typeof parseS3Url> {
  try {
    return parseS3Url(url);
  } catch (e) {
    throw new ConfigError(where, (e as Error).message, { cause: e });
  }
}

/**
 * `s3://bucket/a/b` → `{ bucket: "bucket", prefix: "a/b" }` (the key prefix percent-decoded).
 *
 * @example
 * ```ts
 * s3Location("s3://data/demo/base.zarr"); // { bucket: "data", prefix: "demo/base.zarr" }
 * ```
 */
export function s3Location(url: string): { bucket: string; prefix: string } {
  const u = new URL(url);
  return {
    bucket: decodeURIComponent(u.host),
    prefix: decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, ""),
  };
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
  if (isS3(url)) {
    const loc = s3At(url, where);
    if (loc.bucket === "") throw new ConfigError(where, `names no bucket: ${JSON.stringify(url)}`);
    return new S3Store({
      ...ctx.remote?.s3,
      ...loc.options,
      ...remote,
      bucket: loc.bucket,
      prefix: loc.prefix,
    });
  }
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
  const loc = s3At(url, where);
  if (loc.prefix === "") throw new ConfigError(where, `names no object: ${JSON.stringify(url)}`);
  const cut = loc.prefix.lastIndexOf("/");
  const prefix = cut === -1 ? "" : loc.prefix.slice(0, cut);
  const store = new S3Store({ ...ctx.remote?.s3, ...loc.options, ...remote, bucket: loc.bucket, prefix });
  return new ZipStore({ store, key: `/${loc.prefix.slice(cut + 1)}` });
}

/** The location of a directory-like store config (`args[0]`), resolved; local paths are refused here. */
function remoteOnly(c: StoreConfig, ctx: FromConfigContext, what: string): { url: string; where: string } {
  const where = memberPath(ctx.path, "config", "args", 0);
  const loc = ctx.resolvePath(stringArg(c, 0, ctx.path, what), where);
  if (!isRemoteUrl(loc)) {
    throw new ConfigError(
      where,
      `is a local path (${JSON.stringify(loc)}); local files need shardedstore/node, here only http(s) and s3 locations (or a config opened from a URL)`,
    );
  }
  return { url: loc, where };
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
  const suffix = kind === "zip" ? ".zarr.zip" : ".zarr";
  const where = `array-shard factory ${prefix}`;
  const at = (index: readonly number[]) => `${prefix.replace(/\/+$/, "")}/${index.join(separator)}${suffix}`;
  const factory =
    kind === "zip"
      ? (index: readonly number[]) => remoteZipStore(at(index), ctx, where)
      : (index: readonly number[]) => remoteDirectoryStore(at(index), ctx, where);
  return Object.assign(factory, { factorySpec: { kind, prefix, separator } });
}

/** The factory kinds in browsers: URL prefixes only (the Node entry replaces these). */
function urlKind(kind: "directory" | "zip"): FactoryMaker {
  return (prefix, separator, ctx) => {
    if (isRemoteUrl(prefix)) return urlArrayShardFactory(kind, prefix, separator, ctx);
    return (index) => {
      throw new ConfigError(
        "array_shard_factories",
        `no local "${kind}" array-shard factory here (import shardedstore/node) to create index [${index.join(", ")}] under ${prefix}`,
      );
    };
  };
}
registerFactoryKind("directory", urlKind("directory"));
registerFactoryKind("zip", urlKind("zip"));

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string, where: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch (e) {
    throw new ConfigError(where, "is not base64", { cause: e });
  }
}

const sameStatuses = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/**
 * A FetchStore's config: zarr's read-only `FSStore` (which zarr-python opens too) when that says it
 * all; `shardedstore.FetchStore` when it is writable or reads other statuses as missing. Headers
 * and `fetch` are never written (they may hold credentials).
 */
export function fetchStoreConfig(s: FetchStore): StoreConfig {
  const remote = fetchRemote(s);
  if (!s.writable && sameStatuses(s.missingStatuses, [404])) {
    // zarr-python's FSStore would hand unknown kwargs to fsspec: remote options go where only we read.
    const config: StoreConfig["config"] = { args: [s.url], kwargs: { mode: "r" } };
    if (Object.keys(remote).length > 0) config.shardedstore = { ...remote };
    return { name: "FSStore", module: "zarr.storage", config };
  }
  const kwargs: Record<string, unknown> = { ...remote };
  if (s.writable) kwargs.writable = true;
  if (!sameStatuses(s.missingStatuses, [404])) kwargs.missingStatuses = [...s.missingStatuses];
  return { name: "FetchStore", module: "shardedstore", config: { args: [s.url], kwargs } };
}

registerStoreType({
  name: "DirectoryStore",
  module: "zarr.storage",
  aliases: [
    { name: "NestedDirectoryStore", module: "zarr.storage" },
    { name: "DirectoryStore", module: "shardedstore" },
  ],
  describes: () => false,
  toConfig: (_s, ctx) => {
    throw new ConfigError(ctx.path || "(root)", "DirectoryStore needs shardedstore/node");
  },
  fromConfig: (c, ctx) => {
    const { url, where } = remoteOnly(c, ctx, "directory path");
    return remoteDirectoryStore(url, ctx, where);
  },
});

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
      try {
        store.setSync(k as AbsolutePath, fromBase64(v, where));
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError(where, (e as Error).message, { cause: e });
      }
    }
    return store;
  },
});

registerStoreType({
  name: "FSStore",
  module: "zarr.storage",
  describes: (s) => s instanceof FetchStore,
  toConfig: (s) => fetchStoreConfig(s as FetchStore),
  fromConfig: (c, ctx) => {
    const { url, where } = remoteOnly(c, ctx, "URL or path");
    return remoteDirectoryStore(url, ctx, where, remoteOf(c.config.shardedstore));
  },
});

registerStoreType({
  name: "FetchStore",
  module: "shardedstore",
  describes: (s) => s instanceof FetchStore,
  toConfig: (s) => fetchStoreConfig(s as FetchStore),
  fromConfig: (c, ctx) => {
    const k = c.config.kwargs as { writable?: boolean; missingStatuses?: number[] };
    const { url, where } = remoteOnly(c, ctx, "URL");
    if (isS3(url)) throw new ConfigError(where, `must be an http(s) URL, got ${JSON.stringify(url)}`);
    return new FetchStore(url, {
      ...fetchOptions(ctx),
      ...remoteOf(c.config.kwargs),
      ...(k.writable !== undefined ? { writable: k.writable } : {}),
      ...(k.missingStatuses !== undefined ? { missingStatuses: k.missingStatuses } : {}),
    });
  },
});

registerStoreType({
  name: "S3Store",
  module: "shardedstore",
  describes: (s) => s instanceof S3Store,
  toConfig: (s) => {
    const x = s as S3Store;
    const kwargs: Record<string, unknown> = { bucket: x.bucket, prefix: x.prefix, ...x.policy.changed() };
    if (x.region !== undefined) kwargs.region = x.region;
    if (x.endpoint !== undefined) kwargs.endpoint = x.endpoint;
    if (x.forcePathStyle !== undefined) kwargs.forcePathStyle = x.forcePathStyle;
    return { name: "S3Store", module: "shardedstore", config: { args: [], kwargs } };
  },
  fromConfig: (c, ctx) => {
    const k = c.config.kwargs as {
      bucket: string;
      prefix?: string;
      region?: string;
      endpoint?: string;
      forcePathStyle?: boolean;
    };
    // The caller's URL policy covers the bucket and any endpoint the config names.
    const kw = (m: string) => memberPath(ctx.path, "config", "kwargs", m);
    ctx.resolvePath(`s3://${encodeURIComponent(k.bucket)}/${k.prefix ?? ""}`, kw("bucket"));
    if (k.endpoint !== undefined) ctx.resolvePath(k.endpoint, kw("endpoint"));
    return new S3Store({
      ...ctx.remote?.s3,
      ...remoteOf(c.config.kwargs),
      bucket: k.bucket,
      ...(k.prefix !== undefined ? { prefix: k.prefix } : {}),
      ...(k.region !== undefined ? { region: k.region } : {}),
      ...(k.endpoint !== undefined ? { endpoint: k.endpoint } : {}),
      ...(k.forcePathStyle !== undefined ? { forcePathStyle: k.forcePathStyle } : {}),
    });
  },
});

/** The config of a zip read over HTTP; a zip read from bytes or a Blob has nothing to write. */
export function urlZipConfig(z: ZipStore, path: string): StoreConfig {
  const archive = z.archive;
  if (archive !== undefined && archive.store instanceof S3Store) {
    const s3 = archive.store;
    const key = s3.prefix === "" ? archive.key.slice(1) : `${s3.prefix}${archive.key}`;
    const conn = { region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle };
    const url = s3Url(s3.bucket, key, { ...conn, ...s3.policy.changed() });
    return { name: "ZipStore", module: "shardedstore", config: { args: [url], kwargs: {} } };
  }
  if (archive !== undefined) {
    throw new ConfigError(
      path || "(root)",
      `a ZipStore read through ${String(archive.store)} cannot be written in a config (only S3Store archives can)`,
    );
  }
  if (z.url === undefined) {
    throw new ConfigError(
      path || "(root)",
      "a ZipStore read from bytes or a Blob cannot be written in a config (it has no path or URL)",
    );
  }
  return {
    name: "ZipStore",
    module: "shardedstore",
    config: { args: [z.url], kwargs: { ...(z.remoteOptions ?? {}) } },
  };
}

registerStoreType({
  name: "ZipStore",
  module: "shardedstore",
  describes: (s) => s instanceof ZipStore,
  toConfig: (s, ctx) => urlZipConfig(s as ZipStore, ctx.path),
  fromConfig: (c, ctx) => {
    const { url, where } = remoteOnly(c, ctx, "zip URL");
    return remoteZipStore(url, ctx, where, remoteOf(c.config.kwargs));
  },
});

registerStoreType({
  name: "ZipStore",
  module: "zarr.storage",
  describes: () => false,
  toConfig: (s, ctx) => urlZipConfig(s as ZipStore, ctx.path),
  fromConfig: (c, ctx) => {
    const { url, where } = remoteOnly(c, ctx, "zip path or URL");
    return remoteZipStore(url, ctx, where, remoteOf(c.config.kwargs));
  },
});

// Array-shard index stores in S3: isomorphic, so every entry point can grow such an array.
registerFactoryKind("s3", (prefix, separator) => arrayShardS3Store(prefix, { separator }));
