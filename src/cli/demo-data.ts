import * as zarr from "zarrita";
import type { AbsolutePath, Store } from "../node.js";
import { encodeVlenUtf8, registerGzipEncoder } from "./codecs.js";

type WritableStore = Store & { set(key: AbsolutePath, value: Uint8Array): Promise<void> | void };

/** A small deterministic generator of normally distributed numbers (mulberry32 + Box–Muller). */
function normals(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const BYTES = { name: "bytes", configuration: { endian: "little" } };
const GZIP = [BYTES, { name: "gzip", configuration: { level: 1 } }];

/**
 * The arrays the demo writes: the example of the original shardedstore README (thewtex/shardedstore),
 * in Zarr v3. `people` and `species` are the roots of their group shards; `foo` of
 * `simulation/coarse` is sharded over 1 dimension and of `simulation/fine` over 2.
 *
 * @example
 * ```ts
 * for (const a of DEMO_ARRAYS) console.log(a.path, a.shape);
 * ```
 */
export const DEMO_ARRAYS = [
  { path: "heights", dtype: "float64", shape: [2], chunks: [2] },
  { path: "people", dtype: "string", shape: [2], chunks: [2] },
  { path: "species", dtype: "string", shape: [], chunks: [] },
  { path: "simulation/coarse/foo", dtype: "float64", shape: [3, 4, 5], chunks: [1, 2, 2] },
  { path: "simulation/coarse/bar", dtype: "float64", shape: [3], chunks: [2] },
  { path: "simulation/coarse/baz", dtype: "float64", shape: [], chunks: [] },
  { path: "simulation/coarse/x", dtype: "int64", shape: [3], chunks: [3] },
  { path: "simulation/fine/foo", dtype: "float64", shape: [6, 3, 5], chunks: [1, 1, 2] },
  { path: "simulation/fine/bar", dtype: "float64", shape: [6], chunks: [2] },
  { path: "simulation/fine/baz", dtype: "float64", shape: [], chunks: [] },
  { path: "simulation/fine/x", dtype: "int64", shape: [6], chunks: [6] },
] as const;

/** Group shards and array shards of the demo composition. */
export const DEMO_GROUP_SHARDS = ["people", "species"] as const;
export const DEMO_ARRAY_SHARDS = { "simulation/coarse/foo": 1, "simulation/fine/foo": 2 } as const;

function stride(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
}

/**
 * Writes the demo hierarchy into `store` with zarrita (a `ShardedStore` or a single store: the
 * bytes are the same). Strings are written as `vlen-utf8` chunks by hand, since zarrita cannot
 * encode them.
 *
 * @example
 * ```ts
 * await writeDemoData(new DirectoryStore("single.zarr"));
 * ```
 */
export async function writeDemoData(store: WritableStore): Promise<void> {
  registerGzipEncoder();
  const root = zarr.root<zarr.Mutable>({
    get: async (key, opts) => store.get(key, opts),
    set: async (key, value) => store.set(key, value),
  });
  await zarr.create(root, {
    attributes: {
      description: "the example hierarchy of the shardedstore README",
      source: "shardedstore demo",
    },
  });
  await zarr.create(root.resolve("simulation"), { attributes: { kind: "simulation" } });
  for (const [name, n] of [
    ["coarse", 3],
    ["fine", 6],
  ] as const) {
    await zarr.create(root.resolve(`simulation/${name}`), { attributes: { resolution: name, steps: n } });
  }
  const heights = await zarr.create(root.resolve("heights"), {
    shape: [2],
    chunkShape: [2],
    dtype: "float64",
    codecs: [BYTES],
    fillValue: 0,
    attributes: { units: "m" },
  });
  await zarr.set(heights, null, { data: new Float64Array([1.57, 1.82]), shape: [2], stride: [1] });

  // Strings: zarrita reads vlen-utf8 but cannot write it, so the chunks are encoded here.
  await zarr.create(root.resolve("people"), {
    shape: [2],
    chunkShape: [2],
    dtype: "string",
    codecs: [{ name: "vlen-utf8", configuration: {} }],
    fillValue: "",
  });
  await store.set("/people/c/0", encodeVlenUtf8(["alice", "bob"]));
  await zarr.create(root.resolve("species"), {
    shape: [],
    chunkShape: [],
    dtype: "string",
    codecs: [{ name: "vlen-utf8", configuration: {} }],
    fillValue: "",
  });
  await store.set("/species/c", encodeVlenUtf8(["human"]));

  const random = normals(20230721);
  for (const [name, n, shape] of [
    ["coarse", 3, [3, 4, 5]],
    ["fine", 6, [6, 3, 5]],
  ] as const) {
    const g = `simulation/${name}`;
    const foo = await zarr.create(root.resolve(`${g}/foo`), {
      shape: [...shape],
      chunkShape: name === "coarse" ? [1, 2, 2] : [1, 1, 2],
      dtype: "float64",
      codecs: GZIP,
      fillValue: 0,
      dimensionNames: ["time", "y", "x"],
    });
    const size = shape.reduce((a, b) => a * b, 1);
    await zarr.set(foo, null, {
      data: Float64Array.from({ length: size }, random),
      shape: [...shape],
      stride: stride(shape),
    });
    const bar = await zarr.create(root.resolve(`${g}/bar`), {
      shape: [n],
      chunkShape: [2],
      dtype: "float64",
      codecs: GZIP,
      fillValue: 0,
    });
    await zarr.set(bar, null, {
      data: Float64Array.from({ length: n }, (_, i) => i),
      shape: [n],
      stride: [1],
    });
    const baz = await zarr.create(root.resolve(`${g}/baz`), {
      shape: [],
      chunkShape: [],
      dtype: "float64",
      codecs: [BYTES],
      fillValue: 0,
    });
    await zarr.set(baz, null, Math.PI);
    // Reopened so zarrita reads the int64 fill value as a BigInt (create keeps the JSON number).
    await zarr.create(root.resolve(`${g}/x`), {
      shape: [n],
      chunkShape: [n],
      dtype: "int64",
      // zarrita's create writes fillValue into JSON as is, and JSON has no BigInt: 0 is the valid document.
      fillValue: 0 as unknown as bigint,
      codecs: [BYTES],
    });
    const x = await zarr.open(root.resolve(`${g}/x`), { kind: "array" });
    const xs = name === "coarse" ? [4n, 10n, 20n] : [10n, 12n, 14n, 16n, 18n, 20n];
    await zarr.set(x, null, { data: BigInt64Array.from(xs), shape: [n], stride: [1] });
  }
}
