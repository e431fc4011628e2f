import { randomBytes } from "node:crypto";
import { constants as fsConstants, read as readCallback } from "node:fs";
import { copyFile, type FileHandle, mkdir, open, rename, rm, truncate } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { syncDirectory } from "./dir-sync.js";
import { NotWritableError } from "./errors.js";
import { IO_PIECE, readFullySync } from "./fd-io.js";
import { assertValidKey } from "./keys.js";
import type { AbsolutePath } from "./types.js";
import {
  centralDirectory,
  findCentralDirectory,
  localHeader,
  MAX_TAIL,
  metadataFirst,
  parseCentralDirectory,
  parseZip64End,
  ZIP64_END_SIZE,
  type ZipEntry,
} from "./zip-format.js";
import { type EntryTable, MapTable } from "./zip-index.js";
import { type ArchiveLock, DEFAULT_LOCK_STALE_MS, lockArchive } from "./zip-lock.js";
import { PoolSlot, type ZipFilePool, zipFilePool } from "./zip-pool.js";
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
/** CRC-32 (IEEE) of `data`: zlib's where Node has it. @internal */
export const crc32 = nativeCrc32 ? (d: Uint8Array) => nativeCrc32(d) >>> 0 : crc32Js;

const readAt = promisify(readCallback);

/** Fills `buf` from `file` (a FileHandle or a descriptor) at `position` (a positional read may return fewer bytes than asked). */
async function readFully(file: FileHandle | number, buf: Uint8Array, position: number): Promise<Uint8Array> {
  let filled = 0;
  while (filled < buf.length) {
    const n = Math.min(buf.length - filled, IO_PIECE);
    const { bytesRead } =
      typeof file === "number"
        ? await readAt(file, buf, filled, n, position + filled)
        : await file.read(buf, filled, n, position + filled);
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

/** A file read with positional reads, its descriptor borrowed from a pool for each read. */
function fileSource(file: string, pool: ZipFilePool, slot: PoolSlot): ByteSource {
  return {
    label: `ZipStore(${file})`,
    parallelReads: true,
    size: () => pool.use(slot, async () => slot.size),
    read: (offset, length) => pool.use(slot, (fh) => readFully(fh, uninitialized(length), offset)),
    // The size comes with the open (the pool stats the file), so the end records take one read.
    tail: (length) =>
      pool.use(slot, async (fd) => {
        const size = slot.size;
        const n = Math.min(size, length);
        // Parsed and dropped (nothing keeps a view into it): a small tail may share Node's buffer pool.
        const buf = Buffer.allocUnsafe(n);
        return {
          bytes: pool.blocking ? readFullySync(fd, buf, size - n) : await readFully(fd, buf, size - n),
          size,
        };
      }),
    close: () => pool.drop(slot),
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
  /** The pool of open archives to read through; default the process-wide {@link zipFilePool}. */
  pool?: ZipFilePool;
  /** How long (ms) the write lock of a killed writer blocks others; default 15 s, at least 2 s. */
  lockStaleMs?: number;
  /** The archive comment written on `close()` (at most 65,535 bytes); appending keeps the existing one unless given. */
  comment?: string | Uint8Array;
}

interface Writer {
  tmp: string;
  fh: FileHandle;
  end: number;
  entries: Map<string, ZipEntry>;
  pending: Set<Promise<void>>;
  lock: ArchiveLock;
  /** The comment the archive had (appending). */
  comment: Uint8Array | undefined;
}

const isHttp = (s: string) => /^https?:\/\//i.test(s);

/**
 * A Zarr store in a zip file (zarr-python's `ZipStore` layout), read and written in Node; it also
 * reads from bytes, a Blob or an HTTP(S) URL like the isomorphic `ZipStore`.
 * Reading borrows a descriptor from a shared pool ({@link zipFilePool}) for each read, so any
 * number of stores keep at most `maxOpen` files open. Writing takes a lock next to the archive
 * (`<archive>.lock`): a second writer, in this process or another, is refused with an error naming
 * the lock; the lock is released by `close()`/`discard()` and expires 15 s after its holder dies.
 * Writes go to a temporary file next to the archive (one descriptor held while writing); `close()`
 * appends the central directory and renames it into place, so until then the previous archive is
 * untouched and a crash never leaves a half-written zip under the final name. Concurrent `set`s all
 * land (each reserves its byte range before writing); a `set`/`delete` issued once `close()` began is
 * refused. Values written in this session are readable before `close()`. Rewriting a key leaves its
 * old bytes in the archive as unreferenced space.
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
  readonly #lockStaleMs: number;
  readonly #comment: Uint8Array | undefined;
  #writer: Promise<Writer> | null = null;
  /** True until the first `close()` of a `"w"` store: the archive on disk is not ours yet. */
  #fresh: boolean;
  /** Set while `close()` runs: writes issued then are refused. */
  #closing: Promise<void> | null = null;
  /** Every set/delete accepted and not yet settled: `close()` waits for them all (made on the first write). */
  #inflight: Set<Promise<unknown>> | null = null;

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
    this.#lockStaleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
    this.#comment =
      typeof options.comment === "string" ? new TextEncoder().encode(options.comment) : options.comment;
    if (this.#comment !== undefined && this.#comment.length > 0xffff)
      throw new TypeError(`ZipStore: a zip comment has at most 65,535 bytes, not ${this.#comment.length}`);
    if (!["r", "w", "a"].includes(this.mode))
      throw new TypeError(`ZipStore: mode must be "r", "w" or "a", got ${JSON.stringify(this.mode)}`);
    if (!["store", "deflate"].includes(this.compression))
      throw new TypeError(
        `ZipStore: compression must be "store" or "deflate", got ${JSON.stringify(this.compression)}`,
      );
    if (!Number.isFinite(this.#lockStaleMs) || this.#lockStaleMs < 2000)
      throw new TypeError(
        `ZipStore: lockStaleMs must be at least 2000, got ${JSON.stringify(this.#lockStaleMs)}`,
      );
    this.#fresh = this.mode === "w";
    if (file !== undefined) {
      if (file === "") throw new TypeError("ZipStore: the zip path is empty");
      const abs = path.resolve(file);
      this.path = abs;
      // A replaced archive is read afresh, and an evicted one keeps no index (its directory is read
      // again when it is next opened); a write session keeps its own entries.
      const forget = () => {
        if (this.#writer === null && !this.#fresh) this.resetEntries();
      };
      const slot = new PoolSlot(abs, forget, forget);
      this.source = fileSource(abs, options.pool ?? zipFilePool, slot);
    } else if (this.mode !== "r") {
      throw new TypeError("ZipStore: only zip files can be written; bytes, Blobs and URLs are read-only");
    }
    if (this.#fresh) this.resetEntries(new MapTable(new Map(), () => 0));
  }

  /**
   * Whether a write session is open (`set`/`delete` since the last `close()`, or a `"w"` store not
   * yet closed): its values are not in the file until `close()`.
   *
   * @example
   * ```ts
   * const zip = new ZipStore("a.zarr.zip", { mode: "a" });
   * zip.writing; // false until the first set or delete
   * ```
   */
  get writing(): boolean {
    return this.#writer !== null || this.#fresh;
  }

  protected override inflate(data: Uint8Array, e: ZipEntry): Uint8Array {
    let b: Buffer;
    try {
      // Stops as soon as the output passes the declared size: a deflate bomb costs at most that.
      b = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
        throw new Error(
          `not a valid zip: entry ${JSON.stringify(e.name)} inflates to more than ${e.size} bytes`,
        );
      throw err;
    }
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  protected override async readDirectory(): Promise<EntryTable> {
    // An archive opened for appending that does not exist yet is empty.
    if (this.mode === "a" && this.path !== undefined) {
      try {
        return await super.readDirectory();
      } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return new MapTable(new Map(), () => 0);
        throw e;
      }
    }
    return super.readDirectory();
  }

  /**
   * Starts the write session: takes the lock, then (appending) reads the archive as it is now and
   * copies it without its central directory to a temporary file.
   */
  #startWriting(): Promise<Writer> {
    this.#writer ??= (async (): Promise<Writer> => {
      const file = this.path!;
      await mkdir(path.dirname(file), { recursive: true });
      const lock = await lockArchive(file, this.#lockStaleMs);
      try {
        const tmp = path.join(
          path.dirname(file),
          `.~ss-${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`,
        );
        // Read under the lock: another writer may have closed since this store last read the archive.
        const found = this.#fresh ? null : await this.#readForAppend(file);
        if (found !== null) {
          // A reflink where the filesystem can (btrfs, xfs, APFS): appending to a big archive costs no copy.
          await copyFile(file, tmp, fsConstants.COPYFILE_FICLONE);
          await truncate(tmp, found.end);
        }
        const fh = await open(tmp, found === null ? "w+" : "r+");
        const entries = found?.entries ?? new Map<string, ZipEntry>();
        return {
          tmp,
          fh,
          end: found?.end ?? 0,
          entries,
          pending: new Set<Promise<void>>(),
          lock,
          comment: found?.comment,
        };
      } catch (e) {
        await lock.release();
        throw e;
      }
    })().catch((e: unknown) => {
      this.#writer = null;
      throw e;
    });
    return this.#writer;
  }

  /** The archive's entries (with their central records, kept byte for byte) and where its data ends; null if it does not exist. */
  async #readForAppend(
    file: string,
  ): Promise<{ entries: Map<string, ZipEntry>; end: number; comment: Uint8Array | undefined } | null> {
    let fh: FileHandle;
    try {
      fh = await open(file, "r");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return null;
      throw e;
    }
    try {
      const where = this.label();
      const size = (await fh.stat()).size;
      if (size < 22) throw new Error(`not a valid zip: ${size} bytes is too small for a zip`);
      const n = Math.min(size, MAX_TAIL);
      const tail = await readFully(fh, new Uint8Array(n), size - n);
      let loc = findCentralDirectory(tail, size, where);
      const comment = loc.comment;
      if ("zip64Offset" in loc) {
        const rec = await readFully(fh, new Uint8Array(ZIP64_END_SIZE), loc.zip64Offset);
        loc = parseZip64End(rec, where, loc.zip64Offset);
      }
      const cd = await readFully(fh, uninitialized(loc.size), loc.offset);
      if (cd.length !== loc.size) throw new Error("not a valid zip: the central directory is cut short");
      const entries = new Map<string, ZipEntry>();
      for (const e of parseCentralDirectory(cd, loc.entries, where)) entries.set(e.name, e);
      return { entries, end: loc.offset, comment };
    } finally {
      await fh.close();
    }
  }

  /** Refuses writes once `close()` began; otherwise runs `op`, which `close()` then waits for. */
  #accept<T>(op: string, key: AbsolutePath, run: () => Promise<T>): Promise<T> {
    if (this.#closing !== null)
      return Promise.reject(
        this.failure(op, key, new Error("close() has begun: writes issued after it are refused")),
      );
    const p = run();
    this.#inflight ??= new Set();
    const inflight = this.#inflight;
    inflight.add(p);
    const done = () => inflight.delete(p);
    p.then(done, done);
    return p;
  }

  override set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    if (this.mode === "r") return Promise.reject(new NotWritableError(this.label(), key));
    try {
      assertValidKey(key, this.label());
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#accept("set", key, () => this.#set(key, value));
  }

  async #set(key: AbsolutePath, value: Uint8Array): Promise<void> {
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
    this.resetEntries(new MapTable(w.entries, () => w.end));
  }

  override delete(key: AbsolutePath): Promise<void> {
    if (this.mode === "r") return Promise.reject(new NotWritableError(this.label(), key, "delete"));
    try {
      assertValidKey(key, this.label());
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#accept("delete", key, () => this.#delete(key));
  }

  async #delete(key: AbsolutePath): Promise<void> {
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
    this.resetEntries(new MapTable(w.entries, () => w.end));
  }

  /** Reads go to the temporary file while writing. */
  protected override async readRaw(
    e: ZipEntry,
    table: EntryTable,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const w = this.#writer ? await this.#writer : null;
    if (w === null || e.dataOffset === undefined) return super.readRaw(e, table, signal);
    this.checkEntry(e, table);
    const buf = await readFully(w.fh, uninitialized(e.compressedSize), e.dataOffset);
    if (buf.length !== e.compressedSize)
      throw new Error(`not a valid zip: entry ${JSON.stringify(e.name)} is cut short`);
    return buf;
  }

  protected override async readStored(
    e: ZipEntry,
    table: EntryTable,
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const w = this.#writer ? await this.#writer : null;
    if (w === null || e.dataOffset === undefined) return super.readStored(e, table, start, end, signal);
    this.checkEntry(e, table);
    const buf = await readFully(w.fh, uninitialized(end - start), e.dataOffset + start);
    if (buf.length !== end - start)
      throw new Error(`not a valid zip: entry ${JSON.stringify(e.name)} is cut short`);
    return buf;
  }

  /**
   * Finishes writing: waits for every write issued before it, appends the central directory,
   * renames the archive into place and releases the write lock. Writes issued once it began are
   * refused. A `"w"` store writes an (empty) archive even when nothing was set; otherwise, without
   * writes, it only releases the file. If finishing fails, the session is discarded and the
   * previous archive stays as it was.
   *
   * @example
   * ```ts
   * const zip = new ZipStore("a.zip", { mode: "w" });
   * await zip.set("/zarr.json", bytes);
   * await zip.close(); // a.zip now exists, complete
   * ```
   */
  override close(): Promise<void> {
    this.#closing ??= this.#finish().finally(() => {
      this.#closing = null;
    });
    return this.#closing;
  }

  async #finish(): Promise<void> {
    await Promise.allSettled([...(this.#inflight ?? [])]);
    let writer = this.#writer;
    if (writer === null && this.#fresh) writer = this.#startWriting(); // "w" means a new archive, even an empty one
    if (writer === null) {
      await this.source.close?.();
      return;
    }
    try {
      const w = await writer;
      const results = await Promise.allSettled([...w.pending]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      // Metadata documents first: a reader gets the hierarchy from the front of the directory.
      const entries = metadataFirst([...w.entries.values()]);
      const cd = centralDirectory(entries, w.end, new Date(), this.#comment ?? w.comment);
      await w.fh.write(cd, 0, cd.length, w.end);
      await w.fh.sync();
      await w.fh.close();
      if (w.lock.lost !== null)
        throw new Error(
          `the write lock ${w.lock.path} was taken over as stale while this store held it (was the process stalled for ${Math.round(this.#lockStaleMs / 1000)} s?); this session is discarded`,
        );
      await this.source.close?.();
      await rename(w.tmp, this.path!);
      await syncDirectory(path.dirname(this.path!));
      await w.lock.release();
      this.#writer = null;
      this.#fresh = false;
      this.resetEntries(); // read again, compactly, on the next access
    } catch (e) {
      await this.discard();
      throw this.failure("close", "/", e);
    }
  }

  /**
   * Abandons the writes of this session: removes the temporary file and releases the write lock;
   * the archive stays as it was.
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
        await w.lock.release();
      }
    }
    this.resetEntries(this.#fresh ? new MapTable(new Map(), () => 0) : undefined);
  }
}

/** @internal Exposed for tests of the fallback. */
export { crc32Js as _crc32Js };
