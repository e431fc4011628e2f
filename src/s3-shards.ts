// S3 as a place for shards: the array-shard factory and the shard transformation, isomorphic.
import { copyStore } from "./copy-store.js";
import type { ShardTransform } from "./map-shards.js";
import { S3Store, type S3StoreOptions } from "./s3-store.js";
import type { ArrayShardFactory, Store } from "./types.js";

/**
 * How to reach the bucket of an `s3://` location: everything of {@link S3StoreOptions} but the
 * bucket and prefix (which the URL gives), and the separator of index stores' names.
 *
 * @example
 * ```ts
 * const o: S3LocationOptions = { region: "eu-west-1", separator: "." };
 * ```
 */
export interface S3LocationOptions extends Omit<S3StoreOptions, "bucket" | "prefix"> {
  /** Joins the index in the object-key prefix: "/" (default) nests, "." keeps one level. */
  separator?: "/" | ".";
}

/**
 * An array-shard factory that remembers how to rebuild itself (`kind: "s3"`, prefix an `s3://` URL).
 *
 * @example
 * ```ts
 * const f: S3Factory = arrayShardS3Store("s3://bucket/shards/foo");
 * f.factorySpec.prefix; // "s3://bucket/shards/foo"
 * ```
 */
export type S3Factory = ArrayShardFactory & {
  factorySpec: { kind: "s3"; prefix: string; separator: "/" | "." };
};

/** Members of an `s3://` URL's query that say how to reach the bucket (none of them secret). */
const QUERY = ["endpoint", "region", "forcePathStyle", "timeout", "retries", "concurrency"] as const;

/**
 * Splits `s3://bucket/key/prefix?endpoint=…&region=…&forcePathStyle=true` into its bucket, key
 * prefix (no leading or trailing `/`) and connection options.
 *
 * @example
 * ```ts
 * parseS3Url("s3://b/data/a.zarr?region=eu-west-1"); // { bucket: "b", prefix: "data/a.zarr", options: { region: "eu-west-1" } }
 * ```
 */
export function parseS3Url(url: string): {
  bucket: string;
  prefix: string;
  options: Pick<S3StoreOptions, (typeof QUERY)[number]>;
} {
  const m = /^s3:\/\/([^/?#]+)\/?([^?#]*)(?:\?([^#]*))?$/i.exec(url);
  if (!m) throw new TypeError(`not an s3:// URL: ${JSON.stringify(url)} (expected s3://bucket/prefix)`);
  const q = new URLSearchParams(m[3] ?? "");
  const options: Pick<S3StoreOptions, (typeof QUERY)[number]> = {};
  for (const [k, v] of q) {
    if (k === "endpoint" || k === "region") options[k] = v;
    else if (k === "forcePathStyle") options.forcePathStyle = v === "true";
    else if (k === "timeout" || k === "retries" || k === "concurrency") options[k] = Number(v);
    else throw new TypeError(`s3:// URL ${JSON.stringify(url)}: unknown query member ${JSON.stringify(k)}`);
  }
  return { bucket: m[1] as string, prefix: (m[2] ?? "").replace(/^\/+|\/+$/g, ""), options };
}

/**
 * The `s3://` URL of a location, with the connection options that are not secrets as its query.
 *
 * @example
 * ```ts
 * s3Url("b", "data/foo", { region: "eu-west-1" }); // "s3://b/data/foo?region=eu-west-1"
 * ```
 */
export function s3Url(
  bucket: string,
  prefix: string,
  options: { [K in (typeof QUERY)[number]]?: S3StoreOptions[K] | undefined } = {},
): string {
  const q = new URLSearchParams();
  for (const k of QUERY) {
    const v = options[k];
    if (v !== undefined) q.set(k, String(v));
  }
  const query = q.toString();
  return `s3://${bucket}/${prefix.replace(/^\/+|\/+$/g, "")}${query === "" ? "" : `?${query}`}`;
}

function locate(location: string, options: S3LocationOptions) {
  const { bucket, prefix, options: fromUrl } = parseS3Url(location);
  const { separator: _sep, ...rest } = options;
  const store: Omit<S3StoreOptions, "bucket" | "prefix"> = { ...fromUrl, ...rest };
  return { bucket, prefix, store };
}

const join = (a: string, b: string) => (a === "" ? b : b === "" ? a : `${a}/${b}`);

/**
 * Array-shard factory of {@link S3Store}s: index `[i, j]` → the objects under
 * `s3://bucket/prefix/i/j.zarr/`. Isomorphic. The location may carry its connection options as a
 * query (`?endpoint=…&region=…&forcePathStyle=true`), so a config rebuilds the factory; credentials
 * and a `client` are given here (or come from the AWS SDK's usual lookup) and never written.
 *
 * @example
 * ```ts
 * const store = new ShardedStore(base, {
 *   arrayShards: { "sim/foo": { dims: 1, factory: arrayShardS3Store("s3://my-bucket/shards/foo", { region: "eu-west-1" }) } },
 * });
 * ```
 */
export function arrayShardS3Store(location: string, options: S3LocationOptions = {}): S3Factory {
  const { bucket, prefix, store } = locate(location, options);
  const separator = options.separator ?? "/";
  const factory = (index: readonly number[]) =>
    new S3Store({ ...store, bucket, prefix: join(prefix, `${index.join(separator)}.zarr`) });
  return Object.assign(factory, {
    factorySpec: { kind: "s3" as const, prefix: s3Url(bucket, prefix, store), separator },
  });
}

/** The key prefix a shard becomes under `prefix`: base `prefix.zarr`, others `prefix/mount[/i/j].zarr`. */
function shardPrefix(prefix: string, mount: string, index?: readonly number[]): string {
  if (mount === "") return `${prefix}.zarr`;
  if (index === undefined) return `${prefix}/${mount}.zarr`;
  return `${prefix}/${mount}/${index.join("/")}.zarr`;
}

async function sameKeys(a: Store, b: S3Store): Promise<boolean> {
  if (!a.list) return false;
  const keys = new Set<string>();
  for await (const k of a.list()) keys.add(k);
  let n = 0;
  for await (const k of b.list()) {
    if (!keys.has(k)) return false;
    n++;
  }
  return n === keys.size;
}

/**
 * The shard transformation to S3: every shard is copied under an `s3://bucket/prefix` location —
 * base → `prefix.zarr/`, group shard `p` → `prefix/p.zarr/`, array shard `p` index `[i, j]` →
 * `prefix/p/i/j.zarr/` — and the result reads them there. A rerun skips the shards whose objects
 * already hold exactly the source's keys (S3 has no rename: an interrupted copy is redone, not
 * trusted). Converted arrays can still grow: new index stores come from {@link arrayShardS3Store}.
 *
 * @example
 * ```ts
 * const inS3 = await sharded.mapShards(toS3StoreWithPrefix("s3://my-bucket/data", { region: "eu-west-1" }));
 * ```
 */
export function toS3StoreWithPrefix(location: string, options: S3LocationOptions = {}): ShardTransform {
  const { bucket, prefix, store: conn } = locate(location, options);
  const fn: ShardTransform = async (store, mount, index, ctx) => {
    const target = new S3Store({ ...conn, bucket, prefix: shardPrefix(prefix, mount, index) });
    if (await sameKeys(store, target)) {
      ctx.skipped();
      return target;
    }
    await copyStore(store, target, {
      onBytes: ctx.reportBytes,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    return target;
  };
  fn.arrayShardFactory = (mount) =>
    arrayShardS3Store(s3Url(bucket, join(prefix, mount), conn), { ...options, separator: "/" });
  return fn;
}
