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
