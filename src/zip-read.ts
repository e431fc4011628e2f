// What a ZipStore needs to parse an archive and read its entries, loaded on its first read
// (zip-store.ts): the end records, the central directory, local headers.

import { InvalidKeyError } from "./errors.js";
import { assertValidKey } from "./keys.js";
import { rangeBounds } from "./range.js";
import type { StoreZipSource } from "./store-byte-source.js";
import type { AbsolutePath, GetOptions, RangeQuery } from "./types.js";
import type { ValueInfo } from "./value-info.js";
import {
  findCentralDirectory,
  localDataStart,
  parseZip64End,
  ZIP64_END_SIZE,
  type ZipEntry,
} from "./zip-format.js";
import { type EntryTable, ZipIndex } from "./zip-index.js";
import { LOCAL_HEADER_SIZE, MAX_TAIL, MAX_VALUE_BYTES, notValidZip } from "./zip-limits.js";
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

/**
 * The steps of a ZipStore (its protected methods, which a subclass may override: Node's ZipStore
 * reads entries it has just written its own way) that the value readers below run.
 *
 * @example
 * ```ts
 * const value = await zipGet(store as unknown as ZipSteps, "/a/.zarray", "a/.zarray", false);
 * ```
 */
export interface ZipSteps {
  entries(): Promise<EntryTable>;
  label(): string;
  failure(op: string, key: string, err: unknown, signal?: AbortSignal): unknown;
  readRaw(e: ZipEntry, table: EntryTable, signal?: AbortSignal): Promise<Uint8Array>;
  readStored(
    e: ZipEntry,
    table: EntryTable,
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array>;
  inflate(data: Uint8Array, e: ZipEntry): Uint8Array;
}

/**
 * `v` itself when it owns exactly its bytes, else a copy: zarrita's `bytes` codec and string decoder
 * read `v.buffer` whole, ignoring a view's offset.
 */
function owned(v: Uint8Array): Uint8Array {
  return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice();
}

/** An entry's value from its stored bytes: inflated (exactly `e.size` bytes) when deflated. */
async function decode(z: ZipSteps, e: ZipEntry, table: EntryTable, builtIn: boolean, signal?: AbortSignal) {
  return decodeEntry(await z.readRaw(e, table, signal), e, (d, x) => z.inflate(d, x), builtIn);
}

/**
 * `ZipStore.get`: the value of entry `name` (key `key`), `undefined` when there is none; `builtIn`:
 * the store inflates with {@link fflateInflate}.
 *
 * @example
 * ```ts
 * const value = await zipGet(steps, "/a/.zarray", "a/.zarray", true);
 * ```
 */
export async function zipGet(
  z: ZipSteps,
  key: AbsolutePath,
  name: string,
  builtIn: boolean,
  opts?: GetOptions,
): Promise<Uint8Array | undefined> {
  try {
    const table = await z.entries();
    const e = table.get(name);
    if (e === undefined) return undefined;
    if (e.size > MAX_VALUE_BYTES)
      throw new Error(
        `entry ${JSON.stringify(name)} has ${e.size} bytes: too many for one value (use getRange)`,
      );
    return owned(await decode(z, e, table, builtIn, opts?.signal));
  } catch (err) {
    throw z.failure("get", key, err, opts?.signal);
  }
}

/**
 * `ZipStore.getRange`: bytes of entry `name`; only those are read from a stored entry.
 *
 * @example
 * ```ts
 * const head = await zipGetRange(steps, "/a/0", "a/0", { offset: 0, length: 16 }, true);
 * ```
 */
export async function zipGetRange(
  z: ZipSteps,
  key: AbsolutePath,
  name: string,
  range: RangeQuery,
  builtIn: boolean,
  opts?: GetOptions,
): Promise<Uint8Array | undefined> {
  let table: EntryTable;
  let e: ZipEntry | undefined;
  try {
    table = await z.entries();
    e = table.get(name);
  } catch (err) {
    throw z.failure("getRange", key, err, opts?.signal);
  }
  if (e === undefined) return undefined;
  const [start, end] = rangeBounds(range, e.size, `${z.label()} ${key}`);
  try {
    if (e.method !== 0) {
      if (e.size > MAX_VALUE_BYTES)
        throw new Error(`deflated entry ${JSON.stringify(name)} has ${e.size} bytes: too many to inflate`);
      return owned((await decode(z, e, table, builtIn, opts?.signal)).subarray(start, end));
    }
    if (end - start > MAX_VALUE_BYTES)
      throw new Error(
        `a range of ${end - start} bytes is too many for one value (at most ${MAX_VALUE_BYTES})`,
      );
    return owned(await z.readStored(e, table, start, end, opts?.signal));
  } catch (err) {
    throw z.failure("getRange", key, err, opts?.signal);
  }
}

/**
 * The central directory's record of entry `name` (nothing of the entry is read), `undefined` when
 * it is missing; a failure is `op`'s error.
 *
 * @example
 * ```ts
 * const e = await zipEntry(steps, "sizeOf", "/a/0", "a/0");
 * ```
 */
export async function zipEntry(
  z: ZipSteps,
  op: string,
  key: string,
  name: string,
): Promise<ZipEntry | undefined> {
  try {
    return (await z.entries()).get(name);
  } catch (err) {
    throw z.failure(op, key, err);
  }
}

/**
 * `ZipStore[valueInfo]` (serve): an entry's size, and an entity tag from its size and CRC-32.
 *
 * @example
 * ```ts
 * const info = await zipValueInfo(steps, "/a/0", "a/0"); // { size, etag, rangeReads }
 * ```
 */
export async function zipValueInfo(z: ZipSteps, key: string, name: string): Promise<ValueInfo | undefined> {
  const e = await zipEntry(z, "stat", key, name);
  if (e === undefined) return undefined;
  return {
    size: e.size,
    etag: `W/"${e.size.toString(16)}-${(e.crc32 >>> 0).toString(16)}"`,
    rangeReads: e.method === 0,
  };
}

/**
 * `ZipStore.list`: the keys under prefix `p` (directory entries and names no key can reach skipped).
 *
 * @example
 * ```ts
 * for await (const key of zipList(steps, "/a/")) console.log(key);
 * ```
 */
export async function* zipList(z: ZipSteps, p: string): AsyncGenerator<AbsolutePath> {
  let names: string[];
  try {
    names = [...(await z.entries()).names()];
  } catch (err) {
    throw z.failure("list", p, err);
  }
  for (const name of names) {
    if (name.endsWith("/")) continue; // directory entries are not keys
    const key = `/${name}`;
    if (!key.startsWith(p)) continue;
    try {
      assertValidKey(key, z.label());
    } catch (e) {
      if (e instanceof InvalidKeyError) continue; // a name no key can reach (`../x`, `a//b`)
      throw e;
    }
    yield key as AbsolutePath;
  }
}

/**
 * The reads of a zip that is a value of a store (`store-byte-source.ts` checks and names it):
 * ranges by `getRange`, the size by `size` (or a one-byte `tail`), the end records by `tail` in
 * one request when the store has it.
 *
 * @example
 * ```ts
 * const src = storeReader({ store: new S3Store({ bucket: "b" }), key: "/a.zarr.zip" });
 * ```
 */
export function storeReader(src: StoreZipSource): ByteSource {
  const { store, key } = src;
  const missing = () => new Error(`the archive ${key} does not exist in ${String(store)}`);
  let total: Promise<number> | undefined;
  const withSignal = (signal?: AbortSignal): GetOptions => (signal ? { signal } : {});
  const size = async (): Promise<number> => {
    if (store.size) {
      const n = await store.size(key);
      if (n === undefined) throw missing();
      return n;
    }
    if (store.tail) {
      const t = await store.tail(key, 1);
      if (t === undefined) throw missing();
      return t.size;
    }
    throw new Error(`${String(store)} can tell no value's size (it needs a size or tail method)`);
  };
  return {
    label: `ZipStore(${String(store)}${key})`,
    size: () => {
      total ??= size();
      total.catch(() => {
        total = undefined;
      });
      return total;
    },
    read: async (offset: number, length: number, signal?: AbortSignal) => {
      if (length === 0) return new Uint8Array(0);
      const out = await store.getRange(key, { offset, length }, withSignal(signal));
      if (out === undefined) throw missing();
      return out;
    },
    tail: async (length: number, signal?: AbortSignal) => {
      const t = await store.tail?.(key, length, withSignal(signal));
      if (t === undefined) throw missing();
      total ??= Promise.resolve(t.size);
      return t;
    },
  };
}
