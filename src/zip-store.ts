import { inflateSync } from "fflate";
import {
  InvalidKeyError,
  markTaggedErrors,
  NotWritableError,
  ShardedStoreError,
  StoreError,
} from "./errors.js";
import { remoteOptionsOf, type UrlSourceOptions, urlByteSource } from "./http-byte-source.js";
import { assertValidKey, normalizePrefix } from "./keys.js";
import { rangeBounds } from "./range.js";
import { type StoreZipSource, storeByteSource } from "./store-byte-source.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";
import {
  findCentralDirectory,
  LOCAL_HEADER_SIZE,
  localDataStart,
  MAX_TAIL,
  parseCentralDirectory,
  parseZip64End,
  type ZipEntry,
} from "./zip-format.js";

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

/** Only the content of a zip is a "not valid zip" problem; everything else keeps its own message. */
function truncated(what: string): Error {
  return new Error(`not a valid zip: ${what}`);
}

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
  #entries: Promise<Map<string, ZipEntry>> | null = null;

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
  protected entries(): Promise<Map<string, ZipEntry>> {
    this.#entries ??= this.readDirectory().catch((e: unknown) => {
      this.#entries = null; // a failed read (network blip) is retried on the next access
      throw e;
    });
    return this.#entries;
  }

  /** Replaces the entries (after writing), or forgets them so the next access rereads the archive. */
  protected resetEntries(entries?: Map<string, ZipEntry>): void {
    this.#entries = entries ? Promise.resolve(entries) : null;
  }

  protected async readDirectory(): Promise<Map<string, ZipEntry>> {
    const src = this.source;
    let size: number;
    let tail: Uint8Array;
    if (src.tail) ({ bytes: tail, size } = await src.tail(MAX_TAIL));
    else {
      size = await src.size();
      tail = await src.read(Math.max(0, size - MAX_TAIL), Math.min(size, MAX_TAIL));
    }
    const tailStart = size - tail.length;
    const within = (offset: number, length: number) =>
      offset >= tailStart && offset + length <= size
        ? tail.subarray(offset - tailStart, offset - tailStart + length)
        : null;
    let loc = findCentralDirectory(tail, size, src.label);
    if ("zip64Offset" in loc) {
      const at = loc.zip64Offset;
      loc = parseZip64End(within(at, 56) ?? (await src.read(at, 56)), src.label);
    }
    const cd = within(loc.offset, loc.size) ?? (await src.read(loc.offset, loc.size));
    if (cd.length < loc.size) throw truncated("the central directory is cut short");
    const map = new Map<string, ZipEntry>();
    // A name written twice: the later entry wins, as in Python's zipfile.
    for (const e of parseCentralDirectory(cd, loc.entries, src.label)) map.set(e.name, e);
    return map;
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

  /** Reads an entry's stored (possibly compressed) bytes, learning where its data starts. */
  protected async readRaw(e: ZipEntry, signal?: AbortSignal): Promise<Uint8Array> {
    let raw: Uint8Array;
    if (e.dataOffset !== undefined) raw = await this.source.read(e.dataOffset, e.compressedSize, signal);
    else if (this.source.parallelReads === true) {
      // Header and data (where it starts when the local extra field is empty) read at once, so the
      // value gets a buffer of its own without a copy; re-read if the guess was wrong.
      const guess = e.headerOffset + LOCAL_HEADER_SIZE + new TextEncoder().encode(e.name).length;
      const [header, data] = await Promise.all([
        this.source.read(e.headerOffset, LOCAL_HEADER_SIZE, signal),
        this.source.read(guess, e.compressedSize, signal),
      ]);
      e.dataOffset = e.headerOffset + localDataStart(header, this.label());
      raw = e.dataOffset === guess ? data : await this.source.read(e.dataOffset, e.compressedSize, signal);
    } else {
      // One read for header and data: the local name matches the central one; the extra field rarely exceeds 64 bytes.
      const guess = LOCAL_HEADER_SIZE + new TextEncoder().encode(e.name).length + 64;
      const first = await this.source.read(e.headerOffset, guess + e.compressedSize, signal);
      const start = localDataStart(first, this.label());
      e.dataOffset = e.headerOffset + start;
      raw =
        start + e.compressedSize <= first.length
          ? first.subarray(start, start + e.compressedSize)
          : await this.source.read(e.dataOffset, e.compressedSize, signal);
    }
    if (raw.length !== e.compressedSize) throw truncated(`entry ${JSON.stringify(e.name)} is cut short`);
    return raw;
  }

  /** Inflates a deflated entry (raw DEFLATE) into exactly `e.size` bytes. */
  protected inflate(data: Uint8Array, e: ZipEntry): Uint8Array {
    return inflateSync(data, { out: new Uint8Array(e.size) });
  }

  #decode(raw: Uint8Array, e: ZipEntry): Uint8Array {
    if (e.method === 0) return raw;
    if (e.method !== 8) throw new Error(`unsupported compression method ${e.method}`);
    const out = this.inflate(raw, e);
    if (out.length !== e.size)
      throw truncated(`entry ${JSON.stringify(e.name)} inflates to ${out.length} bytes, not ${e.size}`);
    return out;
  }

  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const name = this.#name(key);
    try {
      const e = (await this.entries()).get(name);
      if (e === undefined) return undefined;
      const value = this.#decode(await this.readRaw(e, opts?.signal), e);
      // A view into a larger buffer trips readers that ignore byteOffset (zarrita's string decoder).
      return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice();
    } catch (err) {
      throw this.failure("get", key, err, opts?.signal);
    }
  }

  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const name = this.#name(key);
    let e: ZipEntry | undefined;
    try {
      e = (await this.entries()).get(name);
    } catch (err) {
      throw this.failure("getRange", key, err, opts?.signal);
    }
    if (e === undefined) return undefined;
    const [start, end] = rangeBounds(range, e.size, `${this.label()} ${key}`);
    try {
      if (e.method !== 0) return this.#decode(await this.readRaw(e, opts?.signal), e).subarray(start, end);
      return await this.readStored(e, start, end, opts?.signal);
    } catch (err) {
      throw this.failure("getRange", key, err, opts?.signal);
    }
  }

  /** Bytes `[start, end)` of a stored (uncompressed) entry: only those are read. */
  protected async readStored(
    e: ZipEntry,
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    if (e.dataOffset === undefined) {
      const header = await this.source.read(e.headerOffset, LOCAL_HEADER_SIZE, signal);
      e.dataOffset = e.headerOffset + localDataStart(header, this.label());
    }
    const out = await this.source.read(e.dataOffset + start, end - start, signal);
    if (out.length !== end - start) throw truncated(`entry ${JSON.stringify(e.name)} is cut short`);
    return out;
  }

  async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    const p = normalizePrefix(prefix);
    let names: string[];
    try {
      names = [...(await this.entries()).keys()];
    } catch (err) {
      throw this.failure("list", p, err);
    }
    for (const name of names) {
      if (name.endsWith("/")) continue; // directory entries are not keys
      const key = `/${name}`;
      if (!key.startsWith(p)) continue;
      try {
        assertValidKey(key, this.label());
      } catch (e) {
        if (e instanceof InvalidKeyError) continue; // a name no key can reach (`../x`, `a//b`)
        throw e;
      }
      yield key as AbsolutePath;
    }
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
