// Store types with local paths (Node only): zarr-python's DirectoryStore, NestedDirectoryStore,
// FSStore on a local path, and ZipStore files; the array-shard factory kinds; and the real-path
// check of confined configs. A location that resolves to a URL (a config opened from http(s) or
// s3) becomes the remote store the isomorphic entry builds.
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type { Ajv as AjvClass } from "ajv";
import { arrayShardDirectoryStore } from "../array-shard-factories.js";
import { DirectoryStore } from "../directory-store.js";
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { assertRealInside, isRealInside, realPathSoFar } from "../real-paths.js";
import type { ArrayShardFactory, Store } from "../types.js";
import { arrayShardZipStore } from "../zip-shards.js";
import { ZipStore } from "../zip-store-node.js";
import { type FactoryMaker, registerFactoryKind } from "./factories.js";
import { isRemoteUrl, setConfinedPathCheck } from "./locations.js";
import { entryPacker } from "./pack-entries.js";
import {
  type FromConfigContext,
  memberPath,
  registerStoreType,
  type StoreConfig,
  stringArg,
} from "./registry.js";
import { setEntryPacker } from "./sharded-config.js";
import {
  fetchStoreConfig,
  remoteDirectoryStore,
  remoteOf,
  remoteZipStore,
  urlArrayShardFactory,
  urlZipConfig,
} from "./store-types.js";
import { setSchemaCompiler, type ValidateFn } from "./validate.js";

setConfinedPathCheck(() => realPathCheck());
setEntryPacker(entryPacker);

/**
 * The real-path check of one confined config read. The first store of a folder gets the full
 * {@link assertRealInside}; at the second, the folder is learnt once (its real path, checked inside
 * the config's real folder, and which of its entries are symbolic links), and from then on a store
 * there that is not a link is inside without a system call. So 10^5 index stores in a few hundred
 * folders cost a few hundred `realpath` and `readdir` calls, not 2 × 10^5 `realpath`s.
 */
function realPathCheck(): (base: string, abs: string, where: string) => void {
  const visited = new Set<string>();
  const learnt = new Map<string, ReadonlySet<string> | null>();
  return (base, abs, where) => {
    const dir = path.dirname(abs);
    let links = learnt.get(dir);
    if (links === undefined) {
      if (!visited.has(dir)) {
        visited.add(dir);
        assertRealInside(base, abs, where);
        return;
      }
      links = learnFolder(base, dir);
      learnt.set(dir, links);
    }
    if (links !== null && !links.has(path.basename(abs))) return;
    assertRealInside(base, abs, where);
  };
}

/**
 * The names of the symbolic links in `dir` when its real path lies inside `base`'s (so any other
 * entry of it does too); `null` when each store there needs the full check.
 */
function learnFolder(base: string, dir: string): ReadonlySet<string> | null {
  try {
    if (!isRealInside(realPathSoFar(base), realPathSoFar(dir))) return null;
  } catch {
    return null;
  }
  try {
    const links = new Set<string>();
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isSymbolicLink()) links.add(e.name);
    return links;
  } catch (e) {
    // A folder that does not exist yet holds no links (as for the full check, nothing there leads out).
    const code = (e as { code?: string }).code;
    return code === "ENOENT" ? new Set() : null;
  }
}

// Store types' JSON Schema objects compile with Ajv, loaded on first use (never in browser bundles).
let ajv: AjvClass | undefined;
setSchemaCompiler((schema) => {
  ajv ??= new (createRequire(import.meta.url)("ajv") as { Ajv: typeof AjvClass }).Ajv({
    allErrors: true,
    strict: false,
  });
  return ajv.compile(schema) as ValidateFn;
});

/**
 * A directory location, checked and resolved now: a `DirectoryStore` (confined when the config is)
 * or a remote store at a URL, made when the returned function is called.
 */
function prepareDirectory(c: StoreConfig, ctx: FromConfigContext, what: string): () => Store {
  const where = memberPath(ctx.path, "config", "args", 0);
  const loc = ctx.resolvePath(stringArg(c, 0, ctx.path, what), where);
  if (isRemoteUrl(loc)) {
    const store = remoteDirectoryStore(loc, ctx, where, remoteOf(c.config.shardedstore));
    return () => store;
  }
  const confine = ctx.confine;
  return () => new DirectoryStore(loc, { confine });
}

const directoryAt = (c: StoreConfig, ctx: FromConfigContext, what: string) =>
  prepareDirectory(c, ctx, what)();

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
  prepare: (c, ctx) => prepareDirectory(c, ctx, "directory path"),
});

registerStoreType({
  name: "FSStore",
  module: "zarr.storage",
  describes: (s) => s instanceof FetchStore,
  toConfig: (s) => fetchStoreConfig(s as FetchStore),
  fromConfig: (c, ctx) => directoryAt(c, ctx, "URL or path"),
  prepare: (c, ctx) => prepareDirectory(c, ctx, "URL or path"),
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

/** A zip location, checked and resolved now; the `ZipStore` (file or URL) made when called. */
function prepareZip(c: StoreConfig, ctx: FromConfigContext): () => Store {
  const where = memberPath(ctx.path, "config", "args", 0);
  const loc = ctx.resolvePath(stringArg(c, 0, ctx.path, "zip path or URL"), where);
  if (isRemoteUrl(loc)) {
    const store = remoteZipStore(loc, ctx, where, remoteOf(c.config.kwargs));
    return () => store;
  }
  // Read-only unless the config asks for appending; "w" never (reopening must not clobber).
  const asked = c.config.shardedstore?.mode ?? c.config.kwargs.mode;
  const mode = asked === "a" ? "a" : "r";
  return () => new ZipStore(loc, { mode });
}

registerStoreType({
  name: "ZipStore",
  module: "zarr.storage",
  aliases: [{ name: "ZipStore", module: "shardedstore" }],
  describes: (s) => s instanceof ZipStore,
  toConfig: (s, ctx) => zipConfig(s as ZipStore, ctx.writePath, ctx.path),
  fromConfig: (c, ctx) => prepareZip(c, ctx)(),
  prepare: prepareZip,
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
