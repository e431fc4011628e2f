import { markTaggedErrors, StoreError } from "./errors.js";
import { FULL_BODY_LIMIT, type HttpContext, loadHttpRead, redactUrl } from "./http-byte-source.js";
import type { FetchIo } from "./http-read.js";
import { assertValidKey } from "./keys.js";
import { sliceRange } from "./range.js";
import { type RemoteOptions, RemotePolicy } from "./remote-policy.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";

/**
 * Options of {@link FetchStore}.
 *
 * @example
 * ```ts
 * const opts: FetchStoreOptions = { headers: { Authorization: "Bearer …" }, missingStatuses: [403, 404] };
 * ```
 */
export interface FetchStoreOptions extends RemoteOptions {
  /** The `fetch` to use (default: `globalThis.fetch`, looked up on each request). */
  fetch?: typeof globalThis.fetch;
  /** Headers sent with every request (after `overrides.headers`, before `Range`). */
  headers?: HeadersInit;
  /** Extra `RequestInit` members for every request (credentials, mode, cache…). */
  overrides?: RequestInit;
  /** Allow `set` (HTTP PUT) and `delete` (HTTP DELETE). Default `false`: the store is read-only. */
  writable?: boolean;
  /**
   * Response statuses that mean "no such key" (default `[404]`). Use `[403, 404]` for an S3 bucket
   * served over plain HTTP without `s3:ListBucket`, which answers 403 for a missing object.
   */
  missingStatuses?: readonly number[];
  /**
   * The most bytes of whole values kept when the server ignores `Range` (default 64 MiB): such a
   * value is downloaded once and later ranges of it are sliced locally; a larger value is an error.
   */
  fullBodyLimit?: number;
}

/**
 * A store over HTTP(S) with `fetch` (isomorphic: Node ≥ 20 and browsers). Key `/a/.zarray` is
 * `${url}/a/.zarray` (each segment percent-encoded; a query string on `url`, e.g. a signature, is
 * kept on every request). A 404 is a missing key; byte ranges use `Range` requests, and servers
 * that ignore `Range` still work (the full body is sliced locally).
 *
 * There is no `list`: plain HTTP cannot enumerate keys. Read-only unless constructed with
 * `{ writable: true }`, which adds `set` (PUT) and `delete` (DELETE; a 404 is not an error).
 *
 * @example
 * ```ts
 * import * as zarr from "zarrita";
 * import { FetchStore } from "shardedstore";
 * const store = new FetchStore("https://example.com/data/single.zarr");
 * const arr = await zarr.open(zarr.root(store).resolve("observations/stations/temperature"), { kind: "array" });
 * const { data } = await zarr.get(arr);
 * ```
 */
export class FetchStore implements Store {
  /** The base URL, without a trailing `/` (and with its query string, if it had one). */
  readonly url: string;
  /** Whether `set` and `delete` are available. */
  readonly writable: boolean;
  /** Response statuses read as a missing key. */
  readonly missingStatuses: readonly number[];
  /** Timeout, retries and the cap on requests in flight (see {@link RemoteOptions}). */
  readonly policy: RemotePolicy;
  /** The most bytes of whole values kept for a server that ignores `Range`. */
  readonly fullBodyLimit: number;
  /**
   * Writes `value` with an HTTP PUT. Present only when constructed with `{ writable: true }`.
   *
   * @example
   * ```ts
   * await new FetchStore(url, { writable: true }).set?.("/a/.zgroup", bytes);
   * ```
   */
  declare readonly set?: (key: AbsolutePath, value: Uint8Array) => Promise<void>;
  /**
   * Deletes with an HTTP DELETE (a 404 is not an error). Present only when `{ writable: true }`.
   *
   * @example
   * ```ts
   * await new FetchStore(url, { writable: true }).delete?.("/a/.zgroup");
   * ```
   */
  declare readonly delete?: (key: AbsolutePath) => Promise<void>;

  readonly #base: string;
  readonly #search: string;
  readonly #fetch: typeof globalThis.fetch | undefined;
  readonly #headers: HeadersInit | undefined;
  readonly #overrides: RequestInit;
  readonly #missing: ReadonlySet<number>;
  readonly #label: string;
  readonly #ctx: HttpContext;
  #io: FetchIo | undefined;

  constructor(url: string | URL, options: FetchStoreOptions = {}) {
    const href = url instanceof URL ? url.href : url;
    if (typeof href !== "string" || href === "")
      throw new TypeError("FetchStore: url must be a non-empty URL");
    // The fragment never reaches the server; the query string goes after the key's path.
    const noHash = href.split("#", 1)[0] ?? "";
    const q = noHash.indexOf("?");
    this.#base = (q === -1 ? noHash : noHash.slice(0, q)).replace(/\/+$/, "");
    this.#search = q === -1 ? "" : noHash.slice(q);
    this.url = this.#base + this.#search;
    this.#fetch = options.fetch;
    this.#headers = options.headers;
    this.#overrides = options.overrides ?? {};
    this.#missing = new Set(options.missingStatuses ?? [404]);
    this.missingStatuses = [...this.#missing];
    this.writable = options.writable === true;
    this.#label = `FetchStore(${redactUrl(this.url)})`;
    this.policy = new RemotePolicy(options, this.#label);
    this.fullBodyLimit = options.fullBodyLimit ?? FULL_BODY_LIMIT;
    this.#ctx = {
      fetch: () => this.#fetch ?? globalThis.fetch,
      policy: this.policy,
      missing: this.#missing,
      init: (h) => this.#init({ ...h }),
      fullBodyLimit: this.fullBodyLimit,
    };
    if (this.writable) {
      this.set = (key, value) => this.#write("set", key, value.slice());
      this.delete = (key) => this.#write("delete", key);
    }
  }

  /** The URL of `key` (validated). */
  #resolve(key: string): string {
    assertValidKey(key, this.#label);
    const path = key.slice(1).split("/").map(encodeURIComponent).join("/");
    return `${this.#base}/${path}${this.#search}`;
  }

  /** The request init for every request: overrides, then the store's headers, then `extra`. */
  #init(extra: Record<string, string>): RequestInit {
    const headers = new Headers(this.#overrides.headers);
    if (this.#headers) {
      new Headers(this.#headers).forEach((v, k) => {
        headers.set(k, v);
      });
    }
    for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    return { ...this.#overrides, headers };
  }

  /** A failure as a StoreError naming the store and key (a caller's abort is its `cause`). */
  #wrap(op: string, key: string, e: unknown): unknown {
    return e instanceof StoreError ? e : new StoreError(this.#label, op, key, e);
  }

  /**
   * Reads a whole value; `undefined` when the server answers 404 (or another `missingStatuses`).
   * A body shorter or longer than its `Content-Length` is an error (retried first).
   *
   * @example
   * ```ts
   * const meta = await store.get("/.zgroup", { signal: AbortSignal.timeout(5000) });
   * ```
   */
  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const url = this.#resolve(key);
    const signal = opts?.signal ?? this.#overrides.signal ?? undefined;
    try {
      return await (await this.#use()).get(url, signal);
    } catch (e) {
      throw this.#wrap("get", key, e);
    }
  }

  /**
   * Reads a byte range with an HTTP `Range` request (`bytes=a-b`, or `bytes=-n` for a suffix). A 206
   * is used only when its `Content-Range` proves it holds the asked bytes and its body is as long
   * as that header says; a server that ignores `Range` (200) costs one whole download, kept (up to
   * `fullBodyLimit`) so later ranges of the same key are sliced locally.
   *
   * @example
   * ```ts
   * const tail = await store.getRange("/data.zip", { suffixLength: 22 });
   * ```
   */
  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const url = this.#resolve(key);
    const where = `${this.#label} getRange ${key}`;
    sliceRange(new Uint8Array(0), range, where); // validates the range before any request
    const signal = opts?.signal ?? this.#overrides.signal ?? undefined;
    let io: FetchIo;
    try {
      io = await this.#use();
    } catch (e) {
      throw this.#wrap("getRange", key, e);
    }
    return io.getRange(url, key, range, where, signal, (e) => this.#wrap("getRange", key, e));
  }

  /**
   * The last `length` bytes of a value and its size, from one suffix request (`undefined` when the
   * key is missing). `ZipStore` uses it to read an archive through this store.
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
    const url = this.#resolve(key);
    const signal = opts?.signal ?? this.#overrides.signal ?? undefined;
    let io: FetchIo;
    try {
      io = await this.#use();
    } catch (e) {
      throw this.#wrap("tail", key, e);
    }
    return io.tail(url, key, length, this.#label, signal, (e) => this.#wrap("tail", key, e));
  }

  /** The requests' code (http-read.ts), loaded on the first request, with this store's kept values. */
  async #use(): Promise<FetchIo> {
    this.#io ??= new (await loadHttpRead()).FetchIo(this.#ctx);
    return this.#io;
  }

  /** A PUT of `body` (a copy the caller cannot change) or a DELETE, under the policy (http-read.ts). */
  async #write(op: "set" | "delete", key: AbsolutePath, body?: Uint8Array<ArrayBuffer>): Promise<void> {
    const url = this.#resolve(key);
    try {
      await (await this.#use()).write(op, url, key, body);
    } catch (e) {
      throw this.#wrap(op, key, e);
    }
  }

  /**
   * Nothing to release (connections belong to `fetch`).
   *
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  async close(): Promise<void> {}

  /**
   * `FetchStore(<url>)`, used in error messages.
   *
   * @example
   * ```ts
   * String(new FetchStore("http://localhost:8080/a.zarr/")); // "FetchStore(http://localhost:8080/a.zarr)"
   * ```
   */
  toString(): string {
    return this.#label;
  }
}

markTaggedErrors(FetchStore);
