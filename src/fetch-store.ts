import { markTaggedErrors, StoreError } from "./errors.js";
import { assertValidKey } from "./keys.js";
import { rangeHeader, sliceRange } from "./range.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";

/**
 * Options of {@link FetchStore}.
 *
 * @example
 * ```ts
 * const opts: FetchStoreOptions = { headers: { Authorization: "Bearer …" }, missingStatuses: [403, 404] };
 * ```
 */
export interface FetchStoreOptions {
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
}

/** Parses `Content-Range: bytes a-b/size` (size may be `*`). */
function contentRange(header: string | null): { start: number; size: number | undefined } | undefined {
  const m = header === null ? null : /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), size: m[2] === "*" ? undefined : Number(m[2]) };
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
    this.#label = `FetchStore(${redact(this.url)})`;
    if (this.writable) {
      this.set = (key, value) => this.#put(key, value);
      this.delete = (key) => this.#delete(key);
    }
  }

  /** The URL of `key` (validated). */
  #resolve(key: string): string {
    assertValidKey(key, this.#label);
    const path = key.slice(1).split("/").map(encodeURIComponent).join("/");
    return `${this.#base}/${path}${this.#search}`;
  }

  async #request(
    op: string,
    key: string,
    url: string,
    init: {
      method: string;
      headers?: Record<string, string>;
      body?: Uint8Array<ArrayBuffer>;
      signal?: AbortSignal | undefined;
    },
  ): Promise<Response> {
    const headers = new Headers(this.#overrides.headers);
    if (this.#headers) {
      new Headers(this.#headers).forEach((v, k) => {
        headers.set(k, v);
      });
    }
    for (const [k, v] of Object.entries(init.headers ?? {})) headers.set(k, v);
    const req: RequestInit = { ...this.#overrides, method: init.method, headers };
    if (init.body) req.body = init.body;
    const signal = init.signal ?? this.#overrides.signal;
    if (signal) req.signal = signal;
    try {
      return await (this.#fetch ?? globalThis.fetch)(url, req);
    } catch (e) {
      throw new StoreError(this.#label, op, key, e);
    }
  }

  #fail(op: string, key: string, url: string, res: Response): never {
    void res.body?.cancel().catch(() => {});
    const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
    throw new StoreError(this.#label, op, key, new Error(`${status} from ${redact(url)}`));
  }

  async #bytes(op: string, key: string, res: Response): Promise<Uint8Array> {
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new StoreError(this.#label, op, key, e);
    }
  }

  /**
   * Reads a whole value; `undefined` when the server answers 404 (or another `missingStatuses`).
   *
   * @example
   * ```ts
   * const meta = await store.get("/.zgroup", { signal: AbortSignal.timeout(5000) });
   * ```
   */
  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const url = this.#resolve(key);
    const res = await this.#request("get", key, url, { method: "GET", signal: opts?.signal });
    if (this.#missing.has(res.status)) {
      void res.body?.cancel().catch(() => {});
      return undefined;
    }
    if (!res.ok) this.#fail("get", key, url, res);
    return this.#bytes("get", key, res);
  }

  /**
   * Reads a byte range with an HTTP `Range` request (`bytes=a-b`, or `bytes=-n` for a suffix).
   *
   * @example
   * ```ts
   * const tail = await store.getRange("/data.zip", { suffixLength: 22 });
   * ```
   */
  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const url = this.#resolve(key);
    const header = rangeHeader(range, `${this.#label} getRange ${key}`);
    const want = "suffixLength" in range ? range.suffixLength : range.length;
    const res = await this.#request("getRange", key, url, {
      method: "GET",
      headers: { Range: header },
      signal: opts?.signal,
    });
    if (this.#missing.has(res.status)) {
      void res.body?.cancel().catch(() => {});
      return undefined;
    }
    // 416: the key exists but the range starts past its end (or it is empty).
    if (res.status === 416) {
      void res.body?.cancel().catch(() => {});
      return new Uint8Array(0);
    }
    if (!res.ok) this.#fail("getRange", key, url, res);
    if (want === 0) {
      void res.body?.cancel().catch(() => {});
      return new Uint8Array(0);
    }
    const body = await this.#bytes("getRange", key, res);
    // 200: the server ignored Range and sent everything.
    if (res.status !== 206) return sliceRange(body, range, `${this.#label} getRange ${key}`);
    const got = contentRange(res.headers.get("Content-Range"));
    if (got === undefined) return body.subarray(0, want);
    // Trust but verify: a server may send a wider range than asked; cut out what was requested.
    const start =
      "suffixLength" in range
        ? got.size === undefined
          ? got.start
          : Math.max(0, got.size - want)
        : range.offset;
    const from = Math.max(0, start - got.start);
    return body.subarray(from, from + want);
  }

  async #put(key: AbsolutePath, value: Uint8Array): Promise<void> {
    const url = this.#resolve(key);
    const res = await this.#request("set", key, url, {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream" },
      body: value.slice(),
    });
    if (!res.ok) this.#fail("set", key, url, res);
    void res.body?.cancel().catch(() => {});
  }

  async #delete(key: AbsolutePath): Promise<void> {
    const url = this.#resolve(key);
    const res = await this.#request("delete", key, url, { method: "DELETE" });
    if (!res.ok && !this.#missing.has(res.status)) this.#fail("delete", key, url, res);
    void res.body?.cancel().catch(() => {});
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

/** A URL for a message: without its query string, which may hold a signature. */
function redact(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}

markTaggedErrors(FetchStore);
