// Store types every platform knows: MemoryStore, FetchStore (and zarr's FSStore over http), S3Store,
// and ZipStore read from a URL. Shapes of args/kwargs are checked by the JSON Schema (schema.ts).
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { MemoryStore } from "../memory-store.js";
import { S3Store } from "../s3-store.js";
import type { AbsolutePath } from "../types.js";
import { ZipStore } from "../zip-store.js";
import { memberPath, registerStoreType, type StoreConfig, stringArg } from "./registry.js";

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
  if (!s.writable && sameStatuses(s.missingStatuses, [404])) {
    return { name: "FSStore", module: "zarr.storage", config: { args: [s.url], kwargs: { mode: "r" } } };
  }
  const kwargs: Record<string, unknown> = {};
  if (s.writable) kwargs.writable = true;
  if (!sameStatuses(s.missingStatuses, [404])) kwargs.missingStatuses = [...s.missingStatuses];
  return { name: "FetchStore", module: "shardedstore", config: { args: [s.url], kwargs } };
}

/** An FSStore config over HTTP(S): always read-only (zarr's FSStore cannot write over HTTP either). */
export function fetchStoreFromFsConfig(url: string, path: string): FetchStore {
  if (!isUrl(url)) {
    throw new ConfigError(
      memberPath(path, "config", "args", 0),
      `must be an http(s) URL here, got ${JSON.stringify(url)} (local paths need shardedstore/node)`,
    );
  }
  return new FetchStore(url);
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
  fromConfig: (c, ctx) => fetchStoreFromFsConfig(stringArg(c, 0, ctx.path, "URL"), ctx.path),
});

registerStoreType({
  name: "FetchStore",
  module: "shardedstore",
  describes: (s) => s instanceof FetchStore,
  toConfig: (s) => fetchStoreConfig(s as FetchStore),
  fromConfig: (c) => {
    const k = c.config.kwargs as { writable?: boolean; missingStatuses?: number[] };
    return new FetchStore(c.config.args[0] as string, {
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
    const kwargs: Record<string, unknown> = { bucket: x.bucket, prefix: x.prefix };
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
  if (z.url === undefined) {
    throw new ConfigError(
      path || "(root)",
      "a ZipStore read from bytes or a Blob cannot be written in a config (it has no path or URL)",
    );
  }
  return { name: "ZipStore", module: "shardedstore", config: { args: [z.url], kwargs: {} } };
}

registerStoreType({
  name: "ZipStore",
  module: "shardedstore",
  describes: (s) => s instanceof ZipStore,
  toConfig: (s, ctx) => urlZipConfig(s as ZipStore, ctx.path),
  fromConfig: (c) => new ZipStore(c.config.args[0] as string),
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
