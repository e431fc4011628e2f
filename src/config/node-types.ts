// Store types with local paths (Node only): zarr-python's DirectoryStore, NestedDirectoryStore,
// FSStore on a local path, and ZipStore files; and the array-shard factory kinds.
import { fileURLToPath } from "node:url";
import { arrayShardDirectoryStore } from "../array-shard-factories.js";
import { DirectoryStore } from "../directory-store.js";
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { arrayShardZipStore } from "../zip-shards.js";
import { ZipStore } from "../zip-store-node.js";
import { registerFactoryKind } from "./factories.js";
import { memberPath, registerStoreType, type StoreConfig, stringArg } from "./registry.js";
import {
  fetchStoreConfig,
  fetchStoreFromFsConfig,
  remoteOf,
  urlZipConfig,
  zipFromUrl,
} from "./store-types.js";

const isUrl = (s: string) => /^https?:\/\//i.test(s);

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
  fromConfig: (c, ctx) => {
    const p = stringArg(c, 0, ctx.path, "directory path");
    return new DirectoryStore(ctx.resolvePath(p, memberPath(ctx.path, "config", "args", 0)));
  },
});

registerStoreType({
  name: "FSStore",
  module: "zarr.storage",
  describes: (s) => s instanceof FetchStore,
  toConfig: (s) => fetchStoreConfig(s as FetchStore),
  fromConfig: (c, ctx) => {
    const url = stringArg(c, 0, ctx.path, "URL or path");
    if (isUrl(url)) return fetchStoreFromFsConfig(url, ctx.path, remoteOf(c.config.shardedstore));
    const where = memberPath(ctx.path, "config", "args", 0);
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !url.startsWith("file:")) {
      throw new ConfigError(
        where,
        `unsupported URL scheme in ${JSON.stringify(url)} (http, https, file or a path)`,
      );
    }
    return new DirectoryStore(ctx.resolvePath(url.startsWith("file:") ? fileURLToPath(url) : url, where));
  },
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
    const p = stringArg(c, 0, ctx.path, "zip path or URL");
    if (isUrl(p) || /^s3:\/\//i.test(p))
      return zipFromUrl(p, c.config.kwargs, memberPath(ctx.path, "config", "args", 0));
    // Read-only unless the config asks for appending; "w" never (reopening must not clobber).
    const asked = c.config.shardedstore?.mode ?? c.config.kwargs.mode;
    return new ZipStore(ctx.resolvePath(p, memberPath(ctx.path, "config", "args", 0)), {
      mode: asked === "a" ? "a" : "r",
    });
  },
});

registerFactoryKind("directory", (prefix, separator) => arrayShardDirectoryStore(prefix, { separator }));
registerFactoryKind("zip", (prefix, separator) => arrayShardZipStore(prefix, { separator }));
