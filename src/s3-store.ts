import type { ListObjectsV2CommandOutput, S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { InvalidKeyError, markTaggedErrors, StoreError } from "./errors.js";
import { assertValidKey, normalizePrefix } from "./keys.js";
import { rangeHeader, sliceRange } from "./range.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";

type Sdk = typeof import("@aws-sdk/client-s3");
let sdkPromise: Promise<Sdk> | undefined;
// Loaded on first use, so importing `shardedstore` does not load the AWS SDK.
const sdk = (): Promise<Sdk> => {
  sdkPromise ??= import("@aws-sdk/client-s3");
  return sdkPromise;
};

/**
 * Options of {@link S3Store}. Either pass a ready `client`, or the members to build one
 * (`region`, `endpoint`, `forcePathStyle`, `credentials`; anything left out comes from the AWS SDK's
 * usual environment/config lookup).
 *
 * @example
 * ```ts
 * const opts: S3StoreOptions = { bucket: "my-bucket", prefix: "data/a.zarr", region: "eu-west-1" };
 * ```
 */
export interface S3StoreOptions {
  bucket: string;
  /** Object-key prefix the store lives under (`"data/a.zarr"`); leading/trailing `/` are ignored. */
  prefix?: string;
  /** A client to use; the store never destroys a client it did not create. */
  client?: S3Client;
  region?: string;
  /** An S3-compatible endpoint, e.g. `http://127.0.0.1:9000` for MinIO. */
  endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  forcePathStyle?: boolean;
  credentials?: S3ClientConfig["credentials"];
}

interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

const errorName = (e: unknown): string | undefined => {
  const err = e as SdkError | null;
  return typeof err === "object" && err !== null ? (err.Code ?? err.name) : undefined;
};
const status = (e: unknown): number | undefined =>
  typeof e === "object" && e !== null ? (e as SdkError).$metadata?.httpStatusCode : undefined;

/** Normalises a key prefix to `""` or `"a/b"`, rejecting `.`/`..` segments. */
function normalizeKeyPrefix(prefix: string | undefined): string {
  if (prefix === undefined) return "";
  const parts = prefix.split("/").filter((p) => p !== "");
  for (const p of parts) {
    if (p === "." || p === ".." || p.includes("\\") || p.includes("\0")) {
      throw new InvalidKeyError(prefix, `invalid prefix segment ${JSON.stringify(p)}`, "S3Store");
    }
  }
  return parts.join("/");
}

/**
 * A store on an S3 bucket (or any S3-compatible service), isomorphic: Node ≥ 20 and browsers, through
 * `@aws-sdk/client-s3`. Key `/a/.zarray` is object `<prefix>/a/.zarray`; a missing object is
 * `undefined`; `list` pages through ListObjectsV2 and yields keys relative to `prefix`; byte ranges
 * are ranged GETs (`bytes=-n` for a suffix). Other failures (no such bucket, access denied, network)
 * throw {@link StoreError} naming `s3://bucket/prefix` and the key.
 *
 * @example
 * ```ts
 * import * as zarr from "zarrita";
 * import { S3Store } from "shardedstore";
 * const store = new S3Store({ bucket: "my-bucket", prefix: "data/a.zarr", region: "eu-west-1" });
 * const arr = await zarr.open(zarr.root(store).resolve("temperature"), { kind: "array" });
 * await store.close();
 * ```
 */
export class S3Store implements Store {
  readonly bucket: string;
  /** The key prefix without leading or trailing `/` (`""` for the bucket root). */
  readonly prefix: string;
  /** The endpoint given to the constructor, if any. */
  readonly endpoint: string | undefined;
  /** The region given to the constructor, if any. */
  readonly region: string | undefined;
  /** Whether path-style addressing was requested. */
  readonly forcePathStyle: boolean | undefined;

  readonly #root: string;
  readonly #label: string;
  readonly #ownsClient: boolean;
  readonly #config: S3ClientConfig;
  #client: S3Client | undefined;

  constructor(options: S3StoreOptions) {
    if (typeof options?.bucket !== "string" || options.bucket === "") {
      throw new TypeError("S3Store: bucket must be a non-empty string");
    }
    this.bucket = options.bucket;
    this.prefix = normalizeKeyPrefix(options.prefix);
    this.#root = this.prefix === "" ? "" : `${this.prefix}/`;
    this.endpoint = options.endpoint;
    this.region = options.region;
    this.forcePathStyle = options.forcePathStyle;
    this.#label = `S3Store(s3://${this.bucket}${this.prefix === "" ? "" : `/${this.prefix}`})`;
    this.#client = options.client;
    this.#ownsClient = options.client === undefined;
    const config: S3ClientConfig = {};
    if (options.region !== undefined) config.region = options.region;
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle;
    if (options.credentials !== undefined) config.credentials = options.credentials;
    this.#config = config;
  }

  async #sdk(): Promise<{ client: S3Client; sdk: Sdk }> {
    const mod = await sdk();
    this.#client ??= new mod.S3Client(this.#config);
    return { client: this.#client, sdk: mod };
  }

  #objectKey(key: string): string {
    assertValidKey(key, this.#label);
    return this.#root + key.slice(1);
  }

  /** Runs a GetObject; `undefined` for NoSuchKey, an empty value for an unsatisfiable range. */
  async #getObject(op: string, key: string, range: string | undefined, opts?: GetOptions) {
    const Key = this.#objectKey(key);
    try {
      const { client, sdk: s } = await this.#sdk();
      const cmd = new s.GetObjectCommand(
        range === undefined ? { Bucket: this.bucket, Key } : { Bucket: this.bucket, Key, Range: range },
      );
      const out = await client.send(cmd, opts?.signal ? { abortSignal: opts.signal } : {});
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      return { body, partial: out.ContentRange !== undefined || out.$metadata.httpStatusCode === 206 };
    } catch (e) {
      const name = errorName(e);
      if (name === "NoSuchKey") return undefined;
      // The object exists but the range starts at or past its end (or it is empty).
      if (range !== undefined && (name === "InvalidRange" || status(e) === 416)) {
        return { body: new Uint8Array(0), partial: true };
      }
      throw new StoreError(this.#label, op, key, e);
    }
  }

  /**
   * Reads a whole object; `undefined` if there is none.
   *
   * @example
   * ```ts
   * const meta = await store.get("/.zgroup");
   * ```
   */
  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    return (await this.#getObject("get", key, undefined, opts))?.body;
  }

  /**
   * Reads a byte range with a ranged GET (`bytes=a-b`, or `bytes=-n` for a suffix).
   *
   * @example
   * ```ts
   * const footer = await store.getRange("/data.zip", { suffixLength: 22 });
   * ```
   */
  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    this.#objectKey(key);
    const header = rangeHeader(range, `${this.#label} getRange ${key}`);
    const want = "suffixLength" in range ? range.suffixLength : range.length;
    const got = await this.#getObject("getRange", key, header, opts);
    if (got === undefined) return undefined;
    if (want === 0) return new Uint8Array(0);
    // A service that ignores Range sends the whole object.
    return got.partial ? got.body.subarray(0, want) : sliceRange(got.body, range, `${this.#label} ${key}`);
  }

  /**
   * Writes an object (PutObject).
   *
   * @example
   * ```ts
   * await store.set("/.zgroup", new TextEncoder().encode('{"zarr_format":2}'));
   * ```
   */
  async set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    const Key = this.#objectKey(key);
    try {
      const { client, sdk: s } = await this.#sdk();
      await client.send(
        new s.PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: value.slice(),
          ContentType: "application/octet-stream",
        }),
      );
    } catch (e) {
      throw new StoreError(this.#label, "set", key, e);
    }
  }

  /**
   * Deletes an object (DeleteObject); deleting a missing key is not an error.
   *
   * @example
   * ```ts
   * await store.delete("/a/0.0");
   * ```
   */
  async delete(key: AbsolutePath): Promise<void> {
    const Key = this.#objectKey(key);
    try {
      const { client, sdk: s } = await this.#sdk();
      await client.send(new s.DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      if (errorName(e) === "NoSuchKey") return;
      throw new StoreError(this.#label, "delete", key, e);
    }
  }

  /**
   * Every key under a path prefix (`/a` lists `/a/…`, not `/ab`), relative to the store's `prefix`,
   * paging through ListObjectsV2. Objects whose names are not valid keys (e.g. "folder" markers
   * ending in `/`) are skipped.
   *
   * @example
   * ```ts
   * for await (const key of store.list("/temperature")) console.log(key);
   * ```
   */
  async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    const p = normalizePrefix(prefix);
    const Prefix = this.#root + p.slice(1);
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        const { client, sdk: s } = await this.#sdk();
        page = await client.send(
          new s.ListObjectsV2Command({
            Bucket: this.bucket,
            ...(Prefix === "" ? {} : { Prefix }),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
      } catch (e) {
        throw new StoreError(this.#label, "list", p, e);
      }
      for (const obj of page.Contents ?? []) {
        if (obj.Key === undefined || !obj.Key.startsWith(this.#root)) continue;
        const key = `/${obj.Key.slice(this.#root.length)}`;
        try {
          assertValidKey(key, this.#label);
        } catch {
          continue;
        }
        yield key;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * Releases the client's connections if the store created it (a client passed in is left alone).
   *
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#ownsClient || this.#client === undefined) return;
    const client = this.#client;
    this.#client = undefined;
    client.destroy();
  }

  /**
   * `S3Store(s3://bucket/prefix)`, used in error messages.
   *
   * @example
   * ```ts
   * String(new S3Store({ bucket: "b", prefix: "/a.zarr/" })); // "S3Store(s3://b/a.zarr)"
   * ```
   */
  toString(): string {
    return this.#label;
  }
}

markTaggedErrors(S3Store);
