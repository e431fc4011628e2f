import { crc32c as awsCrc32c } from "@aws-crypto/crc32c";

/**
 * CRC-32C (Castagnoli) of `data`, as the Zarr v3 `crc32c` codec stores it, from the kept
 * `@aws-crypto/crc32c` package (pure JavaScript, works in browsers; shard indexes are small).
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 */
export function crc32c(data: Uint8Array): number {
  return awsCrc32c(data) >>> 0;
}
