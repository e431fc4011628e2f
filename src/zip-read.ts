// What a ZipStore needs to parse an archive and read its entries, loaded on its first read
// (zip-store.ts): the end records, the central directory, local headers.
import {
  findCentralDirectory,
  localDataStart,
  parseZip64End,
  ZIP64_END_SIZE,
  type ZipEntry,
} from "./zip-format.js";
import { type EntryTable, ZipIndex } from "./zip-index.js";
import { LOCAL_HEADER_SIZE, MAX_TAIL, notValidZip } from "./zip-limits.js";
import type { ByteSource } from "./zip-store.js";

/**
 * What the entry readers need of a ZipStore: its bytes, its name for messages, and its entry check
 * (a subclass may tighten it).
 *
 * @example
 * ```ts
 * const r: EntryReader = { source, label: source.label, check: (e, t) => store.checkEntry(e, t) };
 * ```
 */
export interface EntryReader {
  readonly source: ByteSource;
  readonly label: string;
  check(e: ZipEntry, table: EntryTable): void;
}

/**
 * The entries of the archive in `src`, from its end records and central directory.
 *
 * @example
 * ```ts
 * const table = await readDirectory(source);
 * ```
 */
export async function readDirectory(src: ByteSource): Promise<EntryTable> {
  let size: number;
  let tail: Uint8Array;
  if (src.tail) ({ bytes: tail, size } = await src.tail(MAX_TAIL));
  else {
    size = await src.size();
    tail = await src.read(Math.max(0, size - MAX_TAIL), Math.min(size, MAX_TAIL));
  }
  if (size < 22) throw notValidZip(`${size} bytes is too small for a zip`);
  if (tail.length !== Math.min(size, MAX_TAIL)) throw notValidZip("the end records are cut short");
  const tailStart = size - tail.length;
  // Offsets and sizes were checked against the file's size before anything is read at them.
  const at = async (offset: number, length: number): Promise<Uint8Array> => {
    const bytes =
      offset >= tailStart
        ? tail.subarray(offset - tailStart, offset - tailStart + length)
        : await src.read(offset, length);
    if (bytes.length !== length) throw notValidZip("the central directory is cut short");
    return bytes;
  };
  let loc = findCentralDirectory(tail, size, src.label);
  if ("zip64Offset" in loc) {
    const recordAt = loc.zip64Offset;
    loc = parseZip64End(await at(recordAt, ZIP64_END_SIZE), src.label, recordAt);
  }
  return ZipIndex.parse(await at(loc.offset, loc.size), loc.entries, loc.offset, src.label);
}

/**
 * An entry's stored (possibly compressed) bytes, learning where its data starts.
 *
 * @example
 * ```ts
 * const raw = await readRaw(reader, entry, table);
 * ```
 */
export async function readRaw(
  r: EntryReader,
  e: ZipEntry,
  table: EntryTable,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (e.dataOffset === undefined) {
    if (r.source.parallelReads === true) {
      // Header and data (where it starts when the local extra field is empty) read at once, so the
      // value gets a buffer of its own without a copy; re-read if the guess was wrong.
      const guess = e.headerOffset + LOCAL_HEADER_SIZE + new TextEncoder().encode(e.name).length;
      const [header, data] = await Promise.all([
        r.source.read(e.headerOffset, LOCAL_HEADER_SIZE, signal),
        guess + e.compressedSize <= table.dataEnd
          ? r.source.read(guess, e.compressedSize, signal)
          : Promise.resolve(null),
      ]);
      learn(r, e, table, localDataStart(header, r.label));
      if (e.dataOffset === guess && data !== null) return whole(data, e);
    } else {
      // One read for header and data: the local name matches the central one; the extra field rarely exceeds 64 bytes.
      const guess = LOCAL_HEADER_SIZE + new TextEncoder().encode(e.name).length + 64;
      const want = Math.min(guess + e.compressedSize, table.dataEnd - e.headerOffset);
      const first = await r.source.read(e.headerOffset, want, signal);
      const start = localDataStart(first, r.label);
      learn(r, e, table, start);
      if (start + e.compressedSize <= first.length)
        return whole(first.subarray(start, start + e.compressedSize), e);
    }
  }
  return whole(await r.source.read(e.dataOffset!, e.compressedSize, signal), e);
}

/** Records where an entry's data starts (from its local header) and checks it again from there. */
function learn(r: EntryReader, e: ZipEntry, table: EntryTable, start: number): void {
  e.dataOffset = e.headerOffset + start;
  r.check(e, table);
  table.learn(e);
}

function whole(raw: Uint8Array, e: ZipEntry): Uint8Array {
  if (raw.length !== e.compressedSize) throw notValidZip(`entry ${JSON.stringify(e.name)} is cut short`);
  return raw;
}

/**
 * Bytes `[start, end)` of a stored (uncompressed) entry: only those are read.
 *
 * @example
 * ```ts
 * const bytes = await readStored(reader, entry, table, 0, 100);
 * ```
 */
export async function readStored(
  r: EntryReader,
  e: ZipEntry,
  table: EntryTable,
  start: number,
  end: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (e.dataOffset === undefined) {
    const header = await r.source.read(e.headerOffset, LOCAL_HEADER_SIZE, signal);
    learn(r, e, table, localDataStart(header, r.label));
  }
  const out = await r.source.read(e.dataOffset! + start, end - start, signal);
  if (out.length !== end - start) throw notValidZip(`entry ${JSON.stringify(e.name)} is cut short`);
  return out;
}

let inflateSync: typeof import("fflate").inflateSync | undefined;

/**
 * Inflates a deflated entry (raw DEFLATE) with fflate into exactly `e.size` bytes; a stream of any
 * other length is an error. Never produces more than one byte past the declared size. fflate loads
 * with the first deflated entry ({@link decodeEntry}).
 *
 * @example
 * ```ts
 * const value = fflateInflate(raw, entry);
 * ```
 */
export function fflateInflate(data: Uint8Array, e: ZipEntry): Uint8Array {
  if (inflateSync === undefined) throw new Error("fflate is not loaded"); // decodeEntry loads it first
  // One spare byte tells a stream that is too long from one that is exactly right.
  const out = inflateSync(data, { out: new Uint8Array(e.size + 1) });
  if (out.length > e.size)
    throw notValidZip(`entry ${JSON.stringify(e.name)} inflates to more than ${e.size} bytes`);
  return out;
}

/**
 * A deflated entry's value through `inflate` (a ZipStore's own; `builtIn`: it is
 * {@link fflateInflate}, so fflate is loaded first), checked to be exactly `e.size` bytes.
 *
 * @example
 * ```ts
 * const value = await decodeEntry(raw, entry, fflateInflate, true);
 * ```
 */
export async function decodeEntry(
  raw: Uint8Array,
  e: ZipEntry,
  inflate: (data: Uint8Array, e: ZipEntry) => Uint8Array,
  builtIn: boolean,
): Promise<Uint8Array> {
  if (e.method === 0) return raw;
  if (inflateSync === undefined && builtIn) ({ inflateSync } = await import("fflate"));
  let out: Uint8Array;
  try {
    out = inflate(raw, e);
  } catch (err) {
    if (err instanceof Error && /^not a valid zip/.test(err.message)) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw notValidZip(`entry ${JSON.stringify(e.name)} has damaged deflate data (${why})`);
  }
  if (out.length !== e.size)
    throw notValidZip(`entry ${JSON.stringify(e.name)} inflates to ${out.length} bytes, not ${e.size}`);
  return out;
}
