// The ZIP container format (APPNOTE 6.3.x): just what a Zarr store needs — the end-of-central-directory
// records (ZIP64 included), central directory entries, and local file headers. No I/O here.
import { StoreError } from "./errors.js";
import { LOCAL_HEADER_SIZE } from "./zip-limits.js";

export { entryProblem, LOCAL_HEADER_SIZE, MAX_TAIL, MAX_VALUE_BYTES } from "./zip-limits.js";

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
  /** General purpose flags as read (bit 0: encrypted); 0 for entries we write. */
  flags?: number;
  /** The central directory record as read: written back unchanged when appending (keeps flags, times, extras). */
  raw?: Uint8Array;
}

/** Where the central directory is, from the end records. */
export interface CentralDirectoryLocation {
  entries: number;
  offset: number;
  size: number;
  /** The archive comment, when there is one. */
  comment?: Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const U16 = 0xffff;
const U32 = 0xffffffff;
const UTF8_FLAG = 0x0800;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function corrupt(where: string, why: string): StoreError {
  return new StoreError(where, "read", "/", new Error(`not a valid zip: ${why}`));
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number, where: string, what: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(where, `${what} ${n} is beyond any real file`);
  return Number(n);
}

/** The smallest central directory record (no name, extra field or comment). */
const CENTRAL_RECORD_SIZE = 46;
/** The ZIP64 end-of-central-directory record without its extensible data. */
export const ZIP64_END_SIZE = 56;

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
): CentralDirectoryLocation | { zip64Offset: number; comment?: Uint8Array } {
  if (tail.length > fileSize) throw corrupt(where, "the end records are longer than the file");
  const v = view(tail);
  const tailStart = fileSize - tail.length;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (v.getUint32(i, true) !== SIG_EOCD) continue;
    const commentLength = v.getUint16(i + 20, true);
    if (i + 22 + commentLength !== tail.length) continue; // a signature inside the comment
    const entries = v.getUint16(i + 10, true);
    const size = v.getUint32(i + 12, true);
    const offset = v.getUint32(i + 16, true);
    const endAt = tailStart + i;
    const comment = commentLength > 0 ? { comment: tail.slice(i + 22) } : {};
    const loc = i - 20;
    if (entries === U16 || size === U32 || offset === U32) {
      if (loc < 0 || v.getUint32(loc, true) !== SIG_LOCATOR64) {
        // Without a locator the fields are real values: Python's zipfile writes exactly 65,535
        // entries as 0xFFFF with no ZIP64 records (and reads them so).
        if (size === U32 || offset === U32) throw corrupt(where, "ZIP64 locator missing");
        return { ...checkLocation({ entries, offset, size }, endAt, where), ...comment };
      }
      const zip64Offset = u64(v, loc + 8, where, "the ZIP64 end record offset");
      if (zip64Offset + ZIP64_END_SIZE > endAt - 20)
        throw corrupt(where, `the ZIP64 end record (at ${zip64Offset}) lies beyond the end of the file`);
      return { zip64Offset, ...comment };
    }
    return { ...checkLocation({ entries, offset, size }, endAt, where), ...comment };
  }
  throw corrupt(where, "end of central directory record not found");
}

/** A central directory must lie before the end records and be big enough for its entry count. */
function checkLocation(
  loc: CentralDirectoryLocation,
  endAt: number,
  where: string,
): CentralDirectoryLocation {
  if (loc.offset + loc.size > endAt)
    throw corrupt(
      where,
      `the central directory (${loc.size} bytes at ${loc.offset}) lies beyond the end of the file (${endAt})`,
    );
  if (loc.entries * CENTRAL_RECORD_SIZE > loc.size)
    throw corrupt(where, `${loc.entries} entries cannot fit a central directory of ${loc.size} bytes`);
  return loc;
}

/**
 * Reads a ZIP64 end-of-central-directory record.
 *
 * @example
 * ```ts
 * const loc = parseZip64End(await read(off, 56), "ZipStore(a.zip)", off);
 * ```
 */
export function parseZip64End(
  record: Uint8Array,
  where: string,
  recordAt?: number,
): CentralDirectoryLocation {
  const v = view(record);
  if (record.length < ZIP64_END_SIZE || v.getUint32(0, true) !== SIG_EOCD64)
    throw corrupt(where, "bad ZIP64 end record");
  const loc = {
    entries: u64(v, 32, where, "the ZIP64 entry count"),
    size: u64(v, 40, where, "the ZIP64 central directory size"),
    offset: u64(v, 48, where, "the ZIP64 central directory offset"),
  };
  return recordAt === undefined ? loc : checkLocation(loc, recordAt, where);
}

/**
 * Parses the central directory into entries (directories — names ending in `/` — included).
 *
 * @example
 * ```ts
 * for (const e of parseCentralDirectory(bytes, loc.entries, "ZipStore(a.zip)")) console.log(e.name);
 * ```
 */
export function parseCentralDirectory(
  cd: Uint8Array,
  count: number,
  where: string,
  options: { raw?: boolean } = {},
): ZipEntry[] {
  const out: ZipEntry[] = [];
  eachCentralRecord(cd, count, where, (e, start, end) => {
    if (options.raw !== false) e.raw = cd.subarray(start, end);
    out.push(e);
  });
  return out;
}

/**
 * Walks the central directory record by record, checking that every record and its ZIP64 field lie
 * inside `cd`, and hands each entry (with the record's bounds in `cd`) to `each`.
 *
 * @example
 * ```ts
 * eachCentralRecord(cd, loc.entries, "ZipStore(a.zip)", (e) => console.log(e.name, e.size));
 * ```
 */
export function eachCentralRecord(
  cd: Uint8Array,
  count: number,
  where: string,
  each: (entry: ZipEntry, start: number, end: number) => void,
): void {
  const v = view(cd);
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + CENTRAL_RECORD_SIZE > cd.length || v.getUint32(p, true) !== SIG_CENTRAL)
      throw corrupt(where, `central directory entry ${n} is damaged`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc32 = v.getUint32(p + 16, true);
    let compressedSize = v.getUint32(p + 20, true);
    let size = v.getUint32(p + 24, true);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentLength = v.getUint16(p + 32, true);
    let headerOffset = v.getUint32(p + 42, true);
    const end = p + CENTRAL_RECORD_SIZE + nameLength + extraLength + commentLength;
    if (end > cd.length) throw corrupt(where, `central directory entry ${n} runs past the directory's end`);
    const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLength));
    if (size === U32 || compressedSize === U32 || headerOffset === U32) {
      // ZIP64 extended information: only the fields that overflowed, in this order.
      const wanted =
        (size === U32 ? 8 : 0) + (compressedSize === U32 ? 8 : 0) + (headerOffset === U32 ? 8 : 0);
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      let found = false;
      while (e + 4 <= extraEnd) {
        const id = v.getUint16(e, true);
        const len = v.getUint16(e + 2, true);
        if (e + 4 + len > extraEnd) break;
        if (id === 0x0001 && len >= wanted) {
          const what = `entry ${JSON.stringify(name)}'s ZIP64`;
          let f = e + 4;
          if (size === U32) {
            size = u64(v, f, where, `${what} size`);
            f += 8;
          }
          if (compressedSize === U32) {
            compressedSize = u64(v, f, where, `${what} compressed size`);
            f += 8;
          }
          if (headerOffset === U32) headerOffset = u64(v, f, where, `${what} offset`);
          found = true;
          break;
        }
        e += 4 + len;
      }
      if (!found) throw corrupt(where, `entry ${JSON.stringify(name)} has no ZIP64 field for its sizes`);
    }
    each({ name, method, flags, crc32, compressedSize, size, headerOffset }, p, end);
    p = end;
  }
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
 * Encodes the central directory and end records for `entries`, which start at `offset`, and the
 * archive `comment`. Uses ZIP64 records when the entry count, a size or an offset does not fit the
 * classic fields.
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
  comment: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (comment.length > U16)
    throw new RangeError(`a zip comment has at most 65,535 bytes, not ${comment.length}`);
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
  const out = new Uint8Array(cdSize + (zip64 ? 56 + 20 : 0) + 22 + comment.length);
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
  v.setUint16(p + 20, comment.length, true);
  out.set(comment, p + 22);
  return out;
}

const METADATA_RANK: Record<string, number> = {
  "zarr.json": 0,
  ".zgroup": 1,
  ".zarray": 2,
  ".zattrs": 3,
  ".zmetadata": 4,
};

/**
 * The order of central-directory records that puts Zarr metadata documents first (as OME-Zarr's
 * zipped layout asks, so one read at the front gets the hierarchy): `zarr.json`, then v2
 * `.zgroup`/`.zarray`/`.zattrs`/`.zmetadata`, root first then breadth-first; every other entry after
 * them in its original order.
 *
 * @example
 * ```ts
 * metadataFirst([{ name: "a/c/0" }, { name: "a/zarr.json" }, { name: "zarr.json" }]); // zarr.json, a/zarr.json, a/c/0
 * ```
 */
export function metadataFirst<E extends { name: string }>(entries: readonly E[]): E[] {
  const meta: Array<{ e: E; depth: number; dir: string; rank: number }> = [];
  const rest: E[] = [];
  for (const e of entries) {
    const cut = e.name.lastIndexOf("/");
    const rank = METADATA_RANK[e.name.slice(cut + 1)];
    if (rank === undefined) rest.push(e);
    else {
      const dir = cut < 0 ? "" : e.name.slice(0, cut);
      meta.push({ e, depth: cut < 0 ? 0 : dir.split("/").length, dir, rank });
    }
  }
  meta.sort((a, b) => a.depth - b.depth || (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0) || a.rank - b.rank);
  return [...meta.map((m) => m.e), ...rest];
}
