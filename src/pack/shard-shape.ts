const ITEM_SIZES: Record<string, number> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  float16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  int64: 8,
  uint64: 8,
  float64: 8,
  complex64: 8,
  complex128: 16,
};

/**
 * Bytes per element of a Zarr v3 data type (8 when unknown, a safe upper bound for numbers).
 *
 * @example
 * ```ts
 * itemSize("float32"); // 4
 * ```
 */
export function itemSize(dataType: unknown): number {
  return typeof dataType === "string" ? (ITEM_SIZES[dataType] ?? 8) : 8;
}

/**
 * A shard shape for an array: whole chunks, grown along the trailing dimensions first (they are
 * contiguous in C order) until a shard covers the array or would exceed `maxBytes` uncompressed.
 *
 * @example
 * ```ts
 * defaultShardShape([64, 512, 512], [1, 256, 256], 4, 64 << 20); // [64, 512, 512]
 * ```
 */
export function defaultShardShape(
  shape: readonly number[],
  chunks: readonly number[],
  bytesPerItem: number,
  maxBytes: number,
): number[] {
  const shard = [...chunks];
  let bytes = chunks.reduce((a, b) => a * b, bytesPerItem);
  for (let d = shape.length - 1; d >= 0; d--) {
    const full = Math.max(1, Math.ceil(shape[d]! / chunks[d]!));
    const m = Math.min(full, Math.max(1, Math.floor(maxBytes / bytes)));
    shard[d] = chunks[d]! * m;
    bytes *= m;
    if (m < full) break;
  }
  return shard;
}
