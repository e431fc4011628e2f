import CRC32C from "crc-32/crc32c.js";

/**
 * CRC-32C (Castagnoli) of `data`, as the Zarr v3 `crc32c` codec stores it, from the kept `crc-32`
 * package (SheetJS; pure JavaScript with no dependencies, works in browsers; shard indexes are small).
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 */
export function crc32c(data: Uint8Array): number {
  return CRC32C.buf(data) >>> 0;
}
