// Array metadata documents for tests: the smallest uint8 arrays zarrita and zarr-python read,
// encoded as the bytes a store holds.

const encoder = new TextEncoder();

/**
 * A Zarr v3 `zarr.json` of a uint8 array with the `bytes` codec; `sep` separates its chunk keys
 * (default `/`).
 *
 * @example
 * ```ts
 * await store.set("/arr/zarr.json", v3Array([8, 2], [1, 2]));
 * ```
 */
export function v3Array(shape: number[], chunks: number[], sep: "." | "/" = "/"): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape,
      data_type: "uint8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
      chunk_key_encoding: { name: "default", configuration: { separator: sep } },
      codecs: [{ name: "bytes" }],
      fill_value: 0,
    }),
  );
}

/**
 * A Zarr v2 `.zarray` of an uncompressed uint8 array; `sep` is its `dimension_separator` (left out
 * when not given, i.e. `.`).
 *
 * @example
 * ```ts
 * await store.set("/arr/.zarray", v2Array([8, 2], [1, 2], "/"));
 * ```
 */
export function v2Array(shape: number[], chunks: number[], sep?: "." | "/"): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      zarr_format: 2,
      shape,
      chunks,
      dtype: "|u1",
      compressor: null,
      fill_value: 0,
      filters: null,
      order: "C",
      ...(sep === undefined ? {} : { dimension_separator: sep }),
    }),
  );
}
