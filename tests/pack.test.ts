import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore, MemoryStore, packStore, unpackStore } from "../src/node.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";
import { python, tensorstorePython } from "./helpers/python.js";

const decoder = new TextDecoder();

/** Reads a whole array with zarrita as nested lists, honouring the strides it returns (F order). */
async function readArray(store: Store, p: string): Promise<{ shape: number[]; values: unknown }> {
  const arr = await zarr.open(zarr.root(store as zarr.Readable).resolve(p), { kind: "array" });
  const got = (await zarr.get(arr)) as {
    data: ArrayLike<number | bigint>;
    shape: number[];
    stride: number[];
  };
  const at = (offset: number, d: number): unknown =>
    d === got.shape.length
      ? Number(got.data[offset])
      : Array.from({ length: got.shape[d]! }, (_, i) => at(offset + i * got.stride[d]!, d + 1));
  return { shape: got.shape, values: at(0, 0) };
}

async function makeArray(
  store: MemoryStore,
  p: string,
  opts: {
    shape: number[];
    chunks: number[];
    dtype: "float32" | "int16" | "uint8";
    codecs?: "big" | "transpose" | undefined;
    drop: boolean[];
  },
): Promise<void> {
  const arr = await zarr.create(zarr.root(store as zarr.Mutable).resolve(p), {
    shape: opts.shape,
    chunkShape: opts.chunks,
    dtype: opts.dtype,
    ...(opts.codecs === "big" ? { codecs: [{ name: "bytes", configuration: { endian: "big" } }] } : {}),
    ...(opts.codecs === "transpose"
      ? {
          codecs: [
            {
              name: "transpose",
              configuration: { order: opts.shape.map((_, i) => opts.shape.length - 1 - i) },
            },
            { name: "bytes", configuration: { endian: "little" } },
          ],
        }
      : {}),
  });
  const n = opts.shape.reduce((a, b) => a * b, 1);
  const Ctor = { float32: Float32Array, int16: Int16Array, uint8: Uint8Array }[opts.dtype];
  const data = new Ctor(n);
  for (let i = 0; i < n; i++) data[i] = (i * 7 + 3) % 120;
  const stride = opts.shape.map((_, d) => opts.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  await zarr.set(arr, null, { data, shape: opts.shape, stride } as never);
  // Drop some chunks: they must stay missing (fill value) through pack and unpack.
  const chunkKeys = (await listAll(store, `/${p}/c` as AbsolutePath)).filter((k) => !k.endsWith("zarr.json"));
  for (const [i, k] of chunkKeys.entries())
    if (opts.drop[i % opts.drop.length]) await store.delete(k as AbsolutePath);
}

async function chunkBytes(store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const k of await listAll(store)) {
    if (k.endsWith("zarr.json")) continue;
    out.set(k, Buffer.from((await store.get(k as AbsolutePath))!).toString("hex"));
  }
  return out;
}

const geometry = fc
  .array(
    fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 })),
    {
      minLength: 1,
      maxLength: 3,
    },
  )
  .map((dims) => ({
    chunks: dims.map(([c]) => c),
    shards: dims.map(([c, m]) => c * m),
    shape: dims.map(([c, m, extra]) => c * m + extra),
  }));

describe("packStore / unpackStore", () => {
  it("packed arrays read equal with zarrita; unpacking gives back the source's chunks byte for byte", async () => {
    await fc.assert(
      fc.asyncProperty(
        geometry,
        fc.constantFrom("float32" as const, "int16" as const, "uint8" as const),
        fc.constantFrom(undefined, "big" as const, "transpose" as const),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        async (g, dtype, codecs, drop) => {
          const src = new MemoryStore();
          await zarr.create(zarr.root(src as zarr.Mutable), { attributes: { title: "t" } });
          await makeArray(src, "g/a", { shape: g.shape, chunks: g.chunks, dtype, codecs, drop });
          const packed = new MemoryStore();
          const report = await packStore(src, packed, { shards: { "g/a": g.shards } });
          expect(report.arrays).toEqual(["g/a"]);
          const meta = JSON.parse(decoder.decode(await packed.get("/g/a/zarr.json")));
          expect(meta.codecs[0].name).toBe("sharding_indexed");
          expect(meta.codecs[0].configuration.chunk_shape).toEqual(g.chunks);
          expect(meta.chunk_grid.configuration.chunk_shape).toEqual(g.shards);
          expect(await readArray(packed, "g/a")).toEqual(await readArray(src, "g/a"));
          const unpacked = new MemoryStore();
          await unpackStore(packed, unpacked);
          expect(await chunkBytes(unpacked)).toEqual(await chunkBytes(src));
          const back = JSON.parse(decoder.decode(await unpacked.get("/g/a/zarr.json")));
          const orig = JSON.parse(decoder.decode(await src.get("/g/a/zarr.json")));
          expect(back.chunk_grid).toEqual(orig.chunk_grid);
          // An implied bytes codec (zarrita writes none for little-endian data) is named explicitly.
          const implied = !orig.codecs.some((c: { name: string }) => c.name === "bytes");
          expect(back.codecs.filter((c: { name: string }) => !(implied && c.name === "bytes"))).toEqual(
            orig.codecs,
          );
          expect(back.codecs.filter((c: { name: string }) => c.name === "bytes")).toHaveLength(1);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("marks missing inner chunks with 2^64 − 1 in both index fields and writes no empty shard", async () => {
    const src = new MemoryStore();
    await zarr.create(zarr.root(src as zarr.Mutable));
    await makeArray(src, "a", { shape: [8], chunks: [2], dtype: "uint8", drop: [false, true, true, true] });
    // chunks c/0 kept, c/1..3 dropped; c/4 kept, c/5..7 dropped; shards of 4 chunks: both shards have one chunk
    const packed = new MemoryStore();
    await packStore(src, packed, { shards: { a: [8] } });
    const shard = (await packed.get("/a/c/0"))!;
    const index = new DataView(shard.buffer, shard.byteOffset + shard.byteLength - 4 * 16 - 4, 4 * 16);
    expect(index.getBigUint64(0, true)).toBe(0n);
    expect(index.getBigUint64(8, true)).toBe(2n);
    for (const i of [1, 2, 3]) {
      expect(index.getBigUint64(i * 16, true)).toBe(2n ** 64n - 1n);
      expect(index.getBigUint64(i * 16 + 8, true)).toBe(2n ** 64n - 1n);
    }
    const empty = new MemoryStore();
    await zarr.create(zarr.root(empty as zarr.Mutable));
    await makeArray(empty, "a", { shape: [8], chunks: [2], dtype: "uint8", drop: [true] });
    const packedEmpty = new MemoryStore();
    await packStore(empty, packedEmpty, { shards: { a: [4] } });
    expect(await listAll(packedEmpty)).toEqual(["/a/zarr.json", "/zarr.json"]);
  });

  it("names the array and the reason for bad requests", async () => {
    const src = new MemoryStore();
    await zarr.create(zarr.root(src as zarr.Mutable));
    await makeArray(src, "a", { shape: [6, 6], chunks: [2, 3], dtype: "int16", drop: [false] });
    const to = () => new MemoryStore();
    await expect(packStore(src, to(), { shards: { a: [3, 3] } })).rejects.toThrow(
      /array shard "a".*multiple of the chunk shape \[2,3\]/,
    );
    await expect(packStore(src, to(), { shards: { a: [2] } })).rejects.toThrow(
      /has 1 dimensions, the array 2/,
    );
    await expect(packStore(src, to(), { shards: { b: [2] } })).rejects.toThrow(/"b".*no array at this path/);
    const packed = new MemoryStore();
    await packStore(src, packed, { shards: { a: [4, 6] } });
    await expect(packStore(packed, to(), { shards: { a: [4, 6] } })).rejects.toThrow(/already packed/);
    await expect(unpackStore(src, to(), { arrays: ["a"] })).rejects.toThrow(/"a".*not packed/);
    // A damaged shard index is caught by its crc32c.
    const shard = (await packed.get("/a/c/0/0"))!.slice();
    shard.set([shard.at(-10)! ^ 0xff], shard.byteLength - 10);
    await packed.set("/a/c/0/0", shard);
    await expect(unpackStore(packed, to())).rejects.toThrow(/"a": shard "\/a\/c\/0\/0": .*crc32c/);
  });
});

describe("pack: real readers", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "pack-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("zarr-python v2 arrays (blosc, gzip, order F, big-endian, uint8, missing chunks) pack to v3 that tensorstore and zarrita read equal", async () => {
    const v2 = path.join(dir, "v2.zarr");
    await python(
      `
import sys, zarr, numpy as np, numcodecs
root = zarr.open_group(sys.argv[1], mode="w")
root.attrs["title"] = "v2 source"
g = root.create_group("g")
a = g.create_dataset("blosc", shape=(10, 7), chunks=(4, 3), dtype="<f4", compressor=numcodecs.Blosc("zstd", 3, numcodecs.Blosc.SHUFFLE), fill_value=-1)
a[:] = np.arange(70, dtype="<f4").reshape(10, 7) / 3
import os; os.remove(sys.argv[1] + "/g/blosc/0.0")  # a missing chunk: fill value -1
b = g.create_dataset("gzipF", shape=(5, 6), chunks=(2, 4), dtype=">i4", compressor=numcodecs.GZip(4), order="F")
b[:] = np.arange(30).reshape(5, 6) * 1000
c = root.create_dataset("bytes", shape=(9,), chunks=(4,), dtype="|u1", compressor=None, dimension_separator="/")
c[:] = np.arange(9, dtype="u1") * 3
c.attrs["_ARRAY_DIMENSIONS"] = ["x"]
`,
      v2,
    );
    expect(await new DirectoryStore(v2).get("/g/blosc/0.0")).toBeUndefined();
    const out = path.join(dir, "packed.zarr");
    await packStore(new DirectoryStore(v2), new DirectoryStore(out), {
      shards: { "g/blosc": [8, 6], "g/gzipF": [4, 8], bytes: [8] },
    });
    const readTs = async (p: string) =>
      JSON.parse(
        await tensorstorePython(
          `
import sys, json, tensorstore as ts
a = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": sys.argv[1]}}).result()
print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "values": a.read().result().tolist()}))
`,
          path.join(out, p),
        ),
      ) as { shape: number[]; values: unknown };
    const readV2 = async (p: string) =>
      JSON.parse(
        await python(
          `
import sys, json, zarr
a = zarr.open_array(sys.argv[1], mode="r")
print(json.dumps({"shape": list(a.shape), "values": a[...].tolist()}))
`,
          path.join(v2, p),
        ),
      ) as { shape: number[]; values: unknown };
    for (const p of ["g/blosc", "g/gzipF", "bytes"]) {
      const want = await readV2(p);
      const ts = await readTs(p);
      expect({ shape: ts.shape, values: ts.values }).toEqual(want);
      const zr = await readArray(new DirectoryStore(out), p);
      expect({ shape: zr.shape, values: zr.values }).toEqual(want);
    }
    const root = JSON.parse(decoder.decode(await new DirectoryStore(out).get("/zarr.json")));
    expect(root).toEqual({ zarr_format: 3, node_type: "group", attributes: { title: "v2 source" } });
    const bytesMeta = JSON.parse(decoder.decode(await new DirectoryStore(out).get("/bytes/zarr.json")));
    expect(bytesMeta.dimension_names).toEqual(["x"]);
    expect(bytesMeta.chunk_key_encoding).toEqual({ name: "v2", configuration: { separator: "/" } });
    // Unpacked again: the same chunk bytes under the same keys as zarr-python wrote.
    const back = new MemoryStore();
    await unpackStore(new DirectoryStore(out), back);
    const src = await chunkBytes(new DirectoryStore(v2));
    for (const k of [...src.keys()]) if (/\.z(attrs|group|array)$/.test(k)) src.delete(k);
    expect(await chunkBytes(back)).toEqual(src);
  });
});
