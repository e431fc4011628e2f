import { InvalidKeyError } from "./errors.js";
import type { RangeQuery } from "./types.js";

/**
 * Validates a range query and returns `[start, end)` for a value of `size` bytes (end clamped).
 *
 * @example
 * ```ts
 * rangeBounds({ suffixLength: 4 }, 10, "x"); // [6, 10]
 * ```
 */
export function rangeBounds(range: RangeQuery, size: number, where: string): [number, number] {
  if ("suffixLength" in range) {
    const n = range.suffixLength;
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidKeyError(where, `bad suffixLength ${n}`, "range");
    return [Math.max(0, size - n), size];
  }
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new InvalidKeyError(where, `bad range offset=${offset} length=${length}`, "range");
  }
  const start = Math.min(offset, size);
  return [start, Math.min(size, offset + length)];
}

/**
 * Slices `value` by a range query (a copy-free view).
 *
 * @example
 * ```ts
 * sliceRange(new Uint8Array([1, 2, 3]), { offset: 1, length: 1 }, "x"); // Uint8Array [2]
 * ```
 */
export function sliceRange(value: Uint8Array, range: RangeQuery, where: string): Uint8Array {
  const [s, e] = rangeBounds(range, value.byteLength, where);
  return value.subarray(s, e);
}

/**
 * Validates a range query and writes it as an HTTP `Range` header value. A zero-length range has no
 * header form, so it asks for one byte (enough to learn whether the key exists).
 *
 * @example
 * ```ts
 * rangeHeader({ offset: 10, length: 5 }, "x"); // "bytes=10-14"
 * rangeHeader({ suffixLength: 22 }, "x");     // "bytes=-22"
 * ```
 */
export function rangeHeader(range: RangeQuery, where: string): string {
  rangeBounds(range, Number.MAX_SAFE_INTEGER, where);
  if ("suffixLength" in range) return range.suffixLength === 0 ? "bytes=0-0" : `bytes=-${range.suffixLength}`;
  return range.length === 0 ? "bytes=0-0" : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}
