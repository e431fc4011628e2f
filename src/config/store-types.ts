// Store types every platform knows: MemoryStore, FetchStore (and zarr's FSStore over http), S3Store,
// and ZipStore read from a URL.
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { MemoryStore } from "../memory-store.js";
import { S3Store } from "../s3-store.js";
import type { AbsolutePath } from "../types.js";
import { ZipStore } from "../zip-store.js";
import { registerStoreType, type StoreConfig, stringArg } from "./registry.js";

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

/** Reads the entries of a MemoryStore synchronously (its values are in a private map, listed here). */
function memoryEntries(store: MemoryStore): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of store.entries()) out[k] = toBase64(v);
  return out;
}

registerStoreType({
  name: "MemoryStore",
  module: "shardedstore",
  describes: (s) => s instanceof MemoryStore,
  toConfig: (s) => ({
    name: "MemoryStore",
    module: "shardedstore",
    config: { args: [], kwargs: { entries: memoryEntries(s as MemoryStore) } },
  }),
  fromConfig: (c, ctx) => {
    const store = new MemoryStore();
    const entries = c.config.kwargs.entries ?? {};
    if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
      throw new ConfigError(
        `${ctx.path}${ctx.path ? "." : ""}config.kwargs.entries`,
        "must be an object of base64 values",
      );
    }
    for (const [k, v] of Object.entries(entries)) {
      const where = `${ctx.path}${ctx.path ? "." : ""}config.kwargs.entries[${JSON.stringify(k)}]`;
      if (typeof v !== "string") throw new ConfigError(where, "must be a base64 string");
      store.setSync(k as AbsolutePath, fromBase64(v, where));
    }
    return store;
  },
});

registerStoreType({
  name: "FetchStore",
  module: "shardedstore",
  aliases: [{ name: "FSStore", module: "zarr.storage" }],
  describes: (s) => s instanceof FetchStore,
  toConfig: (s): StoreConfig => ({
    name: "FSStore",
    module: "zarr.storage",
    config: { args: [(s as FetchStore).url], kwargs: { mode: "r" } },
  }),
  fromConfig: (c, ctx) => {
    const url = stringArg(c, 0, ctx.path, "URL");
    if (!isUrl(url)) {
      throw new ConfigError(
        `${ctx.path}${ctx.path ? "." : ""}config.args[0]`,
        `must be an http(s) URL here, got ${JSON.stringify(url)} (local paths need shardedstore/node)`,
      );
    }
    return new FetchStore(url);
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
  fromConfig: (c, ctx) => {
    const k = c.config.kwargs;
    const at = (m: string) => `${ctx.path}${ctx.path ? "." : ""}config.kwargs.${m}`;
    if (typeof k.bucket !== "string" || k.bucket === "")
      throw new ConfigError(at("bucket"), "must be a non-empty string");
    for (const m of ["prefix", "region", "endpoint"] as const) {
      if (k[m] !== undefined && typeof k[m] !== "string") throw new ConfigError(at(m), "must be a string");
    }
    if (k.forcePathStyle !== undefined && typeof k.forcePathStyle !== "boolean")
      throw new ConfigError(at("forcePathStyle"), "must be a boolean");
    return new S3Store({
      bucket: k.bucket,
      ...(typeof k.prefix === "string" ? { prefix: k.prefix } : {}),
      ...(typeof k.region === "string" ? { region: k.region } : {}),
      ...(typeof k.endpoint === "string" ? { endpoint: k.endpoint } : {}),
      ...(typeof k.forcePathStyle === "boolean" ? { forcePathStyle: k.forcePathStyle } : {}),
    });
  },
});

registerStoreType({
  name: "ZipStore",
  module: "shardedstore",
  describes: (s) => s instanceof ZipStore && (s as ZipStore).url !== undefined,
  toConfig: (s) => ({
    name: "ZipStore",
    module: "shardedstore",
    config: { args: [(s as ZipStore).url], kwargs: {} },
  }),
  fromConfig: (c, ctx) => {
    const url = stringArg(c, 0, ctx.path, "URL of the zip");
    if (!isUrl(url))
      throw new ConfigError(
        `${ctx.path}${ctx.path ? "." : ""}config.args[0]`,
        `must be an http(s) URL, got ${JSON.stringify(url)}`,
      );
    return new ZipStore(url);
  },
});
