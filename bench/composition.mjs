// A synthetic composition with any number of mounts, and a realistic mix of keys routed through it.
import * as shardedstore from "shardedstore";

const enc = new TextEncoder();

/** zarr.json of a v3 array, or .zarray of a v2 one. */
function arrayMetadata({ shape, chunks, v2 }) {
  if (v2) {
    return enc.encode(
      JSON.stringify({
        zarr_format: 2,
        shape,
        chunks,
        dtype: "<f4",
        compressor: null,
        fill_value: 0,
        filters: null,
        order: "C",
        dimension_separator: ".",
      }),
    );
  }
  return enc.encode(
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape,
      data_type: "float32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
      fill_value: 0,
      attributes: {},
    }),
  );
}

/** Deterministic pseudo-random integers (mulberry32), so every run routes the same keys. */
export function rng(seed) {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) >>> 0;
  };
}

/**
 * Mount layout for `n` mounts: 80 % group shards at depths 1–3, 20 % sharded arrays (1-D v3, 2-D
 * v3 and 1-D v2 with "." keys). Each array's leading grid is 12–24 wide, so indices have two digits.
 */
export function layout(n) {
  const groups = [];
  const arrays = [];
  for (let i = 0; i < n; i++) {
    if (i % 5 !== 4) {
      const depth = i % 3;
      groups.push(depth === 0 ? `g${i}` : depth === 1 ? `groups/g${i}` : `data/set${i}/part`);
    } else {
      const k = (i / 5) | 0;
      const kind = k % 3; // 0: 1-D sharded v3, 1: 2-D sharded v3, 2: 1-D sharded v2 "."
      if (kind === 0)
        arrays.push({
          path: `sim/run${k}/temperature`,
          dims: 1,
          shape: [24, 4096, 4096],
          chunks: [1, 64, 64],
        });
      if (kind === 1)
        arrays.push({ path: `images/img${k}`, dims: 2, shape: [12, 12, 8192], chunks: [1, 1, 64] });
      if (kind === 2)
        arrays.push({
          path: `v2/arr${k}`,
          dims: 1,
          shape: [16, 8192, 8192],
          chunks: [1, 128, 128],
          v2: true,
        });
    }
  }
  return { groups, arrays };
}

/**
 * A `ShardedStore` over `MemoryStore`s with `n` mounts, array metadata written (so routing is
 * strict, as it is after the first read), plus the key mix `keys(count, seed)`. `lib` swaps in another
 * build of the package (for before/after profiling).
 */
export async function buildComposition(n, lib = shardedstore) {
  const { MemoryStore, ShardedStore } = lib;
  const { groups, arrays } = layout(n);
  const shards = Object.fromEntries(groups.map((g) => [g, new MemoryStore()]));
  const arrayShards = Object.fromEntries(
    arrays.map((a) => [a.path, { dims: a.dims, factory: () => new MemoryStore() }]),
  );
  const store = new ShardedStore(new MemoryStore(), { shards, arrayShards });
  for (const a of arrays) await store.set(`/${a.path}/${a.v2 ? ".zarray" : "zarr.json"}`, arrayMetadata(a));

  /** `count` keys: 10 % metadata, 15 % base chunks, 35 % group-shard keys, 40 % array-shard chunks. */
  const keys = (count, seed = 1) => {
    const r = rng(seed);
    const out = new Array(count);
    for (let i = 0; i < count; i++) {
      const p = r(100);
      if (p < 10) {
        const m = r(4);
        if (m === 0) out[i] = "/zarr.json";
        else if (m === 1 && arrays.length > 0) {
          const a = arrays[r(arrays.length)];
          out[i] = `/${a.path}/${a.v2 ? ".zarray" : "zarr.json"}`;
        } else if (m === 2) out[i] = `/sim/run${r(1000)}/.zattrs`;
        else out[i] = `/${groups[r(groups.length)]}/arr${r(8)}/zarr.json`;
      } else if (p < 25) {
        out[i] = `/base/arr${r(50)}/c/${r(400)}/${r(400)}`;
      } else if (p < 60) {
        out[i] = `/${groups[r(groups.length)]}/arr${r(8)}/c/${r(300)}/${r(300)}`;
      } else if (arrays.length > 0) {
        const a = arrays[r(arrays.length)];
        const g = a.shape.map((s, d) => Math.ceil(s / a.chunks[d]));
        const idx = g.map((x) => r(x));
        out[i] = a.v2 ? `/${a.path}/${idx.join(".")}` : `/${a.path}/c/${idx.join("/")}`;
      } else {
        out[i] = `/base/arr${r(50)}/c/${r(400)}/${r(400)}`;
      }
    }
    return out;
  };
  return { store, keys, groups, arrays };
}
