// Internal capabilities a store may offer beyond the Store contract (not exported from the package):
// what it knows about a value without reading it. `serve` uses them for HEAD, ranges and ETags.
import type { AbsolutePath } from "./types.js";

/**
 * What a store knows about one value before reading it: its size, and when known a validator.
 *
 * @example
 * ```ts
 * const info: ValueInfo = { size: 262144, etag: 'W/"40000-1a2b3c4d"' };
 * ```
 */
export interface ValueInfo {
  /** The value's length in bytes (after decompression). */
  size: number;
  /** When the value last changed, if the store knows. */
  mtime?: Date;
  /** A validator that changes whenever the value does (an HTTP entity tag, quoted). */
  etag?: string;
  /** True when `getRange` reads only the bytes asked for (a stored zip entry; not a deflated one). */
  rangeReads?: boolean;
}

/**
 * A value kept as a whole local file, opened: its descriptor (the caller closes it with
 * `fs.close`), size and modification time, from one `fstat` of that same descriptor.
 *
 * @example
 * ```ts
 * const opened: OpenedFile = { fd: 3, size: 262144, mtime: new Date() };
 * ```
 */
export interface OpenedFile extends ValueInfo {
  fd: number;
  mtime: Date;
}

/**
 * Method key of `(key) => Promise<ValueInfo | undefined>`: a value's size (and validator) without
 * reading it; `undefined` when the key is missing.
 *
 * @example
 * ```ts
 * if (hasValueInfo(store)) console.log((await store[valueInfo]("/a/c/0"))?.size);
 * ```
 */
export const valueInfo: unique symbol = Symbol.for("shardedstore.valueInfo");

/**
 * Method key of `(key) => Promise<OpenedFile | undefined>`: opens the file holding a value (with
 * the store's own key and confinement checks); `undefined` when the key is missing.
 *
 * @example
 * ```ts
 * if (hasOpenFile(store)) {
 *   const f = await store[openFile]("/a/c/0");
 *   if (f) fs.closeSync(f.fd);
 * }
 * ```
 */
export const openFile: unique symbol = Symbol.for("shardedstore.openFile");

/**
 * A store that can tell a value's size without reading it.
 *
 * @example
 * ```ts
 * const s: ValueInfoStore = { [valueInfo]: async () => ({ size: 0 }) };
 * ```
 */
export interface ValueInfoStore {
  [valueInfo](key: AbsolutePath): Promise<ValueInfo | undefined>;
}

/**
 * A store whose values are whole local files it can open for the caller.
 *
 * @example
 * ```ts
 * const s: OpenFileStore = { [openFile]: async () => undefined };
 * ```
 */
export interface OpenFileStore {
  [openFile](key: AbsolutePath): Promise<OpenedFile | undefined>;
}

/**
 * Whether `store` offers {@link valueInfo}.
 *
 * @example
 * ```ts
 * hasValueInfo(new MemoryStore()); // false
 * ```
 */
export function hasValueInfo(store: object): store is ValueInfoStore {
  return typeof (store as Partial<ValueInfoStore>)[valueInfo] === "function";
}

/**
 * Whether `store` offers {@link openFile}.
 *
 * @example
 * ```ts
 * hasOpenFile(new DirectoryStore("data.zarr")); // true
 * ```
 */
export function hasOpenFile(store: object): store is OpenFileStore {
  return typeof (store as Partial<OpenFileStore>)[openFile] === "function";
}
