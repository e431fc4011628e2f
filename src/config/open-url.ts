// Opening a composition from a config served over http(s) or stored on S3 (browser-safe).
// The reading itself (open-url-read.ts) loads on first use.
import { ConfigError } from "../errors.js";
import type { ShardedStore } from "../sharded-store.js";
import type { FromConfigOptions } from "./codec.js";
import { isRemoteUrl } from "./locations.js";

/**
 * Options of {@link openShardedStore}: those of `fromConfig` but `baseDir`, which is the config's
 * own folder.
 *
 * @example
 * ```ts
 * const opts: OpenOptions = { confine: true, remote: { headers: { Authorization: "Bearer …" } } };
 * ```
 */
export type OpenOptions = Omit<FromConfigOptions, "baseDir">;

/**
 * Opens a composition from the URL of its config (`https://…/composition.json` or
 * `s3://bucket/…/composition.json`); relative locations in it resolve against the config's folder
 * on that server or bucket: directory stores become `FetchStore`s (read-only) or `S3Store`s, zips
 * `ZipStore`s read by range. Paths need `shardedstore/node`, whose `openShardedStore` also takes them.
 *
 * @example
 * ```ts
 * const store = await openShardedStore("https://example.com/demo/sharded/composition.json");
 * ```
 */
export async function openShardedStore(location: string, options: OpenOptions = {}): Promise<ShardedStore> {
  if (!isRemoteUrl(location)) {
    throw new ConfigError(
      "(file)",
      `cannot open ${JSON.stringify(location)} here: only http(s) and s3 URLs (paths need shardedstore/node)`,
    );
  }
  return openShardedStoreFromUrl(location, options);
}

/**
 * {@link openShardedStore} for a URL (shared by both entry points).
 *
 * @example
 * ```ts
 * const store = await openShardedStoreFromUrl("s3://bucket/demo/composition.json", { allowUrls: true });
 * ```
 */
export async function openShardedStoreFromUrl(url: string, options: OpenOptions): Promise<ShardedStore> {
  return (await import("./open-url-read.js")).openFromUrl(url, options);
}
