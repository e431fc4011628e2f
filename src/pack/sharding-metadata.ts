import { intArray, isObject } from "../array-metadata.js";
import { ArrayShardError } from "../errors.js";
import type { JsonObject } from "./v2-metadata.js";

/**
 * The layout of a Zarr v3 array as pack and unpack need it.
 *
 * @example
 * ```ts
 * const a: ArrayGeometry = { shape: [4, 4], chunks: [2, 2], encoding: "default", separator: "/" };
 * ```
 */
export interface ArrayGeometry {
  shape: number[];
  chunks: number[];
  encoding: "default" | "v2";
  separator: "/" | ".";
}

/**
 * Shape, chunk shape and chunk key encoding of a v3 array's `zarr.json` (regular grid only).
 *
 * @example
 * ```ts
 * const { shape, chunks } = geometry("a", meta);
 * ```
 */
export function geometry(path: string, meta: JsonObject): ArrayGeometry {
  const shape = intArray(path, meta.shape, "shape");
  const grid = meta.chunk_grid;
  if (!isObject(grid) || grid.name !== "regular" || !isObject(grid.configuration)) {
    throw new ArrayShardError(
      path,
      `only the "regular" chunk grid can be packed, got ${JSON.stringify(grid)}`,
    );
  }
  const chunks = intArray(path, grid.configuration.chunk_shape, "chunk_grid.configuration.chunk_shape");
  if (chunks.length !== shape.length || chunks.some((c) => c === 0)) {
    throw new ArrayShardError(
      path,
      `chunk shape ${JSON.stringify(chunks)} does not fit shape ${JSON.stringify(shape)}`,
    );
  }
  const cke = isObject(meta.chunk_key_encoding) ? meta.chunk_key_encoding : { name: "default" };
  if (cke.name !== "default" && cke.name !== "v2") {
    throw new ArrayShardError(path, `unknown chunk_key_encoding ${JSON.stringify(cke.name)}`);
  }
  const sep =
    (isObject(cke.configuration) ? cke.configuration.separator : undefined) ??
    (cke.name === "v2" ? "." : "/");
  if (sep !== "/" && sep !== ".")
    throw new ArrayShardError(path, `chunk key separator ${JSON.stringify(sep)}`);
  return { shape, chunks, encoding: cke.name, separator: sep };
}

/**
 * The key of chunk `index` relative to the array (no leading slash): `c/1/2` (default encoding),
 * `1.2` (v2 encoding); a 0-d array's only chunk is `c` or `0`.
 *
 * @example
 * ```ts
 * chunkKey([1, 2], { encoding: "default", separator: "/" }); // "c/1/2"
 * ```
 */
export function chunkKey(index: readonly number[], g: Pick<ArrayGeometry, "encoding" | "separator">): string {
  if (g.encoding === "v2") return index.length === 0 ? "0" : index.join(g.separator);
  return index.length === 0 ? "c" : `c${g.separator}${index.join(g.separator)}`;
}

/**
 * Parses a chunk key relative to the array back to its index; `null` when it is not one.
 *
 * @example
 * ```ts
 * parseChunkKey("c/1/2", 2, { encoding: "default", separator: "/" }); // [1, 2]
 * ```
 */
export function parseChunkKey(
  key: string,
  ndim: number,
  g: Pick<ArrayGeometry, "encoding" | "separator">,
): number[] | null {
  let rest = key;
  if (g.encoding === "default") {
    if (ndim === 0) return key === "c" ? [] : null;
    if (!key.startsWith(`c${g.separator}`)) return null;
    rest = key.slice(2);
  } else if (ndim === 0) return key === "0" ? [] : null;
  const parts = rest.split(g.separator);
  if (parts.length !== ndim || !parts.every((p) => /^(0|[1-9]\d*)$/.test(p))) return null;
  return parts.map(Number);
}

// Codecs that turn an array into bytes; zarrita writes none for little-endian data (an implied
// `bytes`), which tensorstore rejects, so packing names it explicitly.
const ARRAY_TO_BYTES = new Set([
  "bytes",
  "vlen-utf8",
  "vlen-bytes",
  "numcodecs.vlen-utf8",
  "numcodecs.vlen-bytes",
]);
const ARRAY_TO_ARRAY = new Set(["transpose", "scale_offset", "cast_value", "bitround", "numcodecs.bitround"]);
const ONE_BYTE = new Set(["bool", "int8", "uint8"]);

function withBytesCodec(codecs: unknown, dataType: unknown): JsonObject[] {
  const list = (Array.isArray(codecs) ? codecs : []) as JsonObject[];
  const name = (c: JsonObject) => (typeof c === "string" ? c : c.name);
  if (list.some((c) => ARRAY_TO_BYTES.has(String(name(c))))) return list;
  let at = 0;
  while (at < list.length && ARRAY_TO_ARRAY.has(String(name(list[at]!)))) at++;
  const bytes: JsonObject = ONE_BYTE.has(String(dataType))
    ? { name: "bytes" }
    : { name: "bytes", configuration: { endian: "little" } };
  return [...list.slice(0, at), bytes, ...list.slice(at)];
}

const INDEX_CODECS = [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }];

function isSharded(codecs: unknown): boolean {
  return Array.isArray(codecs) && codecs.some((c) => isObject(c) && c.name === "sharding_indexed");
}

/**
 * The `zarr.json` of `meta` packed with shards of `shardShape`: chunk grid = the shard shape, one
 * `sharding_indexed` codec whose inner chunks are the old chunks and whose codecs are the old codecs,
 * index at the end with `[bytes little, crc32c]`. An implied `bytes` codec (zarrita writes none for
 * little-endian data) is named explicitly, as the spec and tensorstore require. Everything else (keys' encoding, fill value,
 * attributes, dimension names) is kept.
 *
 * @example
 * ```ts
 * const packed = shardedMetadata("a", meta, [64, 512, 512]);
 * ```
 */
export function shardedMetadata(path: string, meta: JsonObject, shardShape: readonly number[]): JsonObject {
  const g = geometry(path, meta);
  if (isSharded(meta.codecs))
    throw new ArrayShardError(path, "the array is already packed (sharding_indexed)");
  if (Array.isArray(meta.storage_transformers) && meta.storage_transformers.length > 0) {
    throw new ArrayShardError(path, "arrays with storage_transformers cannot be packed");
  }
  if (shardShape.length !== g.shape.length) {
    throw new ArrayShardError(
      path,
      `shard shape ${JSON.stringify(shardShape)} has ${shardShape.length} dimensions, the array ${g.shape.length}`,
    );
  }
  shardShape.forEach((s, d) => {
    if (!Number.isSafeInteger(s) || s < 1 || s % g.chunks[d]! !== 0) {
      throw new ArrayShardError(
        path,
        `shard shape ${JSON.stringify(shardShape)} must be a multiple of the chunk shape ${JSON.stringify(g.chunks)} (dimension ${d})`,
      );
    }
  });
  return {
    ...meta,
    chunk_grid: { name: "regular", configuration: { chunk_shape: [...shardShape] } },
    codecs: [
      {
        name: "sharding_indexed",
        configuration: {
          chunk_shape: g.chunks,
          codecs: withBytesCodec(meta.codecs, meta.data_type),
          index_codecs: INDEX_CODECS,
          index_location: "end",
        },
      },
    ],
  };
}

/**
 * What unpacking a packed array needs: its `zarr.json` without sharding (grid = inner chunks,
 * codecs = inner codecs) and how its shard index is stored.
 *
 * @example
 * ```ts
 * const { meta, shardShape, innerChunks } = unshardedMetadata("a", packed);
 * ```
 */
export function unshardedMetadata(
  path: string,
  meta: JsonObject,
): {
  meta: JsonObject;
  shardShape: number[];
  innerChunks: number[];
  location: "start" | "end";
  checksum: boolean;
} {
  const g = geometry(path, meta);
  const codecs = meta.codecs;
  if (
    !Array.isArray(codecs) ||
    codecs.length !== 1 ||
    !isObject(codecs[0]) ||
    codecs[0].name !== "sharding_indexed"
  ) {
    throw new ArrayShardError(path, "the array is not packed: its codecs are not one sharding_indexed codec");
  }
  const cfg = isObject(codecs[0].configuration) ? codecs[0].configuration : {};
  const inner = intArray(path, cfg.chunk_shape, "sharding_indexed chunk_shape");
  if (inner.length !== g.shape.length || inner.some((c, d) => c === 0 || g.chunks[d]! % c !== 0)) {
    throw new ArrayShardError(
      path,
      `inner chunk shape ${JSON.stringify(inner)} does not divide the shard shape`,
    );
  }
  if (isSharded(cfg.codecs)) throw new ArrayShardError(path, "nested sharding cannot be unpacked");
  const ic = Array.isArray(cfg.index_codecs) ? cfg.index_codecs : [];
  const names = ic.map((c) => (isObject(c) ? c.name : c));
  const endian = isObject(ic[0]) && isObject(ic[0].configuration) ? ic[0].configuration.endian : "little";
  if (
    names[0] !== "bytes" ||
    endian !== "little" ||
    names.length > 2 ||
    (names.length === 2 && names[1] !== "crc32c")
  ) {
    throw new ArrayShardError(path, `index_codecs ${JSON.stringify(ic)} are not [bytes little, crc32c?]`);
  }
  const location = cfg.index_location ?? "end";
  if (location !== "start" && location !== "end") {
    throw new ArrayShardError(path, `index_location ${JSON.stringify(location)} must be "start" or "end"`);
  }
  return {
    meta: {
      ...meta,
      chunk_grid: { name: "regular", configuration: { chunk_shape: inner } },
      codecs: (cfg.codecs ?? []) as JsonObject[],
    },
    shardShape: g.chunks,
    innerChunks: inner,
    location,
    checksum: names.length === 2,
  };
}
