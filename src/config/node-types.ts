// Store types with local paths (Node only): zarr-python's DirectoryStore, NestedDirectoryStore,
// FSStore on a local path, and ZipStore files; and the array-shard factory kinds.
import { fileURLToPath } from "node:url";
import { arrayShardDirectoryStore } from "../array-shard-factories.js";
import { DirectoryStore } from "../directory-store.js";
import { ConfigError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { arrayShardZipStore } from "../zip-shards.js";
import { ZipStore } from "../zip-store-node.js";
import { registerFactoryKind } from "./codec.js";
import { registerStoreType, type StoreConfig, stringArg } from "./registry.js";

const isUrl = (s: string) => /^https?:\/\//i.test(s);
const at = (path: string, member: string) => `${path}${path ? "." : ""}${member}`;

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
    return new DirectoryStore(ctx.resolvePath(p, at(ctx.path, "config.args[0]")));
  },
});

registerStoreType({
  name: "FSStore",
  module: "zarr.storage",
  aliases: [{ name: "FetchStore", module: "shardedstore" }],
  describes: (s) => s instanceof FetchStore,
  toConfig: (s): StoreConfig => ({
    name: "FSStore",
    module: "zarr.storage",
    config: { args: [(s as FetchStore).url], kwargs: { mode: "r" } },
  }),
  fromConfig: (c, ctx) => {
    const url = stringArg(c, 0, ctx.path, "URL or path");
    if (isUrl(url)) return new FetchStore(url);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith("file://")) {
      throw new ConfigError(
        at(ctx.path, "config.args[0]"),
        `unsupported URL scheme in ${JSON.stringify(url)} (http, https, file or a path)`,
      );
    }
    const p = url.startsWith("file://") ? fileURLToPath(url) : url;
    return new DirectoryStore(ctx.resolvePath(p, at(ctx.path, "config.args[0]")));
  },
});

registerStoreType({
  name: "ZipStore",
  module: "zarr.storage",
  aliases: [{ name: "ZipStore", module: "shardedstore" }],
  describes: (s) => s instanceof ZipStore,
  toConfig: (s, ctx): StoreConfig => {
    const z = s as ZipStore;
    if (z.path === undefined)
      return { name: "ZipStore", module: "shardedstore", config: { args: [z.url], kwargs: {} } };
    // Never "w" (it would clobber the archive when reopened): read-only zips are "r", writable ones "a".
    const mode = z.mode === "r" ? "r" : "a";
    return {
      name: "ZipStore",
      module: "zarr.storage",
      config: { args: [ctx.writePath(z.path)], kwargs: { mode } },
    };
  },
  fromConfig: (c, ctx) => {
    const p = stringArg(c, 0, ctx.path, "zip path or URL");
    if (isUrl(p)) return new ZipStore(p);
    const mode = c.config.kwargs.mode ?? "r";
    if (mode !== "r" && mode !== "a" && mode !== "w") {
      throw new ConfigError(
        at(ctx.path, "config.kwargs.mode"),
        `must be "r" or "a", got ${JSON.stringify(mode)}`,
      );
    }
    // A config saved with "w" reopens read-only: reopening must never clobber the archive.
    return new ZipStore(ctx.resolvePath(p, at(ctx.path, "config.args[0]")), {
      mode: mode === "a" ? "a" : "r",
    });
  },
});

registerFactoryKind("directory", (prefix, separator) => arrayShardDirectoryStore(prefix, { separator }));
registerFactoryKind("zip", (prefix, separator) => arrayShardZipStore(prefix, { separator }));
