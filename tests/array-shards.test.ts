import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ArrayShardError } from "../src/errors.js";
import { MemoryStore } from "../src/memory-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { exists, listAll, ramp, readArray, strides } from "./helpers/arrays.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-arr-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeArray(
  store: Store,
  p: string,
  shape: number[],
  chunks: number[],
  opts: { separator?: "/" | "."; seed?: number } = {},
) {
  const arr = await zarr.create(zarr.root(store as zarr.Mutable).resolve(p), {
    shape,
    chunkShape: chunks,
    dtype: "float32",
    ...(opts.separator ? { chunkSeparator: opts.separator } : {}),
  });
  const n = shape.reduce((a, b) => a * b, 1);
  await zarr.set(arr, null, {
    data: new Float32Array(ramp(n, opts.seed ?? 3)),
    shape,
    stride: strides(shape),
  } as never);
  return arr;
}

/** Builds the same array in a ShardedStore and in a single store; returns both. */
async function pair(name: string, shape: number[], chunks: number[], dims: number, separator?: "/" | ".") {
  const prefix = `${dir}/${name}`;
  const sharded = new ShardedStore(new DirectoryStore(`${prefix}/base.zarr`), {
    arrayShards: { "data/arr": { dims, factory: arrayShardDirectoryStore(`${prefix}/shards`) } },
  });
  const single = new DirectoryStore(`${prefix}/single.zarr`);
  for (const s of [sharded, single]) {
    await zarr.create(zarr.root(s as zarr.Mutable));
    await zarr.create(zarr.root(s as zarr.Mutable).resolve("data"));
    await writeArray(s, "data/arr", shape, chunks, separator ? { separator } : {});
  }
  return { sharded, single, prefix };
}

describe("array shards (Zarr v3 through zarrita)", () => {
  for (const separator of ["/", "."] as const) {
    it(`puts rows 10 and 11 of a [12, 4] array in their own index stores (separator "${separator}")`, async () => {
      const { sharded, single, prefix } = await pair(
        `rows-${separator === "/" ? "slash" : "dot"}`,
        [12, 4],
        [1, 2],
        1,
        separator,
      );
      expect(await readArray(sharded, "data/arr")).toEqual(await readArray(single, "data/arr"));
      for (const i of [0, 1, 10, 11]) {
        const keys = await listAll(new DirectoryStore(`${prefix}/shards/${i}.zarr`));
        const c = (j: number) => (separator === "/" ? `/c/${j}` : `/c.${j}`);
        expect(keys).toEqual([c(0), c(1), "/zarr.json"].sort());
      }
      expect(await exists(`${prefix}/shards/12.zarr`)).toBe(false);
      // Row 1's store holds only row 1: index 10 never lands in store 1 or 0.
      const one = await zarr.open(new DirectoryStore(`${prefix}/shards/1.zarr`), { kind: "array" });
      const row1 = (await readArray(single, "data/arr")).values as number[][];
      expect(Array.from((await zarr.get(one)).data as Float32Array)).toEqual(row1[1]);
      expect(
        (await listAll(new DirectoryStore(`${prefix}/base.zarr`))).some((k) => /\/c[./]\d/.test(k)),
      ).toBe(false);
    });
  }

  it("shards an [11, 11, 2] array over 2 dims into 121 standalone index stores", async () => {
    const { sharded, single, prefix } = await pair("two-dims", [11, 11, 2], [1, 1, 2], 2);
    expect(await readArray(sharded, "data/arr")).toEqual(await readArray(single, "data/arr"));
    expect((await readdir(`${prefix}/shards`)).length).toBe(11);
    expect((await readdir(`${prefix}/shards/10`)).sort()).toEqual(
      Array.from({ length: 11 }, (_, j) => `${j}.zarr`).sort(),
    );
    const full = (await readArray(single, "data/arr")).values as number[][][];
    const sub = await readArray(new DirectoryStore(`${prefix}/shards/10/7.zarr`), "");
    expect(sub).toEqual({ dtype: "float32", shape: [2], values: full[10]?.[7] });
  });

  it("shards 4 dims of a 5-D array", async () => {
    const { sharded, single, prefix } = await pair("four-dims", [2, 3, 2, 2, 5], [1, 1, 1, 1, 5], 4);
    expect(await readArray(sharded, "data/arr")).toEqual(await readArray(single, "data/arr"));
    const meta = JSON.parse(
      new TextDecoder().decode(await new DirectoryStore(`${prefix}/shards/1/2/1/0.zarr`).get("/zarr.json")),
    );
    expect(meta.shape).toEqual([5]);
    expect(meta.chunk_grid.configuration.chunk_shape).toEqual([5]);
  });

  it("shards every dimension: each index store holds a 0-d array", async () => {
    const { sharded, single, prefix } = await pair("all-dims", [3, 4], [1, 1], 2);
    expect(await readArray(sharded, "data/arr")).toEqual(await readArray(single, "data/arr"));
    const full = (await readArray(single, "data/arr")).values as number[][];
    expect(await readArray(new DirectoryStore(`${prefix}/shards/2/3.zarr`), "")).toEqual({
      dtype: "float32",
      shape: [],
      values: full[2]?.[3],
    });
  });

  it("refuses a chunk size other than 1 on a sharded dimension before writing anything", async () => {
    const base = new MemoryStore();
    const made: number[][] = [];
    const s = new ShardedStore(base, {
      arrayShards: {
        x: {
          dims: 1,
          factory: (i) => {
            made.push([...i]);
            return new MemoryStore();
          },
        },
      },
    });
    const err = await zarr
      .create(zarr.root(s).resolve("x"), { shape: [4, 4], chunkShape: [2, 2], dtype: "int32" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArrayShardError);
    expect((err as Error).message).toMatch(
      /array shard "x": chunk size along sharded dimension 0 must be 1, got 2/,
    );
    expect(base.size).toBe(0);
    expect(made).toEqual([]);
  });

  it("refuses metadata that cannot be carried over (unknown codec, group, too many dims, bad grid)", async () => {
    const base = new MemoryStore();
    const s = new ShardedStore(base, { arrayShards: { x: { dims: 2, factory: () => new MemoryStore() } } });
    const meta = (over: object) =>
      new TextEncoder().encode(
        JSON.stringify({
          zarr_format: 3,
          node_type: "array",
          shape: [4, 4, 4],
          data_type: "float32",
          chunk_grid: { name: "regular", configuration: { chunk_shape: [1, 1, 4] } },
          chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
          codecs: [{ name: "bytes", configuration: { endian: "little" } }],
          fill_value: 0,
          ...over,
        }),
      );
    await expect(
      s.set("/x/zarr.json", meta({ codecs: [{ name: "zfp", configuration: {} }] })),
    ).rejects.toThrow(/codec "zfp" \(codecs\[0\]\) may depend on the chunk's dimensions/);
    await expect(s.set("/x/zarr.json", meta({ node_type: "group" }))).rejects.toThrow(/must be an array/);
    await expect(
      s.set(
        "/x/zarr.json",
        meta({ shape: [4], chunk_grid: { name: "regular", configuration: { chunk_shape: [1] } } }),
      ),
    ).rejects.toThrow(/cannot shard 2 dimensions of an array with 1/);
    await expect(s.set("/x/zarr.json", meta({ chunk_grid: { name: "rectilinear" } }))).rejects.toThrow(
      /regular/,
    );
    await expect(s.set("/x/zarr.json", new TextEncoder().encode("{nope"))).rejects.toThrow(/not valid JSON/);
    await expect(s.set("/x/.zgroup", new TextEncoder().encode("{}"))).rejects.toThrow(
      /group cannot be created/,
    );
    expect(base.size).toBe(0);
  });

  it("carries transpose and sharding_indexed codecs over with the sharded dims removed", async () => {
    const shards = new Map<string, MemoryStore>();
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: {
        x: {
          dims: 1,
          factory: (i) => {
            const m = new MemoryStore();
            shards.set(i.join(","), m);
            return m;
          },
        },
      },
    });
    const meta = {
      zarr_format: 3,
      node_type: "array",
      shape: [2, 4, 6],
      data_type: "float32",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [1, 4, 6] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      codecs: [
        { name: "transpose", configuration: { order: [2, 0, 1] } },
        {
          name: "sharding_indexed",
          configuration: {
            chunk_shape: [1, 2, 3],
            codecs: [{ name: "bytes", configuration: { endian: "little" } }],
            index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
          },
        },
      ],
      fill_value: 0,
      dimension_names: ["t", "y", "x"],
    };
    await s.set("/x/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
    // The index store comes into being with its first chunk, its standalone metadata first.
    expect(shards.size).toBe(0);
    await s.set("/x/c/1/0/0", new Uint8Array(8));
    expect([...shards.keys()]).toEqual(["1"]);
    const sub = JSON.parse(new TextDecoder().decode(await shards.get("1")!.get("/zarr.json")));
    expect(sub.shape).toEqual([4, 6]);
    expect(sub.dimension_names).toEqual(["y", "x"]);
    expect(sub.codecs[0].configuration.order).toEqual([1, 0]);
    expect(sub.codecs[1].configuration.chunk_shape).toEqual([2, 3]);
  });

  it("keeps every chunk when the metadata is rewritten (resize and append); new index stores come with their first chunk", async () => {
    const { sharded, prefix } = await pair("resize", [3, 4], [1, 2], 1);
    const before = (await readArray(sharded, "data/arr")).values as number[][];
    // Append along both dimensions: rewrite zarr.json with a bigger shape, as zarr-python's resize does.
    const metaKey = "/data/arr/zarr.json" as AbsolutePath;
    const meta = JSON.parse(new TextDecoder().decode(await sharded.get(metaKey)));
    meta.shape = [5, 6];
    await sharded.set(metaKey, new TextEncoder().encode(JSON.stringify(meta)));
    // Growing creates no index store; the first chunk written to one does.
    expect(await exists(`${prefix}/shards/4.zarr`)).toBe(false);
    const arr = await zarr.open(zarr.root(sharded).resolve("data/arr"), { kind: "array" });
    expect(arr.shape).toEqual([5, 6]);
    await zarr.set(arr, [4, null], 7);
    expect(await exists(`${prefix}/shards/4.zarr/zarr.json`)).toBe(true);
    const after = (await readArray(sharded, "data/arr")).values as number[][];
    for (let i = 0; i < 3; i++) expect(after[i]?.slice(0, 4)).toEqual(before[i]);
    expect(after[4]).toEqual([7, 7, 7, 7, 7, 7]);
    const sub = JSON.parse(
      new TextDecoder().decode(await new DirectoryStore(`${prefix}/shards/0.zarr`).get("/zarr.json")),
    );
    expect(sub.shape).toEqual([6]);
    // Shrinking keeps the data of rows that are still in the shape.
    meta.shape = [2, 4];
    await sharded.set(metaKey, new TextEncoder().encode(JSON.stringify(meta)));
    const shrunk = (await readArray(sharded, "data/arr")).values as number[][];
    expect(shrunk).toEqual(before.slice(0, 2));
  });

  it("grows a sharded dimension even when the existing index stores are read-only", async () => {
    const made = new Map<string, MemoryStore>();
    const base = new MemoryStore();
    const factory = (i: readonly number[]) => {
      const m = new MemoryStore();
      made.set(i.join(","), m);
      return m;
    };
    const s = new ShardedStore(base, { arrayShards: { a: { dims: 1, factory } } });
    await writeArray(s, "a", [2, 3], [1, 3]);
    // Reopen with the existing index stores read-only (as converted zips are) and a writable base.
    const readOnly = [...made].map(([id, m]) => ({
      index: [Number(id)],
      store: { get: (k: AbsolutePath) => m.get(k) },
    }));
    const again = new ShardedStore(base, { arrayShards: { a: { dims: 1, factory, stores: readOnly } } });
    const meta = JSON.parse(new TextDecoder().decode(await again.get("/a/zarr.json")));
    meta.shape = [3, 3];
    await again.set("/a/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
    const arr = await zarr.open(zarr.root(again).resolve("a"), { kind: "array" });
    await zarr.set(arr, [2, null], 4);
    expect(((await readArray(again, "a")).values as number[][])[2]).toEqual([4, 4, 4]);
    // Growing a non-sharded dimension must rewrite the read-only stores' metadata: a clear error.
    meta.shape = [3, 4];
    await expect(again.set("/a/zarr.json", new TextEncoder().encode(JSON.stringify(meta)))).rejects.toThrow(
      /array shard "a" \[0\].*cannot set "\/zarr.json"/,
    );
  });

  it("lists every logical key once, chunks of array shards included, never the index stores' metadata", async () => {
    const { sharded, single } = await pair("list", [12, 4], [1, 2], 1);
    const keys = await listAll(sharded);
    expect(keys).toEqual(await listAll(single));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain("/data/arr/c/11/1");
    expect(await listAll(sharded, "/data/arr")).toEqual((await listAll(single, "/data/arr")).filter(Boolean));
    expect(await listAll(sharded, "/data/arr/c/1")).toEqual(["/data/arr/c/1/0", "/data/arr/c/1/1"]);
    for (const k of keys)
      expect(await sharded.get(k as AbsolutePath)).toEqual(await single.get(k as AbsolutePath));
    const shards = await sharded.shards();
    expect(shards.filter((s) => s.kind === "array").map((s) => s.index)).toEqual(
      Array.from({ length: 12 }, (_, i) => [i]),
    );
  });

  it("deletes an array's chunks in the shards when deleted through the ShardedStore", async () => {
    const { sharded, prefix } = await pair("delete", [3, 2], [1, 2], 1);
    for (const k of await listAll(sharded, "/data/arr")) await sharded.delete(k as AbsolutePath);
    expect(await listAll(sharded, "/data/arr")).toEqual([]);
    expect(await listAll(new DirectoryStore(`${prefix}/shards/2.zarr`))).toEqual([]);
    expect(await exists(`${prefix}/base.zarr/data/arr/zarr.json`)).toBe(false);
  });

  it("sends keys that are not chunks of the array (typo, out of the grid, foreign file) to the base store", async () => {
    const { sharded, prefix } = await pair("foreign", [3, 2], [1, 2], 1);
    const base = new DirectoryStore(`${prefix}/base.zarr`);
    for (const k of [
      "/data/arr/c/3/0", // row 3 is outside the shape
      "/data/arr/c/1/0/0", // one index too many
      "/data/arr/c/01/0", // leading zero: not a key zarr writes
      "/data/arr/c.1.0", // wrong separator
      "/data/arr/1/0", // v2 spelling of a v3 array
      "/data/arr/notes.txt",
      "/data/arr/c/x/0",
    ] as AbsolutePath[]) {
      const r = sharded.resolve(k);
      expect(r.store, k).toBe(sharded.base);
      expect(r.key).toBe(k);
      await sharded.set(k, new Uint8Array([1]));
      expect(await base.get(k), k).toEqual(new Uint8Array([1]));
    }
    expect(await exists(`${prefix}/shards/3.zarr`)).toBe(false);
    expect(await exists("/0")).toBe(false);
  });

  it("finds existing data when a store is rebuilt by hand over it", async () => {
    const { single, prefix } = await pair("reopen", [12, 4], [1, 2], 1);
    const again = new ShardedStore(new DirectoryStore(`${prefix}/base.zarr`), {
      arrayShards: { "data/arr": { dims: 1, factory: arrayShardDirectoryStore(`${prefix}/shards`) } },
    });
    expect(await listAll(again)).toEqual(await listAll(single));
    const again2 = new ShardedStore(new DirectoryStore(`${prefix}/base.zarr`), {
      arrayShards: { "data/arr": { dims: 1, factory: arrayShardDirectoryStore(`${prefix}/shards`) } },
    });
    expect(await readArray(again2, "data/arr")).toEqual(await readArray(single, "data/arr"));
    expect(again2.resolve("/data/arr/c/10/1")).toMatchObject({ key: "/c/1", index: [10] });
  });

  it("calls an asynchronous factory once per index and serves reads while it resolves", async () => {
    const calls: string[] = [];
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: {
        a: {
          dims: 1,
          factory: async (i) => {
            calls.push(i.join(","));
            await new Promise((r) => setTimeout(r, 5));
            return new MemoryStore();
          },
        },
      },
    });
    await writeArray(s, "a", [4, 3], [1, 3]);
    expect(calls.sort()).toEqual(["0", "1", "2", "3"]);
    expect((await readArray(s, "a")).shape).toEqual([4, 3]);
  });
});

describe("the README example of the original, with a 4-D array", () => {
  async function buildExample(store: Store) {
    const root = zarr.root(store as zarr.Mutable);
    await zarr.create(root, { attributes: { description: "example" } });
    for (const g of ["people", "species", "simulation", "simulation/coarse", "simulation/fine", "imaging"])
      await zarr.create(root.resolve(g));
    await writeArray(store, "people/heights", [2], [2], { seed: 1 });
    await writeArray(store, "species/weights", [3], [3], { seed: 2 });
    await writeArray(store, "simulation/coarse/foo", [3, 4, 5], [1, 2, 2], { seed: 3 });
    await writeArray(store, "simulation/coarse/bar", [3], [2], { seed: 4 });
    await writeArray(store, "simulation/fine/foo", [6, 3, 5], [1, 1, 2], { seed: 5 });
    await writeArray(store, "simulation/fine/bar", [6], [2], { seed: 6 });
    await writeArray(store, "imaging/volume", [12, 3, 64, 64], [1, 1, 32, 32], { seed: 7 });
  }

  for (const volumeDims of [2, 1]) {
    it(`reads back equal to a single DirectoryStore (4-D array sharded over ${volumeDims} dim${volumeDims > 1 ? "s" : ""})`, async () => {
      const p = `${dir}/example-${volumeDims}`;
      const sharded = new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
        shards: {
          people: new DirectoryStore(`${p}/people.zarr`),
          species: new DirectoryStore(`${p}/species.zarr`),
        },
        arrayShards: {
          "simulation/coarse/foo": {
            dims: 1,
            factory: arrayShardDirectoryStore(`${p}/array_shards/coarse_foo`),
          },
          "simulation/fine/foo": { dims: 2, factory: arrayShardDirectoryStore(`${p}/array_shards/fine_foo`) },
          "imaging/volume": {
            dims: volumeDims,
            factory: arrayShardDirectoryStore(`${p}/array_shards/volume`),
          },
        },
      });
      const single = new DirectoryStore(`${p}/single.zarr`);
      await buildExample(sharded);
      await buildExample(single);
      for (const a of [
        "people/heights",
        "species/weights",
        "simulation/coarse/foo",
        "simulation/coarse/bar",
        "simulation/fine/foo",
        "simulation/fine/bar",
        "imaging/volume",
      ]) {
        expect(await readArray(sharded, a), a).toEqual(await readArray(single, a));
      }
      expect(await listAll(sharded)).toEqual(await listAll(single));
      expect((await readdir(`${p}/array_shards/volume`)).length).toBe(12);
      expect((await sharded.shards()).length).toBe(1 + 2 + 3 + 18 + (volumeDims === 2 ? 36 : 12));
    });
  }
});
