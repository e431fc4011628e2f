import { InvalidKeyError, markTaggedErrors } from "./errors.js";
import { type RemoteOptions, RemotePolicy } from "./remote-policy.js";
import type { S3Io } from "./s3-io.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";

// The AWS SDK is an optional peer dependency, loaded on first use: importing `shardedstore` never
// loads it, and installing shardedstore does not install it. The requests themselves (s3-io.ts) load
// on a store's first request too, so apps that never use S3 do not carry them.
let givenSdk: object | undefined;

/**
 * Hands S3Store the AWS SDK module when it cannot be found by name at run time (a browser bundle:
 * the SDK is an optional peer, imported by a specifier bundlers do not follow). Node needs nothing:
 * `npm install @aws-sdk/client-s3` is enough.
 *
 * @example
 * ```ts
 * import { useS3Sdk } from "shardedstore";
 * useS3Sdk(await import("@aws-sdk/client-s3"));
 * ```
 */
export function useS3Sdk(module: object): void {
  const m = module as Partial<Record<string, unknown>>;
  if (typeof m.S3Client !== "function" || typeof m.GetObjectCommand !== "function") {
    throw new TypeError(
      "useS3Sdk: give the @aws-sdk/client-s3 module (it has S3Client and GetObjectCommand)",
    );
  }
  givenSdk = module;
}

/**
 * Credentials for {@link S3Store}: keys, or a function giving them (the AWS SDK's credential
 * providers, e.g. `fromIni()` of `@aws-sdk/credential-providers`, are such functions).
 *
 * @example
 * ```ts
 * const c: S3Credentials = { accessKeyId: "AKIA…", secretAccessKey: "…" };
 * ```
 */
export type S3Credentials =
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>);

/**
 * What {@link S3Store} needs of a client: an `S3Client` of `@aws-sdk/client-s3` is one.
 *
 * @example
 * ```ts
 * import { S3Client } from "@aws-sdk/client-s3";
 * const client: S3ClientLike = new S3Client({ region: "eu-west-1" });
 * ```
 */
export interface S3ClientLike {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

/**
 * Options of {@link S3Store}. Either pass a ready `client`, or the members to build one
 * (`region`, `endpoint`, `forcePathStyle`, `credentials`; anything left out comes from the AWS SDK's
 * usual environment/config lookup). `timeout`, `retries` and `concurrency` govern every request
 * (see docs/remote.md); a client the store builds makes one attempt per request and lets the store
 * retry, a client passed in keeps its own retry settings too.
 *
 * @example
 * ```ts
 * const opts: S3StoreOptions = { bucket: "my-bucket", prefix: "data/a.zarr", region: "eu-west-1", timeout: 10_000 };
 * ```
 */
export interface S3StoreOptions extends RemoteOptions {
  bucket: string;
  /** Object-key prefix the store lives under (`"data/a.zarr"`); leading/trailing `/` are ignored. */
  prefix?: string;
  /** A client to use (an `S3Client`); the store never destroys a client it did not create. */
  client?: S3ClientLike;
  region?: string;
  /** An S3-compatible endpoint, e.g. `http://127.0.0.1:9000` for MinIO. */
  endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  forcePathStyle?: boolean;
  credentials?: S3Credentials;
}

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

  /** Timeout, retries and the cap on requests in flight (see {@link RemoteOptions}). */
  readonly policy: RemotePolicy;

  readonly #root: string;
  readonly #label: string;
  /** The options as given (the client, or its settings: made with the first request). */
  readonly #options: S3StoreOptions;
  #io: Promise<S3Io> | undefined;

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
    this.policy = new RemotePolicy(options, this.#label);
    this.#options = { ...options }; // later changes to the caller's object do not reach the client
  }

  /** The working half (s3-io.ts), loaded on the first request. */
  #use(): Promise<S3Io> {
    this.#io ??= import("./s3-io.js").then(
      ({ S3Io }) =>
        new S3Io({
          bucket: this.bucket,
          root: this.#root,
          label: this.#label,
          policy: this.policy,
          options: this.#options,
          ownsClient: this.#options.client === undefined,
          givenSdk: () => givenSdk,
          client: this.#options.client,
        }),
      (e: unknown) => {
        this.#io = undefined; // a chunk that failed to load is fetched again on the next request
        throw e;
      },
    );
    return this.#io;
  }

  /**
   * Reads a whole object; `undefined` if there is none. A body shorter than its Content-Length is
   * retried, then an error.
   *
   * @example
   * ```ts
   * const meta = await store.get("/.zgroup");
   * ```
   */
  get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    return this.#use().then((io) => io.get(key, opts));
  }

  /**
   * Reads a byte range with a ranged GET (`bytes=a-b`, or `bytes=-n` for a suffix). The answer's
   * `Content-Range` must prove it holds the asked bytes (see docs/remote.md); anything else is an
   * error, never data.
   *
   * @example
   * ```ts
   * const footer = await store.getRange("/data.zip", { suffixLength: 22 });
   * ```
   */
  getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    return this.#use().then((io) => io.getRange(key, range, opts));
  }

  /**
   * The last `length` bytes of an object and its size, from one ranged GET (`undefined` when it is
   * missing). `ZipStore` uses it to read a zip in a bucket by signed range requests.
   *
   * @example
   * ```ts
   * const t = await store.tail("/data.zip", 22); // { bytes, size }
   * ```
   */
  tail(
    key: AbsolutePath,
    length: number,
    opts?: GetOptions,
  ): Promise<{ bytes: Uint8Array; size: number } | undefined> {
    return this.#use().then((io) => io.tail(key, length, opts));
  }

  /**
   * The size of an object (HeadObject); `undefined` if there is none.
   *
   * @example
   * ```ts
   * const n = await store.size("/data.zip");
   * ```
   */
  size(key: AbsolutePath, opts?: GetOptions): Promise<number | undefined> {
    return this.#use().then((io) => io.size(key, opts));
  }

  /**
   * Writes an object (PutObject).
   *
   * @example
   * ```ts
   * await store.set("/.zgroup", new TextEncoder().encode('{"zarr_format":2}'));
   * ```
   */
  set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    return this.#use().then((io) => io.set(key, value));
  }

  /**
   * Writes one object of `length` bytes read part by part through `read(start, end)`, so a large
   * value (a zip built in a temporary file) is never held whole in memory: one PutObject up to
   * `partSize` bytes (default 16 MiB), a multipart upload above it (parts of `partSize`, grown to
   * stay within S3's 10,000 parts). Each request runs under the store's policy (timeout and retries
   * per part); the object appears only once complete, and a failed multipart upload is aborted.
   *
   * @example
   * ```ts
   * const bytes = new Uint8Array(1 << 20);
   * await store.upload("/data.zarr.zip", bytes.length, async (start: number, end: number) => bytes.subarray(start, end));
   * ```
   */
  upload(
    key: AbsolutePath,
    length: number,
    read: (start: number, end: number) => Promise<Uint8Array>,
    options: { partSize?: number } = {},
  ): Promise<void> {
    return this.#use().then((io) => io.upload(key, length, read, options));
  }

  /**
   * Deletes an object (DeleteObject); deleting a missing key is not an error.
   *
   * @example
   * ```ts
   * await store.delete("/a/0.0");
   * ```
   */
  delete(key: AbsolutePath): Promise<void> {
    return this.#use().then((io) => io.delete(key));
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
    yield* (await this.#use()).list(prefix);
  }

  /**
   * {@link S3Store.list} with each object's size, from the same ListObjectsV2 pages (no request
   * per object).
   *
   * @example
   * ```ts
   * for await (const { key, size } of store.listSized("/")) console.log(key, size);
   * ```
   */
  async *listSized(prefix?: AbsolutePath): AsyncIterable<{ key: AbsolutePath; size: number }> {
    yield* (await this.#use()).listSized(prefix);
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
    if (this.#io !== undefined) await (await this.#io).close();
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
