import { crc32, deflateRawSync } from "node:zlib";
import {
  findCentralDirectory,
  MAX_TAIL,
  parseCentralDirectory,
  parseZip64End,
  ZIP64_END_SIZE,
  type ZipEntry,
} from "../../src/zip-format.js";

/**
 * One entry of a hand-crafted zip. `zip64` lists the central-directory fields written as the
 * 0xFFFFFFFF sentinel with their real value in a ZIP64 extra field (as other writers do, even for
 * small values); `extraBefore` is another extra field placed before the ZIP64 one.
 */
export interface CraftEntry {
  name: string;
  data: Uint8Array;
  method?: 0 | 8;
  zip64?: Array<"size" | "compressedSize" | "offset">;
  extraBefore?: Uint8Array;
  /** Extra field bytes of the local header. */
  localExtra?: Uint8Array;
  /** The entry's comment in its central record (Info-ZIP's `zip -c`). */
  comment?: Uint8Array;
}

/** How the end records are written. */
export interface CraftOptions {
  /** Write a ZIP64 end record and locator. */
  zip64End?: boolean;
  /** In the classic end record, the entry count as 0xFFFF (else the real count). */
  countSentinel?: boolean;
  /** In the classic end record, the central directory offset as 0xFFFFFFFF. */
  offsetSentinel?: boolean;
  /** In the classic end record, the central directory size as 0xFFFFFFFF. */
  sizeSentinel?: boolean;
  comment?: Uint8Array;
}

const enc = new TextEncoder();

function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function u64(n: number): number[] {
  return [...u32(n % 2 ** 32), ...u32(Math.floor(n / 2 ** 32))];
}

/**
 * Builds a zip byte by byte (independently of src/zip-format.ts), to read archives shaped as other
 * writers make them.
 *
 * @example
 * ```ts
 * const bytes = craftZip([{ name: "a", data: new Uint8Array([1]), zip64: ["offset"] }], { zip64End: true });
 * ```
 */
export function craftZip(entries: CraftEntry[], options: CraftOptions = {}): Uint8Array {
  const out: number[] = [];
  const put = (bytes: ArrayLike<number>) => {
    for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!);
  };
  const central: number[] = [];
  for (const e of entries) {
    const name = enc.encode(e.name);
    const method = e.method ?? 0;
    const stored = method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data) >>> 0;
    const offset = out.length;
    const localExtra = e.localExtra ?? new Uint8Array(0);
    out.push(...u32(0x04034b50), ...u16(20), ...u16(0x0800), ...u16(method), ...u16(0), ...u16(0x21));
    out.push(...u32(crc), ...u32(stored.length), ...u32(e.data.length), ...u16(name.length));
    out.push(...u16(localExtra.length));
    put(name);
    put(localExtra);
    put(stored);
    const z = e.zip64 ?? [];
    const z64: number[] = [];
    if (z.includes("size")) z64.push(...u64(e.data.length));
    if (z.includes("compressedSize")) z64.push(...u64(stored.length));
    if (z.includes("offset")) z64.push(...u64(offset));
    const extra = [...(e.extraBefore ?? [])];
    if (z64.length > 0) extra.push(...u16(0x0001), ...u16(z64.length), ...z64);
    const S = 0xffffffff;
    central.push(...u32(0x02014b50), ...u16((3 << 8) | 45), ...u16(z64.length > 0 ? 45 : 20));
    central.push(...u16(0x0800), ...u16(method), ...u16(0), ...u16(0x21), ...u32(crc));
    central.push(...u32(z.includes("compressedSize") ? S : stored.length));
    central.push(...u32(z.includes("size") ? S : e.data.length));
    const comment = e.comment ?? new Uint8Array(0);
    central.push(...u16(name.length), ...u16(extra.length), ...u16(comment.length), ...u16(0), ...u16(0));
    central.push(...u32(0), ...u32(z.includes("offset") ? S : offset), ...name, ...extra, ...comment);
  }
  const cdOffset = out.length;
  put(central);
  if (options.zip64End) {
    const at = out.length;
    out.push(...u32(0x06064b50), ...u64(44), ...u16((3 << 8) | 45), ...u16(45), ...u32(0), ...u32(0));
    out.push(...u64(entries.length), ...u64(entries.length), ...u64(central.length), ...u64(cdOffset));
    out.push(...u32(0x07064b50), ...u32(0), ...u64(at), ...u32(1));
  }
  const comment = options.comment ?? new Uint8Array(0);
  const count = options.countSentinel ? 0xffff : entries.length;
  out.push(...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(count), ...u16(count));
  out.push(...u32(options.sizeSentinel ? 0xffffffff : central.length));
  out.push(...u32(options.offsetSentinel ? 0xffffffff : cdOffset), ...u16(comment.length), ...comment);
  return new Uint8Array(out);
}

/** An extra field of another kind (0x5455, extended timestamp), to place before a ZIP64 field. */
export const TIMESTAMP_EXTRA = new Uint8Array([0x55, 0x54, 5, 0, 1, 0x10, 0x20, 0x30, 0x40]);

/** An NTFS times extra field (0x000a, 32 bytes of data): longer than any ZIP64 field, to place before one. */
export const NTFS_EXTRA = new Uint8Array([
  0x0a,
  0,
  32,
  0,
  0,
  0,
  0,
  0,
  1,
  0,
  24,
  0,
  ...new Array(24).fill(0x11),
]);

/**
 * The central directory of an archive held in memory, found from its tail as a reader does.
 *
 * @example
 * ```ts
 * readDirectory(craftZip([{ name: "a", data: new Uint8Array(1) }])).map((e) => e.name); // ["a"]
 * ```
 */
export function readDirectory(bytes: Uint8Array): ZipEntry[] {
  const tail = bytes.subarray(Math.max(0, bytes.length - MAX_TAIL));
  let loc = findCentralDirectory(tail, bytes.length, "test");
  if ("zip64Offset" in loc) {
    const at = loc.zip64Offset;
    loc = parseZip64End(bytes.subarray(at, at + ZIP64_END_SIZE), "test", at);
  }
  const { offset, size, entries } = loc as { offset: number; size: number; entries: number };
  return parseCentralDirectory(bytes.subarray(offset, offset + size), entries, "test");
}
