import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore } from "../src/directory-store.js";
import { MemoryStore } from "../src/memory-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { listAll, ramp, readArray, strides } from "./helpers/arrays.js";

type Spec = {
  path: string;
  dtype: "float32" | "float64" | "int32" | "int16" | "uint8";
  shape: number[];
  chunks: number[];
};

const ARRAYS: Spec[] = [
  { path: "people/heights", dtype: "float64", shape: [7], chunks: [3] },
  { path: "people/ages", dtype: "int16", shape: [7], chunks: [7] },
  { path: "species/counts", dtype: "int32", shape: [5, 6], chunks: [2, 4] },
  { path: "simulation/coarse/foo", dtype: "float32", shape: [3, 4, 5], chunks: [1, 2, 2] },
  { path: "simulation/fine/grid", dtype: "float64", shape: [2, 3, 4, 5], chunks: [1, 2, 3, 2] },
  { path: "mask", dtype: "uint8", shape: [10], chunks: [4] },
];

const TYPED = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int16: Int16Array,
  uint8: Uint8Array,
};

async function build(store: Store): Promise<void> {
  const root = zarr.root(store as zarr.Mutable);
  await zarr.create(root, { attributes: { title: "example", nested: { a: [1, 2] } } });
  for (const g of ["people", "species", "simulation", "simulation/coarse", "simulation/fine"]) {
    await zarr.create(root.resolve(g), { attributes: { group: g } });
  }
  for (const [i, a] of ARRAYS.entries()) {
    const arr = await zarr.create(root.resolve(a.path), {
      shape: a.shape,
      chunkShape: a.chunks,
      dtype: a.dtype,
      attributes: { units: "m", index: i },
    });
    const n = a.shape.reduce((x, y) => x * y, 1);
    const data = new TYPED[a.dtype](
      ramp(n, i + 1).map((v) => (a.dtype.startsWith("float") ? v : Math.abs(Math.trunc(v)) % 100)),
    );
    await zarr.set(arr, null, { data, shape: a.shape, stride: strides(a.shape) } as never);
  }
}

describe("zarrita end to end through group shards", () => {
  let dir: string;
  let sharded: ShardedStore;
  let single: DirectoryStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "ss-e2e-"));
    sharded = new ShardedStore(new DirectoryStore(`${dir}/base.zarr`), {
      shards: {
        people: new DirectoryStore(`${dir}/people.zarr`),
        species: new DirectoryStore(`${dir}/species.zarr`),
        "simulation/fine": new DirectoryStore(`${dir}/fine.zarr`),
      },
    });
    single = new DirectoryStore(`${dir}/single.zarr`);
    await build(sharded);
    await build(single);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const a of ARRAYS) {
    it(`reads ${a.path} (${a.dtype} ${a.shape.length}-D) equal to the single store`, async () => {
      const got = await readArray(sharded, a.path);
      const want = await readArray(single, a.path);
      expect(got.shape).toEqual(a.shape);
      expect(got).toEqual(want);
    });
  }

  it("reads group attributes through the shards", async () => {
    const g = await zarr.open(zarr.root(sharded).resolve("simulation/fine"), { kind: "group" });
    expect(g.attrs).toEqual({ group: "simulation/fine" });
    const root = await zarr.open(zarr.root(sharded), { kind: "group" });
    expect(root.attrs).toEqual({ title: "example", nested: { a: [1, 2] } });
  });

  it("puts each group's keys in its shard, with the mount path stripped", async () => {
    expect(await listAll(new DirectoryStore(`${dir}/people.zarr`))).toContain("/heights/zarr.json");
    expect(await listAll(new DirectoryStore(`${dir}/fine.zarr`))).toContain("/grid/c/1/1/1/2");
    expect(
      (await listAll(new DirectoryStore(`${dir}/base.zarr`))).some((k) => k.startsWith("/people/")),
    ).toBe(false);
  });

  it("holds exactly the keys and bytes of the single store", async () => {
    const keys = await listAll(sharded);
    expect(keys).toEqual(await listAll(single));
    for (const k of keys)
      expect(await sharded.get(k as AbsolutePath), k).toEqual(await single.get(k as AbsolutePath));
  });

  it("works with no shards at all", async () => {
    const bare = new ShardedStore(new MemoryStore());
    await build(bare);
    for (const a of ARRAYS) expect(await readArray(bare, a.path)).toEqual(await readArray(single, a.path));
  });

  it("accepts a plain Map-backed object and zarrita's own FileSystemStore as shards", async () => {
    const { default: FileSystemStore } = await import("@zarrita/storage/fs");
    const map = new Map<string, Uint8Array>();
    const mapStore = {
      get: (k: AbsolutePath) => map.get(k),
      set: (k: AbsolutePath, v: Uint8Array) => {
        map.set(k, v);
      },
    };
    const s = new ShardedStore(new MemoryStore(), {
      shards: { people: mapStore, species: new FileSystemStore(`${dir}/zarrita-fs.zarr`) },
    });
    await build(s);
    expect(await readArray(s, "people/heights")).toEqual(await readArray(single, "people/heights"));
    expect(await readArray(s, "species/counts")).toEqual(await readArray(single, "species/counts"));
    expect(map.has("/heights/zarr.json")).toBe(true);
  });
});
