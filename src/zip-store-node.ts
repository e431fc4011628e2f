import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { copyFile, type FileHandle, mkdir, open, rename, rm, truncate } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as zlib from "node:zlib";
import { NotWritableError } from "./errors.js";
import { assertValidKey } from "./keys.js";
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

/** CRC-32 (IEEE) by table, for Node releases before 20.15 that lack `zlib.crc32`. */
function crc32Js(data: Uint8Array): number {
  TABLE ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
let TABLE: Uint32Array | undefined;
// A namespace lookup, not a named import: a missing export must not stop the module from loading.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
const crc32 = nativeCrc32 ? (d: Uint8Array) => nativeCrc32(d) >>> 0 : crc32Js;

/** Fills `buf` from `fh` at `position` (a positional read may return fewer bytes than asked). */
async function readFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<Uint8Array> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await fh.read(buf, filled, buf.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === buf.length ? buf : buf.subarray(0, filled);
}

/** A buffer the read overwrites: skipping the zero-fill matters on chunk-sized reads. Never pooled, never a Buffer. */
function uninitialized(length: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}

/** A file read with positional reads on one lazily opened handle. */
function fileSource(file: string, handle: () => Promise<FileHandle>): ByteSource {
  return {
    label: `ZipStore(${file})`,
    parallelReads: true,
    size: async () => (await (await handle()).stat()).size,
    read: async (offset, length) => readFully(await handle(), uninitialized(length), offset),
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

const isHttp = (s: string) => /^https?:\/\//i.test(s);

/**
 * A Zarr store in a zip file (zarr-python's `ZipStore` layout), read and written in Node; it also
 * reads from bytes, a Blob or an HTTP(S) URL like the isomorphic `ZipStore`.
 * Writes go to a temporary file next to the archive; `close()` appends the central directory and
 * renames it into place, so until then the previous archive is untouched and a crash never leaves a
 * half-written zip under the final name. Concurrent `set`s all land (each reserves its byte range
 * before writing). Values written in this session are readable before `close()`. Rewriting a key
 * leaves its old bytes in the archive as unreferenced space.
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
  override readonly mode: "r" | "w" | "a";
  readonly compression: "store" | "deflate";
  #fh: Promise<FileHandle> | null = null;
  #writer: Promise<Writer> | null = null;
  /** True until the first `close()` of a `"w"` store: the archive on disk is not ours yet. */
  #fresh: boolean;

  constructor(source: ZipSource, options: NodeZipStoreOptions = {}) {
    const fileUrl =
      source instanceof URL
        ? source.protocol === "file:"
        : typeof source === "string" && /^file:/i.test(source);
    const file =
      fileUrl && (typeof source === "string" || source instanceof URL)
        ? fileURLToPath(source)
        : typeof source === "string" && !isHttp(source)
          ? source
          : undefined;
    super(file !== undefined ? new Uint8Array(0) : source, options);
    this.mode = options.mode ?? "r";
    this.compression = options.compression ?? "store";
    if (!["r", "w", "a"].includes(this.mode))
      throw new TypeError(`ZipStore: mode must be "r", "w" or "a", got ${JSON.stringify(this.mode)}`);
    if (!["store", "deflate"].includes(this.compression))
      throw new TypeError(
        `ZipStore: compression must be "store" or "deflate", got ${JSON.stringify(this.compression)}`,
      );
    this.#fresh = this.mode === "w";
    if (file !== undefined) {
      if (file === "") throw new TypeError("ZipStore: the zip path is empty");
      const abs = path.resolve(file);
      this.path = abs;
      this.source = fileSource(abs, () => {
        this.#fh ??= open(abs, "r").catch((e: unknown) => {
          this.#fh = null; // the file may appear later (mode "a", or written by someone else)
          throw e;
        });
        return this.#fh;
      });
    } else if (this.mode !== "r") {
      throw new TypeError("ZipStore: only zip files can be written; bytes, Blobs and URLs are read-only");
    }
    if (this.#fresh) this.resetEntries(new Map());
  }

  protected override inflate(data: Uint8Array): Uint8Array {
    const b = zlib.inflateRawSync(data);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  protected override async readDirectory(): Promise<Map<string, ZipEntry>> {
    // An archive opened for appending that does not exist yet is empty.
    if (this.mode === "a" && this.path !== undefined) {
      try {
        return await super.readDirectory();
      } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return new Map();
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
          // A reflink where the filesystem can (btrfs, xfs, APFS): appending to a big archive costs no copy.
          await copyFile(file, tmp, fsConstants.COPYFILE_FICLONE);
          end = await this.#centralDirectoryOffset(tmp);
          await truncate(tmp, end);
        }
      }
      if (end === 0) await mkdir(path.dirname(file), { recursive: true });
      const fh = await open(tmp, end === 0 ? "w+" : "r+");
      return { tmp, fh, end, entries, pending: new Set<Promise<void>>() };
    })().catch((e: unknown) => {
      this.#writer = null;
      throw e;
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
      const tail = await readFully(fh, new Uint8Array(n), size - n);
      const loc = findCentralDirectory(tail, size, this.label());
      if (!("zip64Offset" in loc)) return loc.offset;
      const rec = await readFully(fh, new Uint8Array(56), loc.zip64Offset);
      return parseZip64End(rec, this.label()).offset;
    } finally {
      await fh.close();
    }
  }

  override async set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    if (this.mode === "r") throw new NotWritableError(this.label(), key);
    assertValidKey(key, this.label());
    const deflate = this.compression === "deflate";
    // No copy: the bytes are in the file before the returned promise resolves.
    const data = deflate ? zlib.deflateRawSync(value) : value;
    const entry: ZipEntry = {
      name: key.slice(1),
      method: deflate ? 8 : 0,
      crc32: crc32(value),
      compressedSize: data.byteLength,
      size: value.byteLength,
      headerOffset: 0,
    };
    let w: Writer;
    try {
      w = await this.#startWriting();
    } catch (e) {
      throw this.failure("set", key, e);
    }
    entry.headerOffset = w.end;
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
      throw this.failure("set", key, e);
    } finally {
      w.pending.delete(p);
    }
    this.resetEntries(w.entries);
  }

  override async delete(key: AbsolutePath): Promise<void> {
    if (this.mode === "r") throw new NotWritableError(this.label(), key, "delete");
    assertValidKey(key, this.label());
    let w: Writer;
    try {
      // Nothing to delete means nothing to rewrite: a missing key must not copy the archive.
      if (!this.#writer && !(await this.entries()).has(key.slice(1))) return;
      w = await this.#startWriting();
    } catch (e) {
      throw this.failure("delete", key, e);
    }
    await Promise.allSettled([...w.pending]);
    w.entries.delete(key.slice(1));
    this.resetEntries(w.entries);
  }

  /** Reads go to the temporary file while writing. */
  protected override async readRaw(e: ZipEntry, signal?: AbortSignal): Promise<Uint8Array> {
    const w = this.#writer ? await this.#writer : null;
    if (w === null || e.dataOffset === undefined) return super.readRaw(e, signal);
    const buf = await readFully(w.fh, uninitialized(e.compressedSize), e.dataOffset);
    if (buf.length !== e.compressedSize)
      throw new Error(`not a valid zip: entry ${JSON.stringify(e.name)} is cut short`);
    return buf;
  }

  protected override async readStored(
    e: ZipEntry,
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const w = this.#writer ? await this.#writer : null;
    if (w === null || e.dataOffset === undefined) return super.readStored(e, start, end, signal);
    const buf = await readFully(w.fh, uninitialized(end - start), e.dataOffset + start);
    if (buf.length !== end - start)
      throw new Error(`not a valid zip: entry ${JSON.stringify(e.name)} is cut short`);
    return buf;
  }

  /**
   * Finishes writing: appends the central directory and renames the archive into place. A `"w"`
   * store writes an (empty) archive even when nothing was set; otherwise, without writes, it only
   * releases the file handle. If finishing fails, the session is discarded and the previous
   * archive stays as it was.
   *
   * @example
   * ```ts
   * const zip = new ZipStore("a.zip", { mode: "w" });
   * await zip.set("/zarr.json", bytes);
   * await zip.close(); // a.zip now exists, complete
   * ```
   */
  override async close(): Promise<void> {
    let writer = this.#writer;
    if (writer === null && this.#fresh) writer = this.#startWriting(); // "w" means a new archive, even an empty one
    if (writer !== null) {
      try {
        const w = await writer;
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
        throw this.failure("close", "/", e);
      }
      return;
    }
    await this.#closeReader();
  }

  /**
   * Abandons the writes of this session: removes the temporary file; the archive stays as it was.
   *
   * @example
   * ```ts
   * try { await copyStore(src, zip); } catch (e) { await zip.discard(); throw e; }
   * ```
   */
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

/** @internal Exposed for tests of the fallback. */
export { crc32Js as _crc32Js };
