// Writes a whole small zip archive in one go, durably: the bulk path of a conversion, where a
// `ZipStore` write session (a lock, a write per value, a directory sync of its own) costs more than
// the data.
import { randomBytes } from "node:crypto";
import { closeSync, fsync, open, rmSync, writeSync } from "node:fs";
import { rename } from "node:fs/promises";
import * as path from "node:path";
import { syncDirectory } from "./dir-sync.js";
import type { AbsolutePath } from "./types.js";
import { centralDirectory, localHeader, metadataFirst, type ZipEntry } from "./zip-format.js";
import { crc32 } from "./zip-store-node.js";

/** The archives this module writes are small (the caller holds them whole): direct system calls. */
export const MAX_ZIP_FILE_BYTES = 16 << 20;

// Callback forms: a bare descriptor, no FileHandle (which would close it again when collected).
const openFd = (file: string) =>
  new Promise<number>((resolve, reject) => open(file, "w", (e, fd) => (e ? reject(e) : resolve(fd))));
const fsyncFd = (fd: number) =>
  new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));

/** The bytes of a zip archive of `values` (stored), its central directory metadata first. */
function zipBytes(values: ReadonlyArray<readonly [AbsolutePath, Uint8Array]>): Uint8Array {
  const when = new Date();
  const parts: Uint8Array[] = [];
  const entries: ZipEntry[] = [];
  let end = 0;
  for (const [key, value] of values) {
    const e: ZipEntry = {
      name: key.slice(1),
      method: 0,
      crc32: crc32(value),
      compressedSize: value.byteLength,
      size: value.byteLength,
      headerOffset: end,
    };
    const header = localHeader(e, when);
    e.dataOffset = end + header.length;
    entries.push(e);
    parts.push(header, value);
    end += header.length + value.byteLength;
  }
  parts.push(centralDirectory(metadataFirst(entries), end, when));
  return Buffer.concat(parts);
}

/**
 * Writes `values` (key → bytes, in the order given; stored, uncompressed) as the zip archive `file`
 * with its central directory metadata first, the way a `ZipStore` in mode `"w"` writes them. The
 * archive is written to a temporary file next to `file` (`.~ss-…tmp`), synced, renamed into place,
 * and the folder is synced (shared with concurrent writers into the same folder, see
 * {@link syncDirectory}): when this resolves the archive and its name survive a power cut, and at
 * no moment does `file` name a partial archive. Takes no write lock: the caller owns `file`.
 * The write and close are direct calls (a hand-off to Node's thread pool costs more than they do:
 * bench/convert-scale.mjs); the create, sync and rename wait in the pool.
 *
 * @example
 * ```ts
 * await writeZipFile("out/a.zarr.zip", [["/.zarray", meta], ["/0", chunk]]);
 * ```
 */
export async function writeZipFile(
  file: string,
  values: ReadonlyArray<readonly [AbsolutePath, Uint8Array]>,
): Promise<void> {
  const bytes = zipBytes(values);
  if (bytes.byteLength > MAX_ZIP_FILE_BYTES)
    throw new RangeError(`writeZipFile: ${bytes.byteLength} bytes is more than ${MAX_ZIP_FILE_BYTES}`);
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.~ss-${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    // Creating and renaming wait in the pool: on ext4 they can wait for a journal commit, which
    // others' fsyncs start, and must not stall the event loop meanwhile. The write lands in the page cache.
    const fd = await openFd(tmp);
    try {
      for (let done = 0; done < bytes.byteLength; )
        done += writeSync(fd, bytes, done, bytes.byteLength - done, done);
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
    await rename(tmp, file);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the write's own failure is the one to report
    }
    throw e;
  }
  await syncDirectory(dir);
}
