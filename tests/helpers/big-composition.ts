// A composition with chunk indices ≥ 10 on 1 and 2 sharded dims, some index stores absent, in
// Zarr v3 (`/` and `.` keys) and v2 (`.` and `/` keys), next to a monolithic copy of the same keys.
import * as path from "node:path";
import * as zarr from "zarrita";
import { arrayShardDirectoryStore, DirectoryStore, ShardedStore, saveShardedStore } from "../../src/node.js";
import type { AbsolutePath, Store } from "../../src/types.js";

/** One array of the big composition: its path, format and shape. */
export interface BigArray {
  path: string;
  format: 2 | 3;
  shape: number[];
  chunks: number[];
  dims: number;
  separator: "/" | ".";
}

/** The arrays of {@link writeBigComposition}. */
export const BIG_ARRAYS: BigArray[] = [
  { path: "v3/one", format: 3, shape: [12, 5], chunks: [1, 2], dims: 1, separator: "/" },
  { path: "v3/two", format: 3, shape: [11, 12, 3], chunks: [1, 1, 2], dims: 2, separator: "/" },
  { path: "v3/all", format: 3, shape: [11, 12], chunks: [1, 1], dims: 2, separator: "/" },
  { path: "v3/dot", format: 3, shape: [12, 11, 4], chunks: [1, 1, 3], dims: 2, separator: "." },
  { path: "v3/dotall", format: 3, shape: [12], chunks: [1], dims: 1, separator: "." },
  { path: "v2/dot", format: 2, shape: [12, 11, 4], chunks: [1, 1, 3], dims: 2, separator: "." },
  { path: "v2/slash", format: 2, shape: [11, 5], chunks: [1, 2], dims: 1, separator: "/" },
  { path: "v2/all", format: 2, shape: [12, 11], chunks: [1, 1], dims: 2, separator: "." },
];

const enc = new TextEncoder();
// zarrita writes no codecs by default; tensorstore requires the array -> bytes codec.
const BYTES = [{ name: "bytes", configuration: { endian: "little" } }];

/** Values that differ per element: i * 7 + 3 (int32). */
function values(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i * 7 + 3);
}

/** Every chunk index of a grid, C order. */
function* grid(shape: readonly number[], chunks: readonly number[]): Generator<number[]> {
  const g = shape.map((s, d) => Math.ceil(s / (chunks[d] ?? 1)));
  if (g.length === 0) {
    yield [];
    return;
  }
  const idx = new Array<number>(g.length).fill(0);
  for (;;) {
    yield idx.slice();
    let d = g.length - 1;
    while (d >= 0 && ++idx[d]! >= g[d]!) idx[d--] = 0;
    if (d < 0) return;
  }
}

/** A v2 array written key by key (uncompressed `<i4` chunks), leaving chunks whose first index < 3 out when `sparse`. */
async function writeV2(stores: Store[], a: BigArray, sparse: boolean): Promise<void> {
  const zarray = {
    zarr_format: 2,
    shape: a.shape,
    chunks: a.chunks,
    dtype: "<i4",
    compressor: null,
    fill_value: -1,
    filters: null,
    order: "C",
    dimension_separator: a.separator,
  };
  for (const s of stores) {
    await s.set!(`/${a.path}/.zarray` as AbsolutePath, enc.encode(JSON.stringify(zarray)));
    await s.set!(`/${a.path}/.zattrs` as AbsolutePath, enc.encode(JSON.stringify({ format: 2 })));
  }
  const n = a.chunks.reduce((x, y) => x * y, 1);
  for (const idx of grid(a.shape, a.chunks)) {
    if (sparse && (idx[0] ?? 0) < 3) continue;
    const chunk = values(n).map((v) => v + idx.reduce((x, y) => x * 31 + y, 0) * 1000);
    const bytes = new Uint8Array(chunk.buffer);
    for (const s of stores) await s.set!(`/${a.path}/${idx.join(a.separator)}` as AbsolutePath, bytes);
  }
}

/** A v3 array written with zarrita; the leading rows are left unwritten (fill value) when `sparse`. */
async function writeV3(stores: Store[], a: BigArray, sparse: boolean): Promise<void> {
  const total = a.shape.reduce((x, y) => x * y, 1);
  for (const s of stores) {
    const arr = await zarr.create(zarr.root(s as zarr.Mutable).resolve(a.path), {
      shape: a.shape,
      chunkShape: a.chunks,
      dtype: "int32",
      fillValue: -1,
      chunkSeparator: a.separator,
      codecs: BYTES,
    });
    const row = total / (a.shape[0] ?? 1);
    const from = sparse ? 3 : 0;
    const data = values(total).subarray(from * row);
    const shape = [(a.shape[0] ?? 1) - from, ...a.shape.slice(1)];
    await zarr.set(arr, [zarr.slice(from, null), ...a.shape.slice(1).map(() => null)], {
      data,
      shape,
      stride: shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1)),
    });
  }
}

/**
 * Writes the big composition under `dir` (`composition.json`, its directory stores) and the same
 * keys to `dir/single.zarr`; returns the open composition.
 *
 * @example
 * ```ts
 * const store = await writeBigComposition("/tmp/big");
 * ```
 */
export async function writeBigComposition(dir: string): Promise<ShardedStore> {
  const arrayShards: Record<string, { dims: number; factory: ReturnType<typeof arrayShardDirectoryStore> }> =
    {};
  for (const a of BIG_ARRAYS)
    arrayShards[a.path] = {
      dims: a.dims,
      factory: arrayShardDirectoryStore(path.join(dir, "shards", a.path)),
    };
  const store = new ShardedStore(new DirectoryStore(path.join(dir, "base.zarr")), {
    shards: { group: new DirectoryStore(path.join(dir, "group.zarr")) },
    arrayShards,
  });
  const single = new DirectoryStore(path.join(dir, "single.zarr"));
  const both: Store[] = [store, single];
  await zarr.create(zarr.root(store as zarr.Mutable));
  await zarr.create(zarr.root(single as zarr.Mutable));
  for (const s of both) {
    await zarr.create(zarr.root(s as zarr.Mutable).resolve("v3"));
    await s.set!("/v2/.zgroup", enc.encode(JSON.stringify({ zarr_format: 2 })));
    const g = await zarr.create(zarr.root(s as zarr.Mutable).resolve("group"));
    const inGroup = await zarr.create(g.resolve("ages"), {
      shape: [13],
      chunkShape: [2],
      dtype: "int32",
      fillValue: 0,
      codecs: BYTES,
    });
    await zarr.set(inGroup, null, { data: values(13), shape: [13], stride: [1] });
  }
  for (const [i, a] of BIG_ARRAYS.entries()) {
    const sparse = i % 2 === 1;
    if (a.format === 2) await writeV2(both, a, sparse);
    else await writeV3(both, a, sparse);
  }
  await saveShardedStore(store, path.join(dir, "composition.json"));
  return store;
}
