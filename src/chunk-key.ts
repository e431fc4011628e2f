import type { ChunkLayout } from "./array-metadata.js";
import type { AbsolutePath } from "./types.js";

/**
 * A chunk key split for an array shard: the leading `dims` indices and the key inside the index store.
 *
 * @example
 * ```ts
 * // "c/10/3/0/1" with dims 2 → { index: [10, 3], inner: "/c/0/1" }
 * ```
 */
export interface SplitChunkKey {
  index: number[];
  /** Row-major position of `index` in the leading grid (with a layout), else -1. */
  flat: number;
  inner: AbsolutePath;
}

const C = 99; // "c"
const ZERO = 48;
const NINE = 57;

/**
 * Splits `rest` (a key relative to the array, e.g. `c/10/3/0/1` or `10.3.0.1`) into the first
 * `dims` chunk indices and the index store's key. With a known `layout` the key must match its
 * encoding, separator, number of dimensions and grid bounds exactly; with `null` (metadata not read
 * yet) the encoding is inferred from the key's shape. `start` is where the array-relative part begins
 * in `rest` (a whole store key can be passed without slicing it). Returns `null` for anything that is not a chunk
 * key (metadata documents, foreign files, out-of-grid indices): those belong to the base store.
 *
 * @example
 * ```ts
 * splitChunkKey("c/10/3/0/1", 2, layout); // { index: [10, 3], flat: 10 * grid[1] + 3, inner: "/c/0/1" }
 * ```
 */
export function splitChunkKey(
  rest: string,
  dims: number,
  layout: ChunkLayout | null,
  start = 0,
): SplitChunkKey | null {
  let encoding: "default" | "v2";
  let sepCode: number;
  let pos = start;
  if (layout !== null) {
    encoding = layout.encoding;
    sepCode = layout.separator.charCodeAt(0);
    if (encoding === "default") {
      if (rest.charCodeAt(start) !== C || rest.charCodeAt(start + 1) !== sepCode) return null;
      pos = start + 2;
    }
  } else if (rest.charCodeAt(start) === C) {
    encoding = "default";
    sepCode = rest.charCodeAt(start + 1);
    if (sepCode !== 47 && sepCode !== 46) return null;
    pos = start + 2;
  } else {
    encoding = "v2";
    sepCode = 0;
    for (let i = start; i < rest.length; i++) {
      const ch = rest.charCodeAt(i);
      if (ch < ZERO || ch > NINE) {
        sepCode = ch;
        break;
      }
    }
    if (sepCode !== 0 && sepCode !== 47 && sepCode !== 46) return null;
  }
  const index: number[] = new Array(dims);
  const n = rest.length;
  let flat = layout === null ? -1 : 0;
  for (let d = 0; d < dims; d++) {
    const first = pos;
    let value = 0;
    while (pos < n) {
      const ch = rest.charCodeAt(pos);
      if (ch < ZERO || ch > NINE) break;
      value = value * 10 + (ch - ZERO);
      pos++;
    }
    const len = pos - first;
    if (len === 0 || (len > 1 && rest.charCodeAt(first) === ZERO) || len > 15) return null;
    if (layout !== null) {
      const g = layout.grid[d] ?? 0;
      if (value >= g) return null;
      flat = flat * g + value;
    }
    index[d] = value;
    if (pos < n) {
      if (rest.charCodeAt(pos) !== sepCode) return null;
      if (d < dims - 1) pos++;
    } else if (d < dims - 1) {
      return null;
    }
  }
  if (flat > Number.MAX_SAFE_INTEGER) flat = -1;
  if (pos === n) {
    if (layout !== null && layout.ndim !== dims) return null;
    return { index, flat, inner: encoding === "default" ? "/c" : "/0" };
  }
  // pos is at a separator; the remainder must be exactly the remaining indices, inside the grid.
  const remainder = rest.slice(pos + 1);
  const grid = layout?.grid;
  let tokens = 0;
  let tokenLen = 0;
  let value = 0;
  let leadingZero = false;
  for (let i = 0; i <= remainder.length; i++) {
    const ch = i < remainder.length ? remainder.charCodeAt(i) : sepCode;
    if (ch === sepCode) {
      if (tokenLen === 0 || (leadingZero && tokenLen > 1) || tokenLen > 15) return null;
      if (grid !== undefined && value >= (grid[dims + tokens] ?? 0)) return null;
      tokens++;
      tokenLen = 0;
      value = 0;
    } else if (ch < ZERO || ch > NINE) {
      return null;
    } else {
      if (tokenLen === 0) leadingZero = ch === ZERO;
      value = value * 10 + (ch - ZERO);
      tokenLen++;
    }
  }
  if (layout !== null && tokens !== layout.ndim - dims) return null;
  const inner = encoding === "default" ? `/c${String.fromCharCode(sepCode)}${remainder}` : `/${remainder}`;
  return { index, flat, inner: inner as AbsolutePath };
}

/**
 * The inverse of {@link splitChunkKey}: the array-relative key for an index tuple and an index
 * store's chunk key, or `null` when `inner` is not a chunk key of the sub-array.
 *
 * @example
 * ```ts
 * joinChunkKey([10, 3], "/c/0/1", layout); // "c/10/3/0/1"
 * ```
 */
export function joinChunkKey(index: readonly number[], inner: string, layout: ChunkLayout): string | null {
  const sep = layout.separator;
  const idx = index.join(sep);
  if (layout.encoding === "default") {
    if (inner === "/c") return `c${sep}${idx}`;
    if (!inner.startsWith(`/c${sep}`)) return null;
    return `c${sep}${idx}${sep}${inner.slice(3)}`;
  }
  if (layout.ndim === index.length) return inner === "/0" ? idx : null;
  return `${idx}${sep}${inner.slice(1)}`;
}
