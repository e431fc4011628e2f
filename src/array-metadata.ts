import { ArrayShardError } from "./errors.js";

/**
 * What the router needs to know about a sharded array: its chunk key encoding and chunk grid.
 *
 * @example
 * ```ts
 * const layout: ChunkLayout = { format: 3, encoding: "default", separator: "/", ndim: 3, grid: [12, 2, 3] };
 * ```
 */
export interface ChunkLayout {
  format: 2 | 3;
  /** `default` = v3 `c/…` keys; `v2` = bare index keys (Zarr v2 and v3's `v2` encoding). */
  encoding: "default" | "v2";
  separator: "/" | ".";
  ndim: number;
  /** Number of chunks along each dimension. */
  grid: number[];
}

/** The result of reading an array's metadata for sharding. */
export interface ParsedArrayMetadata {
  layout: ChunkLayout;
  /** The key of the metadata document inside an index store. */
  subKey: "/zarr.json" | "/.zarray";
  /** The standalone metadata document for each index store (remaining dimensions). */
  subDocument: Uint8Array;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Codecs whose output depends only on the bytes or elements of a chunk, not on its dimensions.
const SHAPE_FREE_V3 = new Set([
  "bytes",
  "endian",
  "gzip",
  "zstd",
  "blosc",
  "crc32c",
  "vlen-utf8",
  "vlen-bytes",
  "numcodecs.zlib",
  "numcodecs.bz2",
  "numcodecs.lzma",
  "numcodecs.lz4",
  "numcodecs.delta",
  "numcodecs.fixedscaleoffset",
  "numcodecs.quantize",
  "numcodecs.bitround",
  "numcodecs.astype",
  "numcodecs.packbits",
  "numcodecs.shuffle",
  "numcodecs.crc32",
  "numcodecs.adler32",
  "numcodecs.fletcher32",
]);
const SHAPE_FREE_V2 = new Set([
  "zlib",
  "gzip",
  "bz2",
  "lzma",
  "blosc",
  "zstd",
  "lz4",
  "delta",
  "fixedscaleoffset",
  "quantize",
  "bitround",
  "astype",
  "packbits",
  "categorize",
  "shuffle",
  "vlen-utf8",
  "vlen-bytes",
  "vlen-array",
  "json2",
  "msgpack2",
  "pickle",
  "crc32",
  "adler32",
  "fletcher32",
]);

/**
 * Whether a parsed JSON value is an object (not null, not an array).
 *
 * @example
 * ```ts
 * isObject(JSON.parse('{"a": 1}')); // true
 * ```
 */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * `v` as an array of non-negative safe integers, or an `ArrayShardError` naming the array and member.
 *
 * @example
 * ```ts
 * intArray("a", meta.shape, "shape"); // [10, 4]
 * ```
 */
export function intArray(path: string, v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x) && x >= 0)) {
    throw new ArrayShardError(
      path,
      `${what} must be an array of non-negative integers, got ${JSON.stringify(v)}`,
    );
  }
  return v as number[];
}

function checkDims(path: string, dims: number, shape: number[], chunks: number[]): number[] {
  if (chunks.length !== shape.length) {
    throw new ArrayShardError(
      path,
      `chunks ${JSON.stringify(chunks)} do not match shape ${JSON.stringify(shape)}`,
    );
  }
  if (dims > shape.length) {
    throw new ArrayShardError(
      path,
      `cannot shard ${dims} dimensions of an array with ${shape.length} (shape ${JSON.stringify(shape)})`,
    );
  }
  for (let d = 0; d < dims; d++) {
    if (chunks[d] !== 1) {
      throw new ArrayShardError(
        path,
        `chunk size along sharded dimension ${d} must be 1, got ${chunks[d]} (chunks ${JSON.stringify(chunks)})`,
      );
    }
  }
  return shape.map((s, d) => Math.ceil(s / (chunks[d] || 1)));
}

function adjustCodecsV3(path: string, codecs: unknown, dims: number, where: string): Json[] {
  if (!Array.isArray(codecs)) throw new ArrayShardError(path, `${where} must be an array`);
  return codecs.map((c, i): Json => {
    const name = typeof c === "string" ? c : isObject(c) ? c.name : undefined;
    if (typeof name !== "string") throw new ArrayShardError(path, `${where}[${i}] has no codec name`);
    if (SHAPE_FREE_V3.has(name)) return c as Json;
    // A codec given by bare name is checked like one given as an object (it has no configuration).
    const cfg = isObject(c) && isObject(c.configuration) ? c.configuration : {};
    if (name === "transpose") {
      const order = intArray(path, cfg.order, `${where}[${i}].configuration.order`);
      return { ...c, configuration: { ...cfg, order: order.filter((o) => o >= dims).map((o) => o - dims) } };
    }
    if (name === "sharding_indexed") {
      const inner = intArray(path, cfg.chunk_shape, `${where}[${i}].configuration.chunk_shape`);
      if (inner.slice(0, dims).some((n) => n !== 1)) {
        throw new ArrayShardError(
          path,
          `sharding_indexed inner chunk_shape ${JSON.stringify(inner)} must be 1 on sharded dimensions`,
        );
      }
      return {
        ...c,
        configuration: {
          ...cfg,
          chunk_shape: inner.slice(dims),
          codecs: adjustCodecsV3(path, cfg.codecs ?? [], dims, `${where}[${i}].configuration.codecs`),
          index_codecs: adjustCodecsV3(
            path,
            cfg.index_codecs ?? [],
            dims,
            `${where}[${i}].configuration.index_codecs`,
          ),
        },
      };
    }
    throw new ArrayShardError(
      path,
      `codec "${name}" (${where}[${i}]) may depend on the chunk's dimensions; it cannot be carried over to the index stores`,
    );
  });
}

function parseV3(path: string, meta: JsonObject, dims: number): ParsedArrayMetadata {
  if (meta.node_type !== "array") {
    throw new ArrayShardError(
      path,
      `zarr.json has node_type ${JSON.stringify(meta.node_type)}; an array shard must be an array`,
    );
  }
  const shape = intArray(path, meta.shape, "shape");
  const grid = meta.chunk_grid;
  if (!isObject(grid) || grid.name !== "regular" || !isObject(grid.configuration)) {
    throw new ArrayShardError(
      path,
      `only the "regular" chunk grid can be sharded, got ${JSON.stringify(grid)}`,
    );
  }
  const chunks = intArray(path, grid.configuration.chunk_shape, "chunk_grid.configuration.chunk_shape");
  const counts = checkDims(path, dims, shape, chunks);
  if (Array.isArray(meta.storage_transformers) && meta.storage_transformers.length > 0) {
    throw new ArrayShardError(path, "storage_transformers cannot be carried over to the index stores");
  }
  const cke = isObject(meta.chunk_key_encoding) ? meta.chunk_key_encoding : { name: "default" };
  const encoding = cke.name;
  if (encoding !== "default" && encoding !== "v2") {
    throw new ArrayShardError(path, `unknown chunk_key_encoding ${JSON.stringify(encoding)}`);
  }
  const sep = isObject(cke.configuration) ? cke.configuration.separator : undefined;
  const separator = sep ?? (encoding === "default" ? "/" : ".");
  if (separator !== "/" && separator !== ".") {
    throw new ArrayShardError(path, `chunk key separator must be "/" or ".", got ${JSON.stringify(sep)}`);
  }
  const sub: JsonObject = {
    ...meta,
    shape: shape.slice(dims),
    chunk_grid: { ...grid, configuration: { ...grid.configuration, chunk_shape: chunks.slice(dims) } },
    codecs: adjustCodecsV3(path, meta.codecs ?? [], dims, "codecs"),
  };
  if (Array.isArray(meta.dimension_names)) sub.dimension_names = meta.dimension_names.slice(dims);
  return {
    layout: { format: 3, encoding, separator, ndim: shape.length, grid: counts },
    subKey: "/zarr.json",
    subDocument: encoder.encode(JSON.stringify(sub)),
  };
}

function checkV2Codec(path: string, codec: unknown, where: string): void {
  if (codec === null || codec === undefined) return;
  const id = isObject(codec) ? codec.id : undefined;
  if (typeof id !== "string") throw new ArrayShardError(path, `${where} has no "id"`);
  if (!SHAPE_FREE_V2.has(id)) {
    throw new ArrayShardError(
      path,
      `codec "${id}" (${where}) may depend on the chunk's dimensions; it cannot be carried over to the index stores`,
    );
  }
}

function parseV2(path: string, meta: JsonObject, dims: number): ParsedArrayMetadata {
  const shape = intArray(path, meta.shape, "shape");
  const chunks = intArray(path, meta.chunks, "chunks");
  const counts = checkDims(path, dims, shape, chunks);
  const sep = meta.dimension_separator ?? ".";
  if (sep !== "/" && sep !== ".") {
    throw new ArrayShardError(path, `dimension_separator must be "/" or ".", got ${JSON.stringify(sep)}`);
  }
  checkV2Codec(path, meta.compressor, "compressor");
  if (meta.filters !== null && meta.filters !== undefined) {
    if (!Array.isArray(meta.filters)) throw new ArrayShardError(path, "filters must be null or an array");
    meta.filters.forEach((f, i) => {
      checkV2Codec(path, f, `filters[${i}]`);
    });
  }
  const sub: JsonObject = { ...meta, shape: shape.slice(dims), chunks: chunks.slice(dims) };
  return {
    layout: { format: 2, encoding: "v2", separator: sep, ndim: shape.length, grid: counts },
    subKey: "/.zarray",
    subDocument: encoder.encode(JSON.stringify(sub, null, 4)),
  };
}

/**
 * Reads an array's metadata document (`zarr.json` or `.zarray`), checks it can be sharded over its
 * first `dims` dimensions, and builds the index stores' standalone metadata. Throws
 * {@link ArrayShardError} naming the array and the reason otherwise.
 *
 * @example
 * ```ts
 * const { layout, subDocument } = parseArrayMetadata("sim/foo", bytes, "zarr.json", 1);
 * ```
 */
export function parseArrayMetadata(
  path: string,
  bytes: Uint8Array,
  name: "zarr.json" | ".zarray",
  dims: number,
): ParsedArrayMetadata {
  let meta: unknown;
  try {
    meta = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new ArrayShardError(path, `${name} is not valid JSON`, { cause: e });
  }
  if (!isObject(meta)) throw new ArrayShardError(path, `${name} must be a JSON object`);
  if (name === "zarr.json") {
    if (meta.zarr_format !== 3) throw new ArrayShardError(path, `zarr.json must have zarr_format 3`);
    return parseV3(path, meta, dims);
  }
  if (meta.zarr_format !== 2) throw new ArrayShardError(path, `.zarray must have zarr_format 2`);
  return parseV2(path, meta, dims);
}
