import { open } from "node:fs/promises";
import { StoreError } from "../errors.js";
import { findCentralDirectory, MAX_TAIL, parseZip64End } from "../zip-format.js";

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;

/**
 * Rewrites the end records of a finished zip file in place: a ZIP64 end-of-central-directory record
 * and locator (always, as OME-Zarr RFC-9 asks), then the classic end record carrying `comment` as
 * the archive comment. Entries and the central directory are left untouched. A post-close step,
 * because the zip writer has no option for either.
 *
 * @example
 * ```ts
 * await finishZip64WithComment("image.ozx", JSON.stringify({ ome: { version: "0.5" } }));
 * ```
 */
export async function finishZip64WithComment(file: string, comment: string): Promise<void> {
  const text = new TextEncoder().encode(comment);
  const where = `zip ${file}`;
  if (text.byteLength > 0xffff) {
    throw new StoreError(
      where,
      "write",
      "/",
      new Error(`the archive comment has ${text.byteLength} bytes, more than 65,535`),
    );
  }
  const fh = await open(file, "r+");
  try {
    const size = (await fh.stat()).size;
    const tailLength = Math.min(size, MAX_TAIL);
    const tail = new Uint8Array(tailLength);
    await fh.read(tail, 0, tailLength, size - tailLength);
    let loc = findCentralDirectory(tail, size, where);
    if ("zip64Offset" in loc) {
      const rec = new Uint8Array(56);
      await fh.read(rec, 0, 56, loc.zip64Offset);
      loc = parseZip64End(rec, where);
    }
    const end = loc.offset + loc.size;
    const out = new Uint8Array(56 + 20 + 22 + text.byteLength);
    const v = new DataView(out.buffer);
    v.setUint32(0, SIG_EOCD64, true);
    v.setBigUint64(4, 44n, true);
    v.setUint16(12, (3 << 8) | 45, true);
    v.setUint16(14, 45, true);
    v.setBigUint64(24, BigInt(loc.entries), true);
    v.setBigUint64(32, BigInt(loc.entries), true);
    v.setBigUint64(40, BigInt(loc.size), true);
    v.setBigUint64(48, BigInt(loc.offset), true);
    v.setUint32(56, SIG_LOCATOR64, true);
    v.setBigUint64(64, BigInt(end), true);
    v.setUint32(72, 1, true);
    v.setUint32(76, SIG_EOCD, true);
    v.setUint16(84, 0xffff, true);
    v.setUint16(86, 0xffff, true);
    v.setUint32(88, 0xffffffff, true);
    v.setUint32(92, 0xffffffff, true);
    v.setUint16(96, text.byteLength, true);
    out.set(text, 98);
    await fh.truncate(end);
    await fh.write(out, 0, out.byteLength, end);
  } finally {
    await fh.close();
  }
}
