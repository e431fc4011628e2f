import { crc32c } from "./crc32c.js";

/** Index entry value of an inner chunk that is not stored: 2^64 − 1 in both fields. */
const MISSING = 0xffff_ffff_ffff_ffffn;

/**
 * Where an inner chunk lies in a shard: byte offset and length, or `null` when it is not stored.
 *
 * @example
 * ```ts
 * const entry: ShardIndexEntry = { offset: 0, nbytes: 4096 };
 * ```
 */
export type ShardIndexEntry = { offset: number; nbytes: number } | null;

/**
 * Builds one shard of the `sharding_indexed` codec with the index at the end and index codecs
 * `[bytes little-endian, crc32c]`: the stored inner chunks as given (already encoded, copied
 * verbatim), in order, then the index of `chunks.length` (offset, nbytes) uint64 pairs and its
 * CRC-32C. `chunks[i]` is inner chunk `i` in C order over the shard's chunk grid; `undefined` is a
 * missing chunk (index entry 2^64 − 1 twice).
 *
 * @example
 * ```ts
 * const shard = encodeShard([chunkA, undefined, chunkC]);
 * ```
 */
export function encodeShard(chunks: readonly (Uint8Array | undefined)[]): Uint8Array {
  let data = 0;
  for (const c of chunks) if (c !== undefined) data += c.byteLength;
  const indexBytes = chunks.length * 16;
  const out = new Uint8Array(data + indexBytes + 4);
  const view = new DataView(out.buffer, data, indexBytes + 4);
  let offset = 0;
  chunks.forEach((c, i) => {
    if (c === undefined) {
      view.setBigUint64(i * 16, MISSING, true);
      view.setBigUint64(i * 16 + 8, MISSING, true);
      return;
    }
    out.set(c, offset);
    view.setBigUint64(i * 16, BigInt(offset), true);
    view.setBigUint64(i * 16 + 8, BigInt(c.byteLength), true);
    offset += c.byteLength;
  });
  view.setUint32(indexBytes, crc32c(out.subarray(data, data + indexBytes)), true);
  return out;
}

/**
 * Reads the index of a shard written with the index at the end (or `"start"`) and index codecs
 * `[bytes little-endian, crc32c]` (the checksum is verified) or `[bytes little-endian]`. Throws an
 * `Error` saying what is wrong (too short, bad checksum, an entry outside the shard); callers wrap
 * it with the array and key.
 *
 * @example
 * ```ts
 * const entries = decodeShardIndex(shard, 8, { location: "end", checksum: true });
 * ```
 */
export function decodeShardIndex(
  shard: Uint8Array,
  count: number,
  options: { location: "start" | "end"; checksum: boolean },
): ShardIndexEntry[] {
  const indexBytes = count * 16;
  const size = indexBytes + (options.checksum ? 4 : 0);
  if (shard.byteLength < size) {
    throw new Error(`the shard has ${shard.byteLength} bytes, fewer than its ${size}-byte index`);
  }
  const start = options.location === "end" ? shard.byteLength - size : 0;
  const view = new DataView(shard.buffer, shard.byteOffset + start, size);
  if (options.checksum) {
    const want = view.getUint32(indexBytes, true);
    const got = crc32c(shard.subarray(start, start + indexBytes));
    if (want !== got) throw new Error("the shard index checksum (crc32c) does not match");
  }
  const out: ShardIndexEntry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const off = view.getBigUint64(i * 16, true);
    const len = view.getBigUint64(i * 16 + 8, true);
    if (off === MISSING && len === MISSING) {
      out[i] = null;
      continue;
    }
    if (off + len > BigInt(shard.byteLength)) {
      throw new Error(`index entry ${i} (offset ${off}, ${len} bytes) lies outside the shard`);
    }
    out[i] = { offset: Number(off), nbytes: Number(len) };
  }
  return out;
}
