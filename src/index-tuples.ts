// Array-shard helpers used only after opening (metadata writes, probing, listing), so they load on
// first use (issue 12): byte comparison, grid walks, sliced v2 attributes, index ordering.

import { ArrayShardError } from "./errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every index tuple of the first `dims` grid dimensions, in C order (callers bound the count). */
export function* gridTuples(grid: readonly number[], dims: number): Generator<number[]> {
  const lead = grid.slice(0, dims);
  if (lead.some((n) => n === 0)) return;
  const idx = new Array<number>(dims).fill(0);
  for (;;) {
    yield idx.slice();
    let d = dims - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < lead[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

/** The v2 index stores' `.zattrs`: the array's, with `_ARRAY_DIMENSIONS` sliced to the remaining dims. */
export function sliceAttributes(path: string, bytes: Uint8Array, dims: number): Uint8Array {
  let attrs: unknown;
  try {
    attrs = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new ArrayShardError(path, ".zattrs is not valid JSON", { cause: e });
  }
  if (typeof attrs !== "object" || attrs === null || Array.isArray(attrs))
    throw new ArrayShardError(path, ".zattrs must be a JSON object");
  const out = { ...(attrs as Record<string, unknown>) };
  const names = out._ARRAY_DIMENSIONS;
  if (Array.isArray(names)) out._ARRAY_DIMENSIONS = names.slice(dims);
  return encoder.encode(JSON.stringify(out, null, 4));
}

/**
 * Orders index tuples in C order (for `Array.prototype.sort`).
 *
 * @example
 * ```ts
 * [[1, 0], [0, 2]].sort(compareTuples); // [[0, 2], [1, 0]]
 * ```
 */
export const compareTuples = (a: readonly number[], b: readonly number[]) => {
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return (a[d] ?? 0) - (b[d] ?? 0);
  return 0;
};
