// Reading a config served over http(s) or stored on S3 and opening it: loaded on the first
// openShardedStore (issue 12: the eager bundle carries only the entry point, open-url.ts).
import { ConfigError, isShardedStoreError } from "../errors.js";
import { FetchStore } from "../fetch-store.js";
import { S3Store } from "../s3-store.js";
import type { ShardedStore } from "../sharded-store.js";
import type { AbsolutePath } from "../types.js";
import { shardedStoreFromConfig } from "./codec.js";
import { filePath, isRemoteUrl } from "./locations.js";
import type { OpenOptions } from "./open-url.js";

/**
 * The folder of a config given by URL or path (`…/composition.json` → `…/`).
 *
 * @example
 * ```ts
 * folderOf("https://example.com/demo/sharded/composition.json"); // "https://example.com/demo/sharded/"
 * ```
 */
export function folderOf(location: string): string {
  if (isRemoteUrl(location)) return new URL(".", location).href;
  const p = /^file:/i.test(location) ? filePath(location, "(config)") : location;
  const i = p.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : p.slice(0, i);
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

/** See {@link openShardedStoreFromUrl} in open-url.ts. */
export async function openFromUrl(url: string, options: OpenOptions): Promise<ShardedStore> {
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
