// Store types with local paths (Node only): zarr-python's DirectoryStore, NestedDirectoryStore,
// FSStore on a local path, and ZipStore files; the array-shard factory kinds; and the real-path
// check of confined configs. A location that resolves to a URL (a config opened from http(s) or
// s3) becomes the remote store the isomorphic entry builds.
import { createRequire } from "node:module";
import type { Ajv as AjvClass } from "ajv";
import { arrayShardDirectoryStore } from "../array-shard-factories.js";
import { DirectoryStore } from "../directory-store.js";
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { assertRealInside } from "../real-paths.js";
import type { ArrayShardFactory } from "../types.js";
import { arrayShardZipStore } from "../zip-shards.js";
import { ZipStore } from "../zip-store-node.js";
import { type FactoryMaker, registerFactoryKind } from "./factories.js";
import { isRemoteUrl, setConfinedPathCheck } from "./locations.js";
import {
  type FromConfigContext,
  memberPath,
  registerStoreType,
  type StoreConfig,
  stringArg,
} from "./registry.js";
import {
  fetchStoreConfig,
  remoteDirectoryStore,
  remoteOf,
  remoteZipStore,
  urlArrayShardFactory,
  urlZipConfig,
} from "./store-types.js";
import { setSchemaCompiler, type ValidateFn } from "./validate.js";

setConfinedPathCheck(assertRealInside);

// Store types' JSON Schema objects compile with Ajv, loaded on first use (never in browser bundles).
let ajv: AjvClass | undefined;
setSchemaCompiler((schema) => {
  ajv ??= new (createRequire(import.meta.url)("ajv") as { Ajv: typeof AjvClass }).Ajv({
    allErrors: true,
    strict: false,
  });
  return ajv.compile(schema) as ValidateFn;
});

/** A directory location: a `DirectoryStore` (confined when the config is), or a remote store at a URL. */
function directoryAt(c: StoreConfig, ctx: FromConfigContext, what: string) {
  const where = memberPath(ctx.path, "config", "args", 0);
  const loc = ctx.resolvePath(stringArg(c, 0, ctx.path, what), where);
  if (isRemoteUrl(loc)) return remoteDirectoryStore(loc, ctx, where, remoteOf(c.config.shardedstore));
  return new DirectoryStore(loc, { confine: ctx.confine });
}

registerStoreType({
  name: "DirectoryStore",
  module: "zarr.storage",
  aliases: [
    { name: "NestedDirectoryStore", module: "zarr.storage" },
    { name: "DirectoryStore", module: "shardedstore" },
  ],
  describes: (s) => s instanceof DirectoryStore,
  toConfig: (s, ctx): StoreConfig => ({
    name: "DirectoryStore",
    module: "zarr.storage",
    config: { args: [ctx.writePath((s as DirectoryStore).root)], kwargs: {} },
  }),
  fromConfig: (c, ctx) => directoryAt(c, ctx, "directory path"),
});

registerStoreType({
  name: "FSStore",
  module: "zarr.storage",
  describes: (s) => s instanceof FetchStore,
  toConfig: (s) => fetchStoreConfig(s as FetchStore),
  fromConfig: (c, ctx) => directoryAt(c, ctx, "URL or path"),
});

/**
 * A file zip's config, for zarr-python and for us. zarr-python reads `kwargs.mode`, always `"r"`: a
 * config never makes it open an archive for writing (and `"w"` would clobber it). A writable archive
 * says so in `config.shardedstore.mode: "a"`, which only shardedstore reads.
 */
function zipConfig(z: ZipStore, writePath: (p: string) => string, path: string): StoreConfig {
  if (z.path === undefined) return urlZipConfig(z, path);
  const config: StoreConfig["config"] = { args: [writePath(z.path)], kwargs: { mode: "r" } };
  if (z.mode !== "r") config.shardedstore = { mode: "a" };
  return { name: "ZipStore", module: "zarr.storage", config };
}

registerStoreType({
  name: "ZipStore",
  module: "zarr.storage",
  aliases: [{ name: "ZipStore", module: "shardedstore" }],
  describes: (s) => s instanceof ZipStore,
  toConfig: (s, ctx) => zipConfig(s as ZipStore, ctx.writePath, ctx.path),
  fromConfig: (c, ctx) => {
    const where = memberPath(ctx.path, "config", "args", 0);
    const loc = ctx.resolvePath(stringArg(c, 0, ctx.path, "zip path or URL"), where);
    if (isRemoteUrl(loc)) return remoteZipStore(loc, ctx, where, remoteOf(c.config.kwargs));
    // Read-only unless the config asks for appending; "w" never (reopening must not clobber).
    const asked = c.config.shardedstore?.mode ?? c.config.kwargs.mode;
    return new ZipStore(loc, { mode: asked === "a" ? "a" : "r" });
  },
});

/** The location of an index store a factory made (a directory's root or a zip's path). */
function locationOf(store: unknown): string | undefined {
  if (store instanceof DirectoryStore) return store.root;
  if (store instanceof ZipStore) return store.path;
  return undefined;
}

/**
 * A factory kind: URL prefixes give read-only (http) or S3 factories; paths the local factory,
 * whose index stores are checked against the config's real folder when the config is confined.
 */
function nodeKind(kind: "directory" | "zip"): FactoryMaker {
  return (prefix, separator, ctx) => {
    if (isRemoteUrl(prefix)) return urlArrayShardFactory(kind, prefix, separator, ctx);
    const local =
      kind === "zip"
        ? arrayShardZipStore(prefix, { separator })
        : arrayShardDirectoryStore(prefix, { separator });
    const base = ctx?.baseDir;
    if (!ctx?.confine || base === undefined) return local;
    const confined: ArrayShardFactory = (index) => {
      const store = local(index) as DirectoryStore | ZipStore;
      const at = locationOf(store);
      if (at === undefined)
        throw new ConfigError("array_shard_factories", `index store at ${prefix} has no path`);
      assertRealInside(base, at, `array shard index [${index.join(", ")}] under ${prefix}`);
      return store instanceof DirectoryStore ? new DirectoryStore(store.root, { confine: true }) : store;
    };
    // Listing in one pass stays confined: a store reached through a link is opened (and checked) first.
    const listStoreKeys = async (signal?: AbortSignal) =>
      (await local.listStoreKeys!(signal)).map((s) => (s.linked ? { ...s, keys: null } : s));
    return Object.assign(confined, {
      factorySpec: local.factorySpec,
      ...(local.listStoreKeys ? { listStoreKeys, ownsStore: local.ownsStore } : {}),
    });
  };
}

registerFactoryKind("directory", nodeKind("directory"));
registerFactoryKind("zip", nodeKind("zip"));
