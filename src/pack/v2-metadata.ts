import { ArrayShardError } from "../errors.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** A parsed JSON object. */
export type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

const V2_TYPES: Record<string, string> = {
  b1: "bool",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  f2: "float16",
  f4: "float32",
  f8: "float64",
  c8: "complex64",
  c16: "complex128",
};

// numcodecs filters that act on arrays (zarr-python 3 names them numcodecs.<id>, array → array).
const ARRAY_FILTERS = new Set(["delta", "fixedscaleoffset", "quantize", "bitround", "astype"]);
// numcodecs compressors with no Zarr v3 core codec of the same bytes: kept as numcodecs.<id>.
const NUMCODECS_COMPRESSORS = new Set(["zlib", "lz4", "bz2", "lzma"]);

function dataType(path: string, dtype: unknown): { type: string; endian: "little" | "big" | null } {
  const m = typeof dtype === "string" ? /^([<>|=])([a-z]\d+)$/.exec(dtype) : null;
  const type = m ? V2_TYPES[m[2]!] : undefined;
  if (m === null || type === undefined) {
    throw new ArrayShardError(
      path,
      `dtype ${JSON.stringify(dtype)} has no Zarr v3 data type here (numbers and bool only)`,
    );
  }
  const size = Number(m[2]!.slice(1));
  return { type, endian: size === 1 ? null : m[1] === ">" ? "big" : "little" };
}

function blosc(cfg: JsonObject, itemsize: number): Json {
  const shuffle = cfg.shuffle ?? 1;
  const names: Record<string, string> = { "0": "noshuffle", "1": "shuffle", "2": "bitshuffle" };
  const name = shuffle === -1 ? (itemsize === 1 ? "bitshuffle" : "shuffle") : names[String(shuffle)];
  return {
    name: "blosc",
    configuration: {
      cname: cfg.cname ?? "lz4",
      clevel: cfg.clevel ?? 5,
      shuffle: name ?? "shuffle",
      typesize: itemsize,
      blocksize: cfg.blocksize ?? 0,
    },
  };
}

function compressor(path: string, c: unknown, itemsize: number): Json[] {
  if (c === null || c === undefined) return [];
  if (!isObject(c) || typeof c.id !== "string") throw new ArrayShardError(path, `compressor has no "id"`);
  const { id, ...rest } = c;
  if (id === "blosc") return [blosc(rest, itemsize)];
  if (id === "gzip") return [{ name: "gzip", configuration: { level: rest.level ?? 1 } }];
  if (id === "zstd") {
    return [{ name: "zstd", configuration: { level: rest.level ?? 0, checksum: rest.checksum ?? false } }];
  }
  if (NUMCODECS_COMPRESSORS.has(id)) return [{ name: `numcodecs.${id}`, configuration: rest }];
  throw new ArrayShardError(path, `compressor "${id}" has no Zarr v3 codec here`);
}

function filters(path: string, fs: unknown): Json[] {
  if (fs === null || fs === undefined) return [];
  if (!Array.isArray(fs)) throw new ArrayShardError(path, "filters must be null or an array");
  return fs.map((f, i) => {
    if (!isObject(f) || typeof f.id !== "string")
      throw new ArrayShardError(path, `filters[${i}] has no "id"`);
    const { id, ...rest } = f;
    if (!ARRAY_FILTERS.has(id)) throw new ArrayShardError(path, `filter "${id}" has no Zarr v3 codec here`);
    return { name: `numcodecs.${id}`, configuration: rest };
  });
}

function fillValue(fill: unknown, type: string): Json {
  if (fill === null || fill === undefined) return type === "bool" ? false : 0;
  return fill as Json;
}

/**
 * The Zarr v3 `zarr.json` of a Zarr v2 array (`.zarray` and its `.zattrs`), describing the same
 * chunk bytes under the same keys: dtype → `data_type` plus the `bytes` codec's endianness, order
 * `F` → a `transpose` codec reversing the dimensions, filters → `numcodecs.<id>` (array → array),
 * compressor → `blosc`, `gzip` or `zstd` (same bytes as numcodecs writes) or `numcodecs.<id>` for
 * zlib, lz4, bz2 and lzma (no core v3 codec; zarrita and zarr-python 3 read them, tensorstore does
 * not), fill_value `null` → 0 (`false` for bool), dimension_separator → chunk_key_encoding `v2`,
 * the `_ARRAY_DIMENSIONS` attribute (xarray) → `dimension_names`.
 * Anything else (strings, objects, other codecs) is an {@link ArrayShardError} naming the array.
 *
 * @example
 * ```ts
 * const v3 = zarrayToV3("a/b", JSON.parse(zarray), { units: "m" });
 * ```
 */
export function zarrayToV3(path: string, zarray: unknown, attributes: unknown): JsonObject {
  if (!isObject(zarray) || zarray.zarr_format !== 2)
    throw new ArrayShardError(path, ".zarray must be a v2 array");
  const { type, endian } = dataType(path, zarray.dtype);
  const itemsize = Math.max(1, Number(/\d+$/.exec(String(zarray.dtype))?.[0] ?? 1));
  const shape = zarray.shape as Json[];
  const codecs: Json[] = [];
  if (zarray.order === "F" && Array.isArray(shape) && shape.length > 1) {
    codecs.push({ name: "transpose", configuration: { order: shape.map((_, i) => shape.length - 1 - i) } });
  } else if (zarray.order !== "C" && zarray.order !== "F" && zarray.order !== undefined) {
    throw new ArrayShardError(path, `order ${JSON.stringify(zarray.order)} must be "C" or "F"`);
  }
  codecs.push(...filters(path, zarray.filters));
  codecs.push(endian === null ? { name: "bytes" } : { name: "bytes", configuration: { endian } });
  codecs.push(...compressor(path, zarray.compressor, itemsize));
  const sep = zarray.dimension_separator ?? ".";
  const out: JsonObject = {
    zarr_format: 3,
    node_type: "array",
    shape,
    data_type: type,
    chunk_grid: { name: "regular", configuration: { chunk_shape: zarray.chunks as Json } },
    chunk_key_encoding: { name: "v2", configuration: { separator: sep as Json } },
    fill_value: fillValue(zarray.fill_value, type),
    codecs,
    attributes: isObject(attributes) ? attributes : {},
  };
  // xarray's dimension names attribute becomes v3 dimension_names (the attribute stays too).
  const dims = isObject(attributes) ? attributes._ARRAY_DIMENSIONS : undefined;
  if (
    Array.isArray(dims) &&
    Array.isArray(shape) &&
    dims.length === shape.length &&
    dims.every((d) => typeof d === "string")
  ) {
    out.dimension_names = dims;
  }
  return out;
}

/**
 * The Zarr v3 `zarr.json` of a Zarr v2 group (`.zgroup` and its `.zattrs`).
 *
 * @example
 * ```ts
 * zgroupToV3({ title: "x" }); // { zarr_format: 3, node_type: "group", attributes: { title: "x" } }
 * ```
 */
export function zgroupToV3(attributes: unknown): JsonObject {
  return { zarr_format: 3, node_type: "group", attributes: isObject(attributes) ? attributes : {} };
}
