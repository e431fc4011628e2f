// The ZIP container format (APPNOTE 6.3.x): just what a Zarr store needs — the end-of-central-directory
// records (ZIP64 included), central directory entries, and local file headers. No I/O here.
import { StoreError } from "./errors.js";

/** One entry of a zip's central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local file header. */
  headerOffset: number;
  /** Offset of the entry's data once known (after reading or writing its local header). */
  dataOffset?: number;
  /** The central directory record as read: written back unchanged when appending (keeps flags, times, extras). */
  raw?: Uint8Array;
}

/** Where the central directory is, from the end records. */
export interface CentralDirectoryLocation {
  entries: number;
  offset: number;
  size: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const U16 = 0xffff;
const U32 = 0xffffffff;
const UTF8_FLAG = 0x0800;
/** The largest tail that can hold the end record (22 bytes + a 65,535-byte comment) and the ZIP64 locator. */
export const MAX_TAIL = 22 + 0xffff + 20;
/** Fixed part of a local file header. */
export const LOCAL_HEADER_SIZE = 30;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function corrupt(where: string, why: string): StoreError {
  return new StoreError(where, "read", "/", new Error(`not a valid zip: ${why}`));
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("zip offset beyond 2^53");
  return Number(n);
}

/**
 * Finds the central directory from the last bytes of a zip (`tail`, ending at `fileSize`).
 * Returns `{ zip64Offset }` when the ZIP64 end record must be read first (it lies before the tail).
 *
 * @example
 * ```ts
 * const loc = findCentralDirectory(tail, size, "ZipStore(a.zip)");
 * ```
 */
export function findCentralDirectory(
  tail: Uint8Array,
  fileSize: number,
  where: string,
): CentralDirectoryLocation | { zip64Offset: number } {
  const v = view(tail);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (v.getUint32(i, true) !== SIG_EOCD) continue;
    const commentLength = v.getUint16(i + 20, true);
    if (i + 22 + commentLength !== tail.length) continue; // a signature inside the comment
    const entries = v.getUint16(i + 10, true);
    const size = v.getUint32(i + 12, true);
    const offset = v.getUint32(i + 16, true);
    if (entries === U16 || size === U32 || offset === U32) {
      const loc = i - 20;
      if (loc < 0 || v.getUint32(loc, true) !== SIG_LOCATOR64) throw corrupt(where, "ZIP64 locator missing");
      return { zip64Offset: u64(v, loc + 8) };
    }
    if (offset + size > fileSize) throw corrupt(where, "central directory beyond the end of the file");
    return { entries, offset, size };
  }
  throw corrupt(where, "end of central directory record not found");
}

/**
 * Reads a ZIP64 end-of-central-directory record.
 *
 * @example
 * ```ts
 * const loc = parseZip64End(await read(off, 56), "ZipStore(a.zip)");
 * ```
 */
export function parseZip64End(record: Uint8Array, where: string): CentralDirectoryLocation {
  const v = view(record);
  if (record.length < 56 || v.getUint32(0, true) !== SIG_EOCD64) throw corrupt(where, "bad ZIP64 end record");
  return { entries: u64(v, 32), size: u64(v, 40), offset: u64(v, 48) };
}

/**
 * Parses the central directory into entries (directories — names ending in `/` — included).
 *
 * @example
 * ```ts
 * for (const e of parseCentralDirectory(bytes, loc.entries, "ZipStore(a.zip)")) console.log(e.name);
 * ```
 */
export function parseCentralDirectory(cd: Uint8Array, count: number, where: string): ZipEntry[] {
  const v = view(cd);
  const out: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || v.getUint32(p, true) !== SIG_CENTRAL)
      throw corrupt(where, `central directory entry ${n} is damaged`);
    const method = v.getUint16(p + 10, true);
    const crc32 = v.getUint32(p + 16, true);
    let compressedSize = v.getUint32(p + 20, true);
    let size = v.getUint32(p + 24, true);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentLength = v.getUint16(p + 32, true);
    let headerOffset = v.getUint32(p + 42, true);
    const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLength));
    if (size === U32 || compressedSize === U32 || headerOffset === U32) {
      // ZIP64 extended information: only the fields that overflowed, in this order.
      let e = p + 46 + nameLength;
      const end = e + extraLength;
      while (e + 4 <= end) {
        const id = v.getUint16(e, true);
        const len = v.getUint16(e + 2, true);
        if (id === 0x0001) {
          let f = e + 4;
          if (size === U32) {
            size = u64(v, f);
            f += 8;
          }
          if (compressedSize === U32) {
            compressedSize = u64(v, f);
            f += 8;
          }
          if (headerOffset === U32) headerOffset = u64(v, f);
          break;
        }
        e += 4 + len;
      }
    }
    const end = p + 46 + nameLength + extraLength + commentLength;
    out.push({ name, method, crc32, compressedSize, size, headerOffset, raw: cd.subarray(p, end) });
    p = end;
  }
  return out;
}

/**
 * The offset of an entry's data, from the first bytes of its local header (at least 30 bytes).
 *
 * @example
 * ```ts
 * const start = entry.headerOffset + localDataStart(await read(entry.headerOffset, 30), "ZipStore(a.zip)");
 * ```
 */
export function localDataStart(header: Uint8Array, where: string): number {
  const v = view(header);
  if (header.length < LOCAL_HEADER_SIZE || v.getUint32(0, true) !== SIG_LOCAL)
    throw corrupt(where, "bad local file header");
  return LOCAL_HEADER_SIZE + v.getUint16(26, true) + v.getUint16(28, true);
}

function dosDateTime(d: Date): [number, number] {
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  const date = ((Math.max(1980, d.getFullYear()) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return [time, date];
}

/**
 * Encodes a local file header for an entry whose sizes and CRC are known up front (no data
 * descriptor). Entries of 4 GiB or more get a ZIP64 extra field.
 *
 * @example
 * ```ts
 * const header = localHeader({ name: "a/.zarray", method: 0, crc32: 0x1234abcd, compressedSize: 10, size: 10, headerOffset: 0 });
 * ```
 */
export function localHeader(e: ZipEntry, when = new Date()): Uint8Array {
  const name = encoder.encode(e.name);
  const big = e.size >= U32 || e.compressedSize >= U32;
  const out = new Uint8Array(LOCAL_HEADER_SIZE + name.length + (big ? 20 : 0));
  const v = view(out);
  const [time, date] = dosDateTime(when);
  v.setUint32(0, SIG_LOCAL, true);
  v.setUint16(4, big ? 45 : 20, true);
  v.setUint16(6, UTF8_FLAG, true);
  v.setUint16(8, e.method, true);
  v.setUint16(10, time, true);
  v.setUint16(12, date, true);
  v.setUint32(14, e.crc32, true);
  v.setUint32(18, big ? U32 : e.compressedSize, true);
  v.setUint32(22, big ? U32 : e.size, true);
  v.setUint16(26, name.length, true);
  v.setUint16(28, big ? 20 : 0, true);
  out.set(name, 30);
  if (big) {
    const x = 30 + name.length;
    v.setUint16(x, 0x0001, true);
    v.setUint16(x + 2, 16, true);
    v.setBigUint64(x + 4, BigInt(e.size), true);
    v.setBigUint64(x + 12, BigInt(e.compressedSize), true);
  }
  return out;
}

/**
 * Encodes the central directory and end records for `entries`, which start at `offset`. Uses
 * ZIP64 records when the entry count, a size or an offset does not fit the classic fields.
 *
 * @example
 * ```ts
 * await fh.write(centralDirectory(entries, endOfData), 0, undefined, endOfData);
 * ```
 */
export function centralDirectory(
  entries: readonly ZipEntry[],
  offset: number,
  when = new Date(),
): Uint8Array {
  const [time, date] = dosDateTime(when);
  const names = entries.map((e) => encoder.encode(e.name));
  const extras = entries.map(
    (e) => (e.size >= U32 ? 8 : 0) + (e.compressedSize >= U32 ? 8 : 0) + (e.headerOffset >= U32 ? 8 : 0),
  );
  let cdSize = 0;
  entries.forEach((e, i) => {
    const x = extras[i]!;
    cdSize += e.raw ? e.raw.length : 46 + names[i]!.length + (x > 0 ? 4 + x : 0);
  });
  const zip64 = entries.length >= U16 || offset >= U32 || cdSize >= U32 || extras.some((x) => x > 0);
  const out = new Uint8Array(cdSize + (zip64 ? 56 + 20 : 0) + 22);
  const v = view(out);
  let p = 0;
  entries.forEach((e, i) => {
    if (e.raw) {
      out.set(e.raw, p); // another writer's record, its offsets unchanged by appending
      p += e.raw.length;
      return;
    }
    const name = names[i]!;
    const x = extras[i]!;
    v.setUint32(p, SIG_CENTRAL, true);
    v.setUint16(p + 4, (3 << 8) | 45, true); // made by: Unix, spec 4.5
    v.setUint16(p + 6, x > 0 ? 45 : 20, true);
    v.setUint16(p + 8, UTF8_FLAG, true);
    v.setUint16(p + 10, e.method, true);
    v.setUint16(p + 12, time, true);
    v.setUint16(p + 14, date, true);
    v.setUint32(p + 16, e.crc32, true);
    v.setUint32(p + 20, Math.min(e.compressedSize, U32), true);
    v.setUint32(p + 24, Math.min(e.size, U32), true);
    v.setUint16(p + 28, name.length, true);
    v.setUint16(p + 30, x > 0 ? 4 + x : 0, true);
    v.setUint32(p + 38, (0o100644 << 16) >>> 0, true); // a regular file, rw-r--r--
    v.setUint32(p + 42, Math.min(e.headerOffset, U32), true);
    out.set(name, p + 46);
    p += 46 + name.length;
    if (x > 0) {
      v.setUint16(p, 0x0001, true);
      v.setUint16(p + 2, x, true);
      p += 4;
      for (const n of [e.size, e.compressedSize, e.headerOffset]) {
        if (n >= U32) {
          v.setBigUint64(p, BigInt(n), true);
          p += 8;
        }
      }
    }
  });
  if (zip64) {
    const end64 = offset + cdSize;
    v.setUint32(p, SIG_EOCD64, true);
    v.setBigUint64(p + 4, 44n, true);
    v.setUint16(p + 12, (3 << 8) | 45, true);
    v.setUint16(p + 14, 45, true);
    v.setBigUint64(p + 24, BigInt(entries.length), true);
    v.setBigUint64(p + 32, BigInt(entries.length), true);
    v.setBigUint64(p + 40, BigInt(cdSize), true);
    v.setBigUint64(p + 48, BigInt(offset), true);
    p += 56;
    v.setUint32(p, SIG_LOCATOR64, true);
    v.setBigUint64(p + 8, BigInt(end64), true);
    v.setUint32(p + 16, 1, true);
    p += 20;
  }
  v.setUint32(p, SIG_EOCD, true);
  v.setUint16(p + 8, zip64 ? U16 : entries.length, true);
  v.setUint16(p + 10, zip64 ? U16 : entries.length, true);
  v.setUint32(p + 12, zip64 ? U32 : cdSize, true);
  v.setUint32(p + 16, zip64 ? U32 : offset, true);
  return out;
}
