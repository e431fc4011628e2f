// Writes a whole small zip archive in one go, durably: the bulk path of a conversion, where a
// `ZipStore` write session (a lock, a write per value, a directory sync of its own) costs more than
// the data.
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import * as path from "node:path";
import { syncDirectory } from "./dir-sync.js";
import type { AbsolutePath } from "./types.js";
import { centralDirectory, localHeader, metadataFirst, type ZipEntry } from "./zip-format.js";
import { crc32 } from "./zip-store-node.js";

/**
 * Writes `values` (key → bytes, in the order given; stored, uncompressed) as the zip archive `file`
 * with its central directory metadata first, the way a `ZipStore` in mode `"w"` writes them. The
 * archive is written to a temporary file next to `file` (`.~ss-…tmp`), synced, renamed into place,
 * and the folder is synced (shared with concurrent writers into the same folder, see
 * {@link syncDirectory}): when this resolves the archive and its name survive a power cut, and at
 * no moment does `file` name a partial archive. Takes no write lock: the caller owns `file`.
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
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.~ss-${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "w");
    try {
      await fh.writev(parts, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  await syncDirectory(dir);
}
