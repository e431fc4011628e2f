// The zip limits and the entry check a ZipStore needs before it has parsed anything (zip-format.ts
// re-exports them): kept apart so that the parsing code can load on first use.
import type { ZipEntry } from "./zip-format.js";

/**
 * An error about the content of a zip (anything else keeps its own message).
 *
 * @example
 * ```ts
 * throw notValidZip("the end records are cut short"); // "not a valid zip: the end records are cut short"
 * ```
 */
export function notValidZip(what: string): Error {
  return new Error(`not a valid zip: ${what}`);
}

/** The largest tail that can hold the end record (22 bytes + a 65,535-byte comment) and the ZIP64 locator. */
export const MAX_TAIL = 22 + 0xffff + 20;
/** Fixed part of a local file header. */
export const LOCAL_HEADER_SIZE = 30;
/** Deflate cannot expand data more than 1032:1 (zlib's technical details); a little slack for tiny streams. */
const maxInflated = (compressed: number) => compressed * 1032 + 1024;
/** The largest value read into memory at once (a Uint8Array); bigger entries are read with getRange. */
export const MAX_VALUE_BYTES = 2 ** 32 - 1;

/**
 * Checks what an entry claims against the archive before any of it is read: a supported method, no
 * encryption, sizes that its compressed data can produce, and data that lies before `dataEnd` (the
 * central directory's offset). Returns a reason, or null when the entry can be read.
 *
 * @example
 * ```ts
 * const why = entryProblem(entry, loc.offset);
 * if (why) throw new Error(why);
 * ```
 */
export function entryProblem(e: ZipEntry, dataEnd: number): string | null {
  const name = () => JSON.stringify(e.name);
  if (((e.flags ?? 0) & 1) !== 0) return `entry ${name()} is encrypted (not supported)`;
  if (e.method !== 0 && e.method !== 8)
    return `entry ${name()} uses unsupported compression method ${e.method}`;
  if (e.method === 0 && e.size !== e.compressedSize)
    return `stored entry ${name()} claims ${e.size} bytes but holds ${e.compressedSize}`;
  if (e.method === 8 && e.size > maxInflated(e.compressedSize))
    return `entry ${name()} claims ${e.size} bytes from ${e.compressedSize} deflated bytes (more than deflate can produce)`;
  const start = e.dataOffset ?? e.headerOffset + LOCAL_HEADER_SIZE;
  if (start + e.compressedSize > dataEnd)
    return `entry ${name()} (${e.compressedSize} bytes at ${e.headerOffset}) lies beyond the archive's data (which ends at ${dataEnd})`;
  return null;
}
