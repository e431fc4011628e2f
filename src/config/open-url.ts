// Opening a composition from a config served over http(s) or stored on S3 (browser-safe).
import { ConfigError, isShardedStoreError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { S3Store } from "../s3-store.js";
import type { ShardedStore } from "../sharded-store.js";
import type { AbsolutePath } from "../types.js";
import { type FromConfigOptions, shardedStoreFromConfig } from "./codec.js";
import { folderOf, isRemoteUrl } from "./locations.js";
import { s3Location } from "./store-types.js";

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

/** The config's bytes from its URL. */
async function readConfigBytes(url: string, options: OpenOptions): Promise<Uint8Array> {
  let value: Uint8Array | undefined;
  const name = decodeURIComponent(new URL(url).pathname.replace(/^.*\//, ""));
  if (name === "") throw new ConfigError("(file)", `${url} names a folder, not a config file`);
  const key = `/${name}` as AbsolutePath;
  const folder = folderOf(url);
  if (/^s3:/i.test(url)) {
    const store = new S3Store({ ...options.remote?.s3, ...s3Location(folder) });
    try {
      value = await store.get(key);
    } finally {
      await store.close();
    }
  } else {
    const r = options.remote;
    const store = new FetchStore(folder, {
      ...(r?.fetch ? { fetch: r.fetch } : {}),
      ...(r?.headers ? { headers: r.headers } : {}),
    });
    value = await store.get(key);
  }
  if (value === undefined) throw new ConfigError("(file)", `cannot read ${url}: not found`);
  return value;
}

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
  let bytes: Uint8Array;
  try {
    bytes = await readConfigBytes(url, options);
  } catch (e) {
    if (isShardedStoreError(e, "ConfigError")) throw e;
    throw new ConfigError("(file)", `cannot read ${url}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ConfigError("(root)", `${url} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return shardedStoreFromConfig(json, { ...options, baseDir: folderOf(url) });
}
