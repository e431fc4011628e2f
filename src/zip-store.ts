import { markTaggedErrors, NotWritableError, ShardedStoreError, StoreError } from "./errors.js";
import { remoteOptionsOf, type UrlSourceOptions, urlByteSource } from "./http-byte-source.js";
import { assertValidKey, normalizePrefix } from "./keys.js";
import { type StoreZipSource, storeByteSource } from "./store-byte-source.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";
import { type ValueInfo, valueInfo } from "./value-info.js";
import type { ZipEntry } from "./zip-format.js";
import type { EntryTable } from "./zip-index.js";
import { entryProblem, notValidZip } from "./zip-limits.js";
import type { EntryReader, ZipSteps } from "./zip-read.js";

// Parsing (zip-read.ts) loads on a store's first read, and fflate's inflate only when an entry is
// deflated: an app that opens no zip, or only stored ones, does not carry them.
type ZipRead = typeof import("./zip-read.js");
let zipRead: Promise<ZipRead> | undefined;
let zipReadLoaded: ZipRead | undefined;
const loadZipRead = (): Promise<ZipRead> => {
  zipRead ??= import("./zip-read.js")
    .then((m) => (zipReadLoaded = m))
    .catch((e: unknown) => {
      zipRead = undefined; // a chunk that failed to load is fetched again on the next read
      throw e;
    });
  return zipRead;
};

/**
 * Random access to the bytes of a zip archive, wherever they are. Reads may throw plain errors;
 * the store wraps them into a `StoreError` naming the archive and the key.
 *
 * @example
 * ```ts
 * const src: ByteSource = { label: "mem", size: async () => 3, read: async (o, n) => bytes.subarray(o, o + n) };
 * ```
 */
export interface ByteSource {
  readonly label: string;
  size(): Promise<number>;
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** The last `length` bytes (fewer for a smaller archive) and the total size, in one request. */
  tail?(length: number, signal?: AbortSignal): Promise<{ bytes: Uint8Array; size: number }>;
  /** Reads are cheap and independent (a local file): read header and data apart, in parallel. */
  readonly parallelReads?: boolean;
  close?(): Promise<void>;
}

/** Bytes in memory. */
function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    label: `ZipStore(<${bytes.byteLength} bytes>)`,
    size: async () => bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** A Blob or File: each read slices it. */
function blobSource(blob: Blob): ByteSource {
  return {
    label: `ZipStore(<Blob ${blob.size} bytes>)`,
    size: async () => blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

/**
 * Options of {@link ZipStore} over a URL: how to fetch, and the remote options (`timeout`, `retries`,
 * `concurrency`, `fullBodyLimit`; see docs/remote.md). Also used for a zip read through a store.
 *
 * @example
 * ```ts
 * new ZipStore("https://example.com/data.zarr.zip", { headers: { Authorization: "Bearer …" }, timeout: 10_000 });
 * ```
 */
export interface ZipStoreOptions extends UrlSourceOptions {}

/**
 * What a ZipStore reads from in browsers and Node alike: bytes, a `Blob`/`File`, or an http(s) URL.
 *
 * @example
 * ```ts
 * const src: ZipSource = new URL("https://example.com/data.zarr.zip");
 * ```
 */
export type ZipSource = Uint8Array | ArrayBuffer | Blob | URL | string | StoreZipSource;

/**
 * A read-only Zarr store in a zip archive (the layout of zarr-python's `ZipStore`: key `/a/.zarray`
 * is entry `a/.zarray`), read from bytes, a `Blob`, or an HTTP(S) URL by range requests. Only the
 * central directory (parsed once, on first access) and the entries asked for are read; `getRange` on
 * a stored entry reads just those bytes. CRC-32s are not checked (speed; Zarr codecs check their
 * own data). Isomorphic; `shardedstore/node` has a `ZipStore` that also reads and writes files.
 *
 * @example
 * ```ts
 * import * as zarr from "zarrita";
 * const store = new ZipStore("https://example.com/data.zarr.zip");
 * const arr = await zarr.open(store, { kind: "array" });
 * ```
 */
export class ZipStore implements Store {
  /** The archive's URL, when read over HTTP. */
  readonly url?: string;
  /** The store and key of the archive, when read through a store (e.g. an `S3Store`). */
  readonly archive?: StoreZipSource;
  /** The remote options given for a URL (`timeout`, `retries`, `concurrency`, `fullBodyLimit`). */
  readonly remoteOptions?: Pick<UrlSourceOptions, "timeout" | "retries" | "concurrency" | "fullBodyLimit">;
  /** Always `"r"` here; the Node `ZipStore` also writes. */
  readonly mode: "r" | "w" | "a" = "r";
  protected source: ByteSource;
  #entries: Promise<EntryTable> | null = null;

  constructor(source: ZipSource, options: ZipStoreOptions = {}) {
    if (source instanceof Uint8Array) this.source = bytesSource(source);
    else if (source instanceof ArrayBuffer) this.source = bytesSource(new Uint8Array(source));
    else if (typeof Blob !== "undefined" && source instanceof Blob) this.source = blobSource(source);
    else if (source instanceof URL || (typeof source === "string" && /^https?:\/\//i.test(source))) {
      const url = String(source);
      if (!/^https?:\/\//i.test(url)) {
        throw new TypeError(
          `ZipStore: cannot read ${JSON.stringify(url)}: only http(s) URLs (files need shardedstore/node)`,
        );
      }
      this.url = url;
      const label = `ZipStore(${url.replace(/\?.*$/, "?…")})`; // never print query-string credentials
      this.source = urlByteSource(url, label, options);
      this.remoteOptions = remoteOptionsOf(options);
    } else if (typeof source === "object" && source !== null && "store" in source && "key" in source) {
      this.archive = source;
      this.source = storeByteSource(source);
    } else {
      throw new TypeError(
        `ZipStore: cannot read from ${typeof source === "string" ? JSON.stringify(source) : String(source)} (give bytes, a Blob or an http(s) URL; files need shardedstore/node)`,
      );
    }
  }

  /** The entries by name, read once from the central directory. */
  protected entries(): Promise<EntryTable> {
    this.#entries ??= this.readDirectory().catch((e: unknown) => {
      this.#entries = null; // a failed read (network blip) is retried on the next access
      throw e;
    });
    return this.#entries;
  }

  /** Replaces the entries (after writing), or forgets them so the next access rereads the archive. */
  protected resetEntries(entries?: EntryTable): void {
    this.#entries = entries ? Promise.resolve(entries) : null;
  }

  protected async readDirectory(): Promise<EntryTable> {
    return (await loadZipRead()).readDirectory(this.source);
  }

  protected label(): string {
    return this.source.label;
  }

  /**
   * The error to throw for a failure of `op` on `key`: a `StoreError` naming this archive and the
   * key (our own key/write errors and aborts pass through unchanged).
   */
  protected failure(op: string, key: string, err: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted) return err; // callers tell an abort by its own error
    if (err instanceof ShardedStoreError && !(err instanceof StoreError)) return err;
    const cause = err instanceof StoreError && err.cause !== undefined ? err.cause : err;
    return new StoreError(this.label(), op, key, cause);
  }

  #name(key: string): string {
    assertValidKey(key, this.label());
    return key.slice(1);
  }

  /** Refuses, before reading anything, an entry whose claims the archive cannot back. */
  protected checkEntry(e: ZipEntry, table: EntryTable): void {
    const why = entryProblem(e, table.dataEnd);
    if (why !== null) throw notValidZip(why);
  }

  /** Reads an entry's stored (possibly compressed) bytes, learning where its data starts. */
  protected async readRaw(e: ZipEntry, table: EntryTable, signal?: AbortSignal): Promise<Uint8Array> {
    this.checkEntry(e, table);
    return (await loadZipRead()).readRaw(this.#reader(), e, table, signal);
  }

  /** What zip-read.ts needs of this store to read entries. */
  #reader(): EntryReader {
    return { source: this.source, label: this.label(), check: (e, table) => this.checkEntry(e, table) };
  }

  /**
   * Inflates a deflated entry (raw DEFLATE) into exactly `e.size` bytes; a stream of any other
   * length is an error. Never produces more than one byte past the declared size.
   */
  protected inflate(data: Uint8Array, e: ZipEntry): Uint8Array {
    if (zipReadLoaded === undefined) throw new Error("fflate is not loaded"); // decodeEntry loads it first
    return zipReadLoaded.fflateInflate(data, e);
  }

  /**
   * zip-read.ts and this store's steps for its value readers (the protected methods, overrides
   * included); a chunk that fails to load is `op`'s error, as a failed read would be.
   */
  async #read(op: string, key: string, signal?: AbortSignal): Promise<[ZipRead, ZipSteps, boolean]> {
    try {
      // fflate loads for the first deflated entry, unless a subclass inflates its own way (Node: zlib).
      return [await loadZipRead(), this as unknown as ZipSteps, this.inflate === ZipStore.prototype.inflate];
    } catch (err) {
      throw this.failure(op, key, err, signal);
    }
  }

  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const name = this.#name(key);
    const [m, z, builtIn] = await this.#read("get", key, opts?.signal);
    return m.zipGet(z, key, name, builtIn, opts);
  }

  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const name = this.#name(key);
    const [m, z, builtIn] = await this.#read("getRange", key, opts?.signal);
    return m.zipGetRange(z, key, name, range, builtIn, opts);
  }

  /**
   * Internal (serve): an entry's size, from the central directory alone (nothing of the entry is
   * read or inflated), and an entity tag from its size and CRC-32; `undefined` when it is missing.
   */
  async [valueInfo](key: AbsolutePath): Promise<ValueInfo | undefined> {
    const name = this.#name(key);
    const [m, z] = await this.#read("stat", key);
    return m.zipValueInfo(z, key, name);
  }

  /** Bytes `[start, end)` of a stored (uncompressed) entry: only those are read. */
  protected async readStored(
    e: ZipEntry,
    table: EntryTable,
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    this.checkEntry(e, table);
    return (await loadZipRead()).readStored(this.#reader(), e, table, start, end, signal);
  }

  /**
   * The size of the value at `key` as the central directory records it (no entry data is read), or
   * `undefined` when the archive has no such entry.
   *
   * @example
   * ```ts
   * await zip.sizeOf("/zarr.json"); // 312
   * ```
   */
  async sizeOf(key: AbsolutePath): Promise<number | undefined> {
    const name = this.#name(key);
    const [m, z] = await this.#read("sizeOf", key);
    return (await m.zipEntry(z, "sizeOf", key, name))?.size;
  }

  async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    const p = normalizePrefix(prefix);
    const [m, z] = await this.#read("list", p);
    yield* m.zipList(z, p);
  }

  /** Writes are not possible on this store; the Node `ZipStore` writes files. */
  async set(key: AbsolutePath, _value: Uint8Array): Promise<void> {
    throw new NotWritableError(this.label(), key);
  }

  async delete(key: AbsolutePath): Promise<void> {
    throw new NotWritableError(this.label(), key, "delete");
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }

  toString(): string {
    return this.label();
  }
}

markTaggedErrors(ZipStore);
