// Writes a whole small zip archive in one go, durably: the bulk path of a conversion, where a
// `ZipStore` write session (a lock, a write per value, a directory sync of its own) costs more than
// the data.
import { randomBytes } from "node:crypto";
import { closeSync, openSync, rmSync } from "node:fs";
import * as path from "node:path";
import { commitFile } from "./durable-files.js";
import { writeFullySync } from "./fd-io.js";
import type { AbsolutePath } from "./types.js";
import { centralDirectory, localHeader, metadataFirst, type ZipEntry } from "./zip-format.js";
import { crc32 } from "./zip-store-node.js";

/** The archives this module writes are small (the caller holds them whole): direct system calls. */
export const MAX_ZIP_FILE_BYTES = 16 << 20;

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

/** Temporary names: a random run id (drawn once) and a counter, unique without a draw per file. */
const RUN = randomBytes(6).toString("hex");
let serial = 0;

/**
 * Writes `values` (key → bytes, in the order given; stored, uncompressed) as the zip archive `file`
 * with its central directory metadata first, the way a `ZipStore` in mode `"w"` writes them. The
 * archive is written to a new temporary file next to `file` (`.~ss-…tmp`, created exclusively),
 * then made durable and renamed into place by {@link commitFile}, which groups concurrent writers
 * (one filesystem sync for a round of files, one sync per folder): when this resolves the archive
 * and its name survive a power cut, and at no moment does `file` name a partial archive. Takes no
 * write lock: the caller owns `file`. The create, write and close are direct calls (a hand-off to
 * Node's thread pool costs more than they do: bench/convert-scale.mjs).
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
  const tmp = path.join(
    path.dirname(file),
    `.~ss-${path.basename(file)}.${RUN}-${(serial++).toString(36)}.tmp`,
  );
  try {
    const fd = openSync(tmp, "wx");
    try {
      writeFullySync(fd, bytes);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the write's own failure is the one to report
    }
    throw e;
  }
  await commitFile(tmp, file);
}
