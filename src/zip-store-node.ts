import { randomBytes } from "node:crypto";
import { copyFile, type FileHandle, mkdir, open, rename, rm, truncate } from "node:fs/promises";
import * as path from "node:path";
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";
import { NotWritableError, StoreError } from "./errors.js";
import { assertValidKey } from "./keys.js";
import { sliceRange } from "./range.js";
import type { AbsolutePath } from "./types.js";
import {
  centralDirectory,
  findCentralDirectory,
  localHeader,
  MAX_TAIL,
  parseZip64End,
  type ZipEntry,
} from "./zip-format.js";
import {
  type ByteSource,
  ZipStore as ReadOnlyZipStore,
  type ZipSource,
  type ZipStoreOptions,
} from "./zip-store.js";

/** A file read with positional reads on one lazily opened handle. */
function fileSource(file: string, handle: () => Promise<FileHandle>): ByteSource {
  return {
    label: `ZipStore(${file})`,
    size: async () => (await (await handle()).stat()).size,
    read: async (offset, length) => {
      const fh = await handle();
      const buf = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await fh.read(buf, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buf : buf.subarray(0, filled);
    },
  };
}

/**
 * Options of the Node {@link ZipStore}.
 *
 * @example
 * ```ts
 * new ZipStore("out/data.zarr.zip", { mode: "w", compression: "store" });
 * ```
 */
export interface NodeZipStoreOptions extends ZipStoreOptions {
  /** `"r"` read-only (default), `"w"` a new archive, `"a"` append to an existing one (created if missing). */
  mode?: "r" | "w" | "a";
  /** Entry compression; Zarr chunks are already compressed, so `"store"` (default). */
  compression?: "store" | "deflate";
}

interface Writer {
  tmp: string;
  fh: FileHandle;
  end: number;
  entries: Map<string, ZipEntry>;
  pending: Set<Promise<void>>;
}

/**
 * A Zarr store in a zip file (zarr-python's `ZipStore` layout), read and written in Node; it also
 * reads from bytes, a Blob or an HTTP(S) URL like the isomorphic `ZipStore`.
 * Writes go to a temporary file next to the archive; `close()` appends the central directory and
 * renames it into place, so until then the previous archive is untouched and a crash never leaves a
 * half-written zip under the final name. Concurrent `set`s all land (each reserves its byte range
 * before writing). Values written in this session are readable before `close()`.
 *
 * @example
 * ```ts
 * import * as zarr from "zarrita";
 * import { ZipStore } from "shardedstore/node";
 * const zip = new ZipStore("data.zarr.zip", { mode: "w" });
 * await zarr.create(zip, { shape: [4], chunkShape: [2], dtype: "int32" });
 * await zip.close();
 * ```
 */
export class ZipStore extends ReadOnlyZipStore {
  /** The archive's absolute path, for file archives. */
  readonly path?: string;
  readonly mode: "r" | "w" | "a";
  readonly compression: "store" | "deflate";
  #fh: Promise<FileHandle> | null = null;
  #writer: Promise<Writer> | null = null;
  #fresh: boolean;

  constructor(source: ZipSource, options: NodeZipStoreOptions = {}) {
    const isFile = typeof source === "string" && !/^https?:\/\//i.test(source);
    super(isFile ? new Uint8Array(0) : source, options);
    this.mode = options.mode ?? "r";
    this.compression = options.compression ?? "store";
    if (!["r", "w", "a"].includes(this.mode))
      throw new TypeError(`ZipStore: mode must be "r", "w" or "a", got ${JSON.stringify(this.mode)}`);
    this.#fresh = this.mode === "w";
    if (isFile) {
      const file = path.resolve(source);
      this.path = file;
      this.source = fileSource(file, () => {
        this.#fh ??= open(file, "r").catch((e: unknown) => {
          this.#fh = null;
          throw new StoreError(`ZipStore(${file})`, "open", "/", e);
        });
        return this.#fh;
      });
    } else if (this.mode !== "r") {
      throw new TypeError("ZipStore: only zip files can be written; bytes, Blobs and URLs are read-only");
    }
    if (this.#fresh) this.resetEntries(new Map());
  }

  protected override inflate(data: Uint8Array): Uint8Array {
    const b = inflateRawSync(data);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  protected override async readDirectory(): Promise<Map<string, ZipEntry>> {
    // An archive opened for appending that does not exist yet is empty.
    if (this.mode === "a" && this.path !== undefined) {
      try {
        return await super.readDirectory();
      } catch (e) {
        if ((e as { cause?: { code?: string } }).cause?.code === "ENOENT") return new Map();
        throw e;
      }
    }
    return super.readDirectory();
  }

  /** Opens the temporary file: empty for a new archive, a copy without the central directory to append. */
  #startWriting(): Promise<Writer> {
    this.#writer ??= (async (): Promise<Writer> => {
      const file = this.path!;
      const tmp = path.join(
        path.dirname(file),
        `.~ss-${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`,
      );
      let end = 0;
      let entries = new Map<string, ZipEntry>();
      if (!this.#fresh) {
        entries = new Map(await this.entries());
        if (entries.size > 0 || (await this.#exists())) {
          await copyFile(file, tmp);
          end = await this.#centralDirectoryOffset(tmp);
          await truncate(tmp, end);
        }
      }
      if (end === 0) await mkdir(path.dirname(file), { recursive: true });
      const fh = await open(tmp, end === 0 ? "w+" : "r+");
      return { tmp, fh, end, entries, pending: new Set<Promise<void>>() };
    })().catch((e: unknown) => {
      this.#writer = null;
      throw e instanceof StoreError ? e : new StoreError(this.label(), "open for writing", "/", e);
    });
    return this.#writer;
  }

  async #exists(): Promise<boolean> {
    try {
      await this.source.size();
      return true;
    } catch {
      return false;
    }
  }

  async #centralDirectoryOffset(file: string): Promise<number> {
    const fh = await open(file, "r");
    try {
      const size = (await fh.stat()).size;
      const n = Math.min(size, MAX_TAIL);
      const tail = new Uint8Array(n);
      await fh.read(tail, 0, n, size - n);
      const loc = findCentralDirectory(tail, size, this.label());
      if (!("zip64Offset" in loc)) return loc.offset;
      const rec = new Uint8Array(56);
      await fh.read(rec, 0, 56, loc.zip64Offset);
      return parseZip64End(rec, this.label()).offset;
    } finally {
      await fh.close();
    }
  }

  override async set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    if (this.mode === "r") throw new NotWritableError(this.label(), key);
    assertValidKey(key, this.label());
    const w = await this.#startWriting();
    const deflate = this.compression === "deflate";
    const data = deflate ? deflateRawSync(value) : value;
    const entry: ZipEntry = {
      name: key.slice(1),
      method: deflate ? 8 : 0,
      crc32: crc32(value) >>> 0,
      compressedSize: data.byteLength,
      size: value.byteLength,
      headerOffset: w.end,
    };
    const header = localHeader(entry);
    entry.dataOffset = entry.headerOffset + header.length;
    w.end += header.length + data.byteLength; // reserved before any await: concurrent sets never overlap
    const p = w.fh.writev([header, data], entry.headerOffset).then(() => {
      w.entries.set(entry.name, entry);
    });
    w.pending.add(p);
    try {
      await p;
    } catch (e) {
      throw new StoreError(this.label(), "set", key, e);
    } finally {
      w.pending.delete(p);
    }
    this.resetEntries(w.entries);
  }

  override async delete(key: AbsolutePath): Promise<void> {
    if (this.mode === "r") throw new NotWritableError(this.label(), key, "delete");
    assertValidKey(key, this.label());
    const w = await this.#startWriting();
    await Promise.allSettled([...w.pending]);
    w.entries.delete(key.slice(1));
    this.resetEntries(w.entries);
  }

  /** Reads go to the temporary file while writing. */
  protected override async readRaw(e: ZipEntry, signal?: AbortSignal): Promise<Uint8Array> {
    const w = this.#writer ? await this.#writer : null;
    if (w === null || e.dataOffset === undefined) return super.readRaw(e, signal);
    const buf = new Uint8Array(e.compressedSize);
    await w.fh.read(buf, 0, buf.length, e.dataOffset);
    return buf;
  }

  override async getRange(
    key: AbsolutePath,
    range: Parameters<ReadOnlyZipStore["getRange"]>[1],
    opts?: { signal?: AbortSignal },
  ) {
    if (this.#writer) {
      const v = await this.get(key, opts);
      if (v === undefined) return undefined;
      return sliceRange(v, range, `${this.label()} ${key}`);
    }
    return super.getRange(key, range, opts);
  }

  /**
   * Finishes writing: appends the central directory and renames the archive into place. Without
   * pending writes it only releases the file handle.
   */
  override async close(): Promise<void> {
    const writer = this.#writer;
    if (writer !== null) {
      const w = await writer;
      try {
        const results = await Promise.allSettled([...w.pending]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason;
        const entries = [...w.entries.values()];
        const cd = centralDirectory(entries, w.end);
        await w.fh.write(cd, 0, cd.length, w.end);
        await w.fh.sync();
        await w.fh.close();
        await this.#closeReader();
        await rename(w.tmp, this.path!);
        this.#writer = null;
        this.#fresh = false;
        this.resetEntries(new Map(entries.map((e) => [e.name, e])));
      } catch (e) {
        await this.discard();
        throw e instanceof StoreError ? e : new StoreError(this.label(), "close", "/", e);
      }
      return;
    }
    await this.#closeReader();
  }

  /** Abandons the writes of this session: removes the temporary file; the archive stays as it was. */
  async discard(): Promise<void> {
    const writer = this.#writer;
    this.#writer = null;
    if (writer !== null) {
      const w = await writer.catch(() => null);
      if (w !== null) {
        await Promise.allSettled([...w.pending]);
        await w.fh.close().catch(() => {});
        await rm(w.tmp, { force: true });
      }
    }
    this.resetEntries(this.#fresh ? new Map() : undefined);
  }

  async #closeReader(): Promise<void> {
    const fh = this.#fh;
    this.#fh = null;
    if (fh) await (await fh.catch(() => null))?.close();
  }
}
