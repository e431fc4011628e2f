// A compact, read-only index of a zip's central directory: parallel typed arrays and one Map from
// name to slot, so an open archive costs ~40 bytes per entry plus its name, and pins no read buffer.
import { eachCentralRecord, type ZipEntry } from "./zip-format.js";

/**
 * The entries of an archive by name, as a zip store reads them.
 *
 * @example
 * ```ts
 * const e = table.get("a/zarr.json");
 * if (e) table.learn(e); // remember where its data starts, once read
 * ```
 */
export interface EntryTable {
  /** The entry named `name` (a fresh object each call for a compact index). */
  get(name: string): ZipEntry | undefined;
  has(name: string): boolean;
  names(): IterableIterator<string>;
  /** Remembers `e.dataOffset`, learned from its local header. */
  learn(e: ZipEntry): void;
  /** Where entry data must end: the central directory's offset (or the end of what was written). */
  readonly dataEnd: number;
}

/**
 * An {@link EntryTable} over the entries of a write session (objects, kept in a Map).
 *
 * @example
 * ```ts
 * const table = new MapTable(new Map([["a", entry]]), () => 1024);
 * ```
 */
export class MapTable implements EntryTable {
  constructor(
    readonly map: Map<string, ZipEntry>,
    readonly end: () => number,
  ) {}
  get dataEnd(): number {
    return this.end();
  }
  get(name: string): ZipEntry | undefined {
    return this.map.get(name);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  names(): IterableIterator<string> {
    return this.map.keys();
  }
  learn(): void {} // the objects themselves carry what was learned
}

/**
 * The central directory of an archive opened for reading, parsed once into parallel typed arrays.
 * A name written twice resolves to its later record, as in Python's `zipfile`.
 *
 * @example
 * ```ts
 * const index = ZipIndex.parse(cdBytes, loc.entries, loc.offset, "ZipStore(a.zip)");
 * index.get("a/zarr.json")?.size;
 * ```
 */
export class ZipIndex implements EntryTable {
  readonly dataEnd: number;
  readonly #slots = new Map<string, number>();
  /**
   * Per entry, {@link FIELDS} doubles: header offset, compressed size, size, data offset minus
   * header offset (-1 until the local header was read), method + flags × 65,536. One array, not
   * one per field: a small archive pays one array header, not six. A plain array for a small
   * archive (no ArrayBuffer behind it: ~250 B less per archive, measured with 2 entries, and one
   * external allocation less for the garbage collector to track), a Float64Array otherwise.
   */
  readonly #fields: Float64Array | number[];

  private constructor(count: number, dataEnd: number) {
    this.dataEnd = dataEnd;
    this.#fields =
      count <= SMALL_ARCHIVE ? new Array<number>(count * FIELDS).fill(0) : new Float64Array(count * FIELDS);
  }

  /** Parses `count` central directory records from `cd`; entry data must end by `dataEnd`. */
  static parse(cd: Uint8Array, count: number, dataEnd: number, where: string): ZipIndex {
    const index = new ZipIndex(count, dataEnd);
    const f = index.#fields;
    let slot = 0;
    eachCentralRecord(cd, count, where, (e) => {
      const at = slot * FIELDS;
      f[at] = e.headerOffset;
      f[at + 1] = e.compressedSize;
      f[at + 2] = e.size;
      f[at + 3] = -1;
      f[at + 4] = e.method + (e.flags ?? 0) * 0x10000;
      index.#slots.set(e.name, slot++);
    });
    return index;
  }

  /** Number of distinct names. */
  get size(): number {
    return this.#slots.size;
  }

  get(name: string): ZipEntry | undefined {
    const s = this.#slots.get(name);
    if (s === undefined) return undefined;
    const f = this.#fields;
    const at = s * FIELDS;
    const methodFlags = f[at + 4]!;
    const e: ZipEntry = {
      name,
      method: methodFlags % 0x10000,
      flags: Math.floor(methodFlags / 0x10000),
      crc32: 0, // not kept: CRC-32s are not checked on read
      compressedSize: f[at + 1]!,
      size: f[at + 2]!,
      headerOffset: f[at]!,
    };
    const delta = f[at + 3]!;
    if (delta >= 0) e.dataOffset = e.headerOffset + delta;
    return e;
  }

  has(name: string): boolean {
    return this.#slots.has(name);
  }

  names(): IterableIterator<string> {
    return this.#slots.keys();
  }

  learn(e: ZipEntry): void {
    const s = this.#slots.get(e.name);
    if (s !== undefined && e.dataOffset !== undefined)
      this.#fields[s * FIELDS + 3] = e.dataOffset - e.headerOffset;
  }
}

const FIELDS = 5;
/** Entries up to which the fields are a plain array. */
const SMALL_ARCHIVE = 16;
