import { inflateSync } from "fflate";
import { InvalidKeyError, NotWritableError, StoreError } from "./errors.js";
import { assertValidKey, normalizePrefix } from "./keys.js";
import { rangeBounds } from "./range.js";
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
 * Random access to the bytes of a zip archive, wherever they are.
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

/** An HTTP(S) URL read with range requests; the size comes from the first `Content-Range`. */
function urlSource(url: string, fetchFn: typeof fetch, headers: Record<string, string>): ByteSource {
  const label = `ZipStore(${url.replace(/\?.*$/, "?…")})`;
  let total: Promise<number> | null = null;
  const request = async (range: string, signal?: AbortSignal): Promise<Response> => {
    let res: Response;
    try {
      res = await fetchFn(url, { headers: { ...headers, Range: range }, ...(signal ? { signal } : {}) });
    } catch (e) {
      throw new StoreError(label, "fetch", range, e);
    }
    if (res.status !== 206) {
      throw new StoreError(
        label,
        "fetch",
        range,
        new Error(`HTTP ${res.status}: the server must answer range requests with 206`),
      );
    }
    return res;
  };
  return {
    label,
    size: () => {
      total ??= request("bytes=0-0").then(async (res) => {
        await res.arrayBuffer();
        const m = /\/(\d+)\s*$/.exec(res.headers.get("Content-Range") ?? "");
        if (!m)
          throw new StoreError(
            label,
            "fetch",
            "bytes=0-0",
            new Error("no Content-Range total in the response"),
          );
        return Number(m[1]);
      });
      return total;
    },
    read: async (offset, length, signal) => {
      if (length === 0) return new Uint8Array(0);
      const res = await request(`bytes=${offset}-${offset + length - 1}`, signal);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

/**
 * Options of {@link ZipStore}.
 *
 * @example
 * ```ts
 * new ZipStore("https://example.com/data.zarr.zip", { headers: { Authorization: "Bearer …" } });
 * ```
 */
export interface ZipStoreOptions {
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

/** What a ZipStore reads from in browsers and Node alike. */
export type ZipSource = Uint8Array | ArrayBuffer | Blob | URL | string;

/**
 * A read-only Zarr store in a zip archive (the layout of zarr-python's `ZipStore`: key `/a/.zarray`
 * is entry `a/.zarray`), read from bytes, a `Blob`, or an HTTP(S) URL by range requests. Only the
 * central directory and the entries asked for are read; `getRange` on a stored entry reads just
 * those bytes. Isomorphic; `shardedstore/node` has a `ZipStore` that also reads and writes files.
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
  protected source: ByteSource;
  #entries: Promise<Map<string, ZipEntry>> | null = null;

  constructor(source: ZipSource, options: ZipStoreOptions = {}) {
    if (source instanceof Uint8Array) this.source = bytesSource(source);
    else if (source instanceof ArrayBuffer) this.source = bytesSource(new Uint8Array(source));
    else if (typeof Blob !== "undefined" && source instanceof Blob) this.source = blobSource(source);
    else if (source instanceof URL || (typeof source === "string" && /^https?:\/\//i.test(source))) {
      this.url = String(source);
      this.source = urlSource(
        this.url,
        options.fetch ?? globalThis.fetch.bind(globalThis),
        options.headers ?? {},
      );
    } else {
      throw new TypeError(
        `ZipStore: cannot read from ${typeof source === "string" ? JSON.stringify(source) : String(source)} (give bytes, a Blob or an http(s) URL; files need shardedstore/node)`,
      );
    }
  }

  /** The entries by name, read once from the central directory. */
  protected entries(): Promise<Map<string, ZipEntry>> {
    this.#entries ??= this.readDirectory().catch((e: unknown) => {
      this.#entries = null;
      throw e;
    });
    return this.#entries;
  }

  /** Forgets the entries read so far (after the archive changed). */
  protected resetEntries(entries?: Map<string, ZipEntry>): void {
    this.#entries = entries ? Promise.resolve(entries) : null;
  }

  protected async readDirectory(): Promise<Map<string, ZipEntry>> {
    const src = this.source;
    const size = await src.size();
    const tailLength = Math.min(size, MAX_TAIL);
    const tail = await src.read(size - tailLength, tailLength);
    let loc = findCentralDirectory(tail, size, src.label);
    if ("zip64Offset" in loc) loc = parseZip64End(await src.read(loc.zip64Offset, 56), src.label);
    const cd =
      loc.offset >= size - tailLength
        ? tail.subarray(loc.offset - (size - tailLength), loc.offset - (size - tailLength) + loc.size)
        : await src.read(loc.offset, loc.size);
    const map = new Map<string, ZipEntry>();
    for (const e of parseCentralDirectory(cd, loc.entries, src.label)) map.set(e.name, e);
    return map;
  }

  protected label(): string {
    return this.source.label;
  }

  #name(key: string): string {
    assertValidKey(key, this.label());
    return key.slice(1);
  }

  /** Reads an entry's stored (possibly compressed) bytes, learning where its data starts. */
  protected async readRaw(e: ZipEntry, signal?: AbortSignal): Promise<Uint8Array> {
    if (e.dataOffset !== undefined) return this.source.read(e.dataOffset, e.compressedSize, signal);
    // One read for header and data: the local name matches the central one; the extra field rarely exceeds 64 bytes.
    const guess = LOCAL_HEADER_SIZE + new TextEncoder().encode(e.name).length + 64;
    const first = await this.source.read(e.headerOffset, guess + e.compressedSize, signal);
    const start = localDataStart(first, this.label());
    e.dataOffset = e.headerOffset + start;
    if (start + e.compressedSize <= first.length) return first.subarray(start, start + e.compressedSize);
    return this.source.read(e.dataOffset, e.compressedSize, signal);
  }

  protected inflate(data: Uint8Array, e: ZipEntry): Uint8Array {
    return inflateSync(data, { out: new Uint8Array(e.size) });
  }

  #decode(raw: Uint8Array, e: ZipEntry, key: string): Uint8Array {
    if (e.method === 0) return raw;
    if (e.method === 8) return this.inflate(raw, e);
    throw new StoreError(this.label(), "get", key, new Error(`unsupported compression method ${e.method}`));
  }

  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const name = this.#name(key);
    const e = (await this.entries()).get(name);
    if (e === undefined) return undefined;
    try {
      return this.#decode(await this.readRaw(e, opts?.signal), e, key);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(this.label(), "get", key, err);
    }
  }

  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const name = this.#name(key);
    const e = (await this.entries()).get(name);
    if (e === undefined) return undefined;
    const [start, end] = rangeBounds(range, e.size, `${this.label()} ${key}`);
    if (e.method !== 0) return (await this.get(key, opts))?.subarray(start, end);
    if (e.dataOffset === undefined) {
      const header = await this.source.read(e.headerOffset, LOCAL_HEADER_SIZE, opts?.signal);
      e.dataOffset = e.headerOffset + localDataStart(header, this.label());
    }
    return this.source.read(e.dataOffset + start, end - start, opts?.signal);
  }

  async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    const p = normalizePrefix(prefix);
    for (const name of [...(await this.entries()).keys()]) {
      if (name.endsWith("/")) continue; // directory entries are not keys
      const key = `/${name}`;
      if (!key.startsWith(p)) continue;
      try {
        assertValidKey(key, this.label());
      } catch (e) {
        if (e instanceof InvalidKeyError) continue; // a name no key can reach
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
