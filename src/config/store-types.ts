// Store types every platform knows: MemoryStore, FetchStore (and zarr's FSStore over http), S3Store,
// and ZipStore read from a URL. Shapes of args/kwargs are checked by the JSON Schema (schema.ts).
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { FULL_BODY_LIMIT } from "../http-byte-source.js";
import { MemoryStore } from "../memory-store.js";
import { arrayShardS3Store, parseS3Url, s3Url } from "../s3-shards.js";
import { S3Store } from "../s3-store.js";
import type { AbsolutePath } from "../types.js";
import { ZipStore } from "../zip-store.js";
import { registerFactoryKind } from "./factories.js";
import { memberPath, registerStoreType, type StoreConfig, stringArg } from "./registry.js";

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

const isUrl = (s: string) => /^https?:\/\//i.test(s);

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

/** An FSStore config over HTTP(S): always read-only (zarr's FSStore cannot write over HTTP either). */
export function fetchStoreFromFsConfig(url: string, path: string, remote: Remote = {}): FetchStore {
  if (!isUrl(url)) {
    throw new ConfigError(
      memberPath(path, "config", "args", 0),
      `must be an http(s) URL here, got ${JSON.stringify(url)} (local paths need shardedstore/node)`,
    );
  }
  return new FetchStore(url, remote);
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
  fromConfig: (c, ctx) =>
    fetchStoreFromFsConfig(stringArg(c, 0, ctx.path, "URL"), ctx.path, remoteOf(c.config.shardedstore)),
});

registerStoreType({
  name: "FetchStore",
  module: "shardedstore",
  describes: (s) => s instanceof FetchStore,
  toConfig: (s) => fetchStoreConfig(s as FetchStore),
  fromConfig: (c) => {
    const k = c.config.kwargs as { writable?: boolean; missingStatuses?: number[] };
    return new FetchStore(c.config.args[0] as string, {
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
  fromConfig: (c) => {
    const k = c.config.kwargs as {
      bucket: string;
      prefix?: string;
      region?: string;
      endpoint?: string;
      forcePathStyle?: boolean;
    };
    return new S3Store({
      ...remoteOf(c.config.kwargs),
      bucket: k.bucket,
      ...(k.prefix !== undefined ? { prefix: k.prefix } : {}),
      ...(k.region !== undefined ? { region: k.region } : {}),
      ...(k.endpoint !== undefined ? { endpoint: k.endpoint } : {}),
      ...(k.forcePathStyle !== undefined ? { forcePathStyle: k.forcePathStyle } : {}),
    });
  },
});

/**
 * The config of a zip read over HTTP (its URL and remote options), or through an `S3Store` (an
 * `s3://` URL whose query says how to reach the bucket — never a signature or credentials); a zip
 * read from bytes or a Blob has nothing to write.
 */
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

/** A zip by URL: over HTTP(S), or in S3 (`s3://bucket/key.zip?region=…`) read through an S3Store. */
export function zipFromUrl(url: string, kwargs: Record<string, unknown>, where: string): ZipStore {
  if (!/^s3:\/\//i.test(url)) return new ZipStore(url, remoteOf(kwargs));
  let loc: ReturnType<typeof parseS3Url>;
  try {
    loc = parseS3Url(url);
  } catch (e) {
    throw new ConfigError(where, (e as Error).message, { cause: e });
  }
  const cut = loc.prefix.lastIndexOf("/");
  if (loc.prefix === "") throw new ConfigError(where, `names no object: ${JSON.stringify(url)}`);
  const prefix = cut === -1 ? "" : loc.prefix.slice(0, cut);
  const store = new S3Store({ ...loc.options, bucket: loc.bucket, prefix });
  return new ZipStore({ store, key: `/${loc.prefix.slice(cut + 1)}` });
}

registerStoreType({
  name: "ZipStore",
  module: "shardedstore",
  describes: (s) => s instanceof ZipStore,
  toConfig: (s, ctx) => urlZipConfig(s as ZipStore, ctx.path),
  fromConfig: (c, ctx) =>
    zipFromUrl(c.config.args[0] as string, c.config.kwargs, memberPath(ctx.path, "config", "args", 0)),
});

registerStoreType({
  name: "ZipStore",
  module: "zarr.storage",
  describes: () => false,
  toConfig: (s, ctx) => urlZipConfig(s as ZipStore, ctx.path),
  fromConfig: (c, ctx) => {
    const p = stringArg(c, 0, ctx.path, "zip path or URL");
    if (!isUrl(p)) {
      throw new ConfigError(
        memberPath(ctx.path, "config", "args", 0),
        `is a zip file path (${JSON.stringify(p)}); zip files need shardedstore/node, here only http(s) URLs`,
      );
    }
    return new ZipStore(p);
  },
});

// Array-shard index stores in S3: isomorphic, so every entry point can grow such an array.
registerFactoryKind("s3", (prefix, separator) => arrayShardS3Store(prefix, { separator }));
