// The working half of S3Store (s3-store.ts), loaded on its first request so that apps that never
// touch S3 do not carry it: the AWS SDK loader, requests under the store's RemotePolicy, error mapping.
import { StoreError } from "./errors.js";
import { assertValidKey, normalizePrefix } from "./keys.js";
import { sliceRange } from "./range.js";
import { checkRangeResponse, parseContentRange, rangeHeader } from "./range-response.js";
import { type RemotePolicy, TransientError } from "./remote-policy.js";
import type { S3ClientLike, S3StoreOptions } from "./s3-store.js";
import type { AbsolutePath, GetOptions, RangeQuery } from "./types.js";

// The AWS SDK is an optional peer dependency, loaded on first use: importing `shardedstore` never
// loads it, and installing shardedstore does not install it.
type Sdk = typeof import("@aws-sdk/client-s3");
const SDK = "@aws-sdk/client-s3";
let sdkPromise: Promise<Sdk> | undefined;
const sdk = (given: object | undefined): Promise<Sdk> => {
  if (given !== undefined) return Promise.resolve(given as Sdk);
  sdkPromise ??= (import(/* @vite-ignore */ SDK) as Promise<Sdk>).catch((e: unknown) => {
    sdkPromise = undefined;
    const code = (e as { code?: string } | null)?.code;
    const missing =
      code === "ERR_MODULE_NOT_FOUND" || /Cannot find (package|module)|Failed to resolve/i.test(String(e));
    if (!missing) throw e;
    throw new Error(
      `S3Store needs the AWS SDK, an optional peer dependency of shardedstore: run \`npm install ${SDK}\``,
      { cause: e },
    );
  });
  return sdkPromise;
};

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const errorName = (e: unknown): string | undefined => {
  const err = e as SdkError | null;
  return typeof err === "object" && err !== null ? (err.Code ?? err.name) : undefined;
};
const status = (e: unknown): number | undefined =>
  typeof e === "object" && e !== null ? (e as SdkError).$metadata?.httpStatusCode : undefined;

const TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "InternalError",
  "ServiceUnavailable",
]);

/** Whether an SDK failure is worth another attempt (5xx, 429, throttling, timeouts, resets). */
function isTransient(e: unknown): boolean {
  const st = status(e);
  if (st !== undefined && (st >= 500 || st === 429 || st === 408)) return true;
  const name = errorName(e);
  if (name !== undefined && TRANSIENT_NAMES.has(name)) return true;
  const err = e as SdkError | null;
  if (typeof err === "object" && err !== null && err.$retryable !== undefined) return true;
  const code = err?.code;
  return typeof code === "string" && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN)$/.test(code);
}

/** Resolves with `p`, or rejects with the signal's reason once it aborts. */
function raced<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/** What an S3Store hands its working half: its settings, and its client once made. */
/** The part size of {@link S3Io.upload}: one PutObject up to it, a multipart upload above. */
export const UPLOAD_PART_SIZE = 16 << 20;
/** S3 accepts at most this many parts in one multipart upload. */
const MAX_PARTS = 10_000;

export interface S3State {
  readonly bucket: string;
  /** `""` or `"prefix/"`. */
  readonly root: string;
  readonly label: string;
  readonly policy: RemotePolicy;
  /** The store's options: the S3Client's settings, when the store makes the client. */
  readonly options: Pick<S3StoreOptions, "region" | "endpoint" | "forcePathStyle" | "credentials">;
  readonly ownsClient: boolean;
  /** The module given to `useS3Sdk`, if any. */
  readonly givenSdk: () => object | undefined;
  client: S3ClientLike | undefined;
}

/**
 * The requests of one S3Store (its public methods delegate here).
 *
 * @example
 * ```ts
 * const io = new S3Io(state);
 * const bytes = await io.get("/.zgroup");
 * ```
 */
export class S3Io {
  readonly #s: S3State;

  constructor(state: S3State) {
    this.#s = state;
  }

  async #sdk(): Promise<{ client: S3ClientLike; sdk: Sdk }> {
    const mod = await sdk(this.#s.givenSdk());
    if (this.#s.client === undefined) {
      const o = this.#s.options;
      const timeout = this.#s.policy.timeout;
      // One attempt per request, failing (not only warning) on a stalled socket: the store retries.
      const config: Record<string, unknown> = {
        maxAttempts: 1,
        requestHandler: { requestTimeout: timeout, connectionTimeout: timeout, throwOnRequestTimeout: true },
      };
      for (const k of ["region", "endpoint", "forcePathStyle", "credentials"] as const) {
        if (o[k] !== undefined) config[k] = o[k];
      }
      this.#s.client = new mod.S3Client(config) as S3ClientLike;
    }
    return { client: this.#s.client, sdk: mod };
  }

  #objectKey(key: string): string {
    assertValidKey(key, this.#s.label);
    return this.#s.root + key.slice(1);
  }

  /**
   * Sends a command built by `make` under the store's policy; `read` turns its output into the
   * result inside the attempt (so a stalled body times out too). SDK failures worth a retry are
   * retried; `handle` may map an SDK error to a result (e.g. NoSuchKey → undefined).
   */
  async #send<T>(
    make: (s: Sdk) => unknown,
    read: (out: unknown, signal: AbortSignal) => Promise<T> | T,
    handle: (e: unknown) => { value: T } | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    const { client, sdk: s } = await this.#sdk();
    return this.#s.policy.run(async (attempt) => {
      let out: unknown;
      try {
        out = await client.send(make(s), { abortSignal: attempt });
        return await read(out, attempt);
      } catch (e) {
        const handled = handle(e);
        if (handled) return handled.value;
        if (!attempt.aborted && isTransient(e)) {
          throw new TransientError(e instanceof Error ? e.message : String(e), { cause: e });
        }
        throw e;
      }
    }, signal);
  }

  /** The bytes of a GetObject output, read under `signal`, checked against its Content-Length. */
  async #body(out: unknown, signal: AbortSignal): Promise<Uint8Array> {
    const o = out as {
      Body?: { transformToByteArray(): Promise<Uint8Array>; destroy?: () => void };
      ContentLength?: number;
    };
    if (!o.Body) return new Uint8Array(0);
    const body = await raced(o.Body.transformToByteArray(), signal, () => o.Body?.destroy?.());
    if (o.ContentLength !== undefined && body.byteLength !== o.ContentLength) {
      throw new TransientError(
        `the body has ${body.byteLength} bytes, not the ${o.ContentLength} of its Content-Length`,
      );
    }
    return body;
  }

  #fail(op: string, key: string, e: unknown): StoreError {
    return e instanceof StoreError ? e : new StoreError(this.#s.label, op, key, e);
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
  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const Key = this.#objectKey(key);
    try {
      return await this.#send<Uint8Array | undefined>(
        (s) => new s.GetObjectCommand({ Bucket: this.#s.bucket, Key }),
        (out, signal) => this.#body(out, signal),
        (e) => (errorName(e) === "NoSuchKey" ? { value: undefined } : undefined),
        opts?.signal,
      );
    } catch (e) {
      throw this.#fail("get", key, e);
    }
  }

  /** A ranged GetObject, checked: the asked bytes and the object's size (when the answer says it). */
  async #ranged(
    op: string,
    key: AbsolutePath,
    range: RangeQuery,
    signal?: AbortSignal,
  ): Promise<{ bytes: Uint8Array; size: number | undefined } | undefined> {
    const Key = this.#objectKey(key);
    const header = rangeHeader(range, `${this.#s.label} ${op} ${key}`);
    const empty = "offset" in range ? range.length === 0 : range.suffixLength === 0;
    try {
      return await this.#send(
        (s) => new s.GetObjectCommand({ Bucket: this.#s.bucket, Key, Range: header }),
        async (out, sig) => {
          const o = out as { ContentRange?: string; $metadata?: { httpStatusCode?: number } };
          const body = await this.#body(out, sig);
          const partial = o.ContentRange !== undefined || o.$metadata?.httpStatusCode === 206;
          // A service that ignores Range sends the whole object.
          if (!partial) return { bytes: sliceRange(body, range, this.#s.label), size: body.byteLength };
          const size = parseContentRange(o.ContentRange)?.total;
          if (empty) return { bytes: new Uint8Array(0), size };
          const check = checkRangeResponse(range, o.ContentRange, body.byteLength);
          if (!check.ok) throw check.transient ? new TransientError(check.reason) : new Error(check.reason);
          return { bytes: body.subarray(check.from, check.to), size };
        },
        (e) => {
          if (errorName(e) === "NoSuchKey") return { value: undefined };
          // The object exists but the range starts at or past its end (or it is empty).
          if (errorName(e) === "InvalidRange" || status(e) === 416) {
            const n = Number((e as { ActualObjectSize?: unknown }).ActualObjectSize ?? Number.NaN);
            return { value: { bytes: new Uint8Array(0), size: Number.isSafeInteger(n) ? n : undefined } };
          }
          return undefined;
        },
        signal,
      );
    } catch (e) {
      throw this.#fail(op, key, e);
    }
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
  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    return (await this.#ranged("getRange", key, range, opts?.signal))?.bytes;
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
  async tail(
    key: AbsolutePath,
    length: number,
    opts?: GetOptions,
  ): Promise<{ bytes: Uint8Array; size: number } | undefined> {
    const got = await this.#ranged("tail", key, { suffixLength: length }, opts?.signal);
    if (got === undefined) return undefined;
    if (got.size === undefined) {
      const size = await this.size(key, opts);
      if (size === undefined) return undefined;
      return { bytes: got.bytes, size };
    }
    return { bytes: got.bytes, size: got.size };
  }

  /**
   * The size of an object (HeadObject); `undefined` if there is none.
   *
   * @example
   * ```ts
   * const n = await store.size("/data.zip");
   * ```
   */
  async size(key: AbsolutePath, opts?: GetOptions): Promise<number | undefined> {
    const Key = this.#objectKey(key);
    try {
      return await this.#send<number | undefined>(
        (s) => new s.HeadObjectCommand({ Bucket: this.#s.bucket, Key }),
        (out) => (out as { ContentLength?: number }).ContentLength ?? 0,
        (e) => (errorName(e) === "NotFound" || status(e) === 404 ? { value: undefined } : undefined),
        opts?.signal,
      );
    } catch (e) {
      throw this.#fail("size", key, e);
    }
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
    const Body = value.slice();
    try {
      await this.#put(Key, Body);
    } catch (e) {
      throw this.#fail("set", key, e);
    }
  }

  /** One PutObject of `Body` at object key `Key`, under the store's policy. */
  #put(Key: string, Body: Uint8Array): Promise<void> {
    return this.#send(
      (s) =>
        new s.PutObjectCommand({
          Bucket: this.#s.bucket,
          Key,
          Body,
          ContentType: "application/octet-stream",
        }),
      () => undefined,
      () => undefined,
    );
  }

  /** Writes one object of `length` bytes read part by part (see {@link S3Store.upload}). */
  async upload(
    key: AbsolutePath,
    length: number,
    read: (start: number, end: number) => Promise<Uint8Array>,
    options: { partSize?: number } = {},
  ): Promise<void> {
    const Key = this.#objectKey(key);
    const size = Math.max(options.partSize ?? UPLOAD_PART_SIZE, Math.ceil(length / MAX_PARTS));
    try {
      if (length <= size) {
        const Body = await read(0, length);
        await this.#put(Key, Body);
        return;
      }
      const created = await this.#send(
        (s) => new s.CreateMultipartUploadCommand({ Bucket: this.#s.bucket, Key }),
        (out) => (out as { UploadId?: string }).UploadId,
        () => undefined,
      );
      if (created === undefined) throw new Error("CreateMultipartUpload gave no UploadId");
      const UploadId = created;
      try {
        const Parts: { ETag: string; PartNumber: number }[] = [];
        for (let start = 0, n = 1; start < length; start += size, n++) {
          const Body = await read(start, Math.min(length, start + size));
          const PartNumber = n;
          const ETag = await this.#send(
            (s) => new s.UploadPartCommand({ Bucket: this.#s.bucket, Key, UploadId, PartNumber, Body }),
            (out) => (out as { ETag?: string }).ETag,
            () => undefined,
          );
          if (ETag === undefined) throw new Error(`UploadPart ${PartNumber} gave no ETag`);
          Parts.push({ ETag, PartNumber });
        }
        await this.#send(
          (s) =>
            new s.CompleteMultipartUploadCommand({
              Bucket: this.#s.bucket,
              Key,
              UploadId,
              MultipartUpload: { Parts },
            }),
          () => undefined,
          () => undefined,
        );
      } catch (e) {
        await this.#send(
          (s) => new s.AbortMultipartUploadCommand({ Bucket: this.#s.bucket, Key, UploadId }),
          () => undefined,
          () => ({ value: undefined }),
        ).catch(() => {});
        throw e;
      }
    } catch (e) {
      throw this.#fail("upload", key, e);
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
      await this.#send(
        (s) => new s.DeleteObjectCommand({ Bucket: this.#s.bucket, Key }),
        () => undefined,
        (e) => (errorName(e) === "NoSuchKey" ? { value: undefined } : undefined),
      );
    } catch (e) {
      throw this.#fail("delete", key, e);
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
    for await (const { key } of this.listSized(prefix)) yield key;
  }

  /** {@link S3Io.list} with each object's size, from the same ListObjectsV2 pages. */
  async *listSized(prefix?: AbsolutePath): AsyncIterable<{ key: AbsolutePath; size: number }> {
    const p = normalizePrefix(prefix);
    const Prefix = this.#s.root + p.slice(1);
    let token: string | undefined;
    do {
      let page: {
        Contents?: { Key?: string; Size?: number }[];
        IsTruncated?: boolean;
        NextContinuationToken?: string;
      };
      const ContinuationToken = token;
      try {
        page = await this.#send(
          (s) =>
            new s.ListObjectsV2Command({
              Bucket: this.#s.bucket,
              ...(Prefix === "" ? {} : { Prefix }),
              ...(ContinuationToken === undefined ? {} : { ContinuationToken }),
            }),
          (out) => out as typeof page,
          () => undefined,
        );
      } catch (e) {
        throw this.#fail("list", p, e);
      }
      for (const obj of page.Contents ?? []) {
        if (obj.Key === undefined || !obj.Key.startsWith(this.#s.root)) continue;
        const key = `/${obj.Key.slice(this.#s.root.length)}`;
        try {
          assertValidKey(key, this.#s.label);
        } catch {
          continue;
        }
        yield { key, size: obj.Size ?? 0 };
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
    if (!this.#s.ownsClient || this.#s.client === undefined) return;
    const client = this.#s.client;
    this.#s.client = undefined;
    client.destroy();
  }
}
