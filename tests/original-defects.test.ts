// One test per defect of the Python original (DESIGN.md, "Known defects of the original") that
// concerns routing, listing, status, metadata or reopening: each shows it cannot happen here.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ShardedStore } from "../src/index.js";
import { MemoryStore } from "../src/memory-store.js";
import type { AbsolutePath } from "../src/types.js";
import { exists, listAll, readArray } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-defects-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = (v: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(v));

function v2meta(shape: number[], chunks: number[], extra: object = {}) {
  return {
    zarr_format: 2,
    shape,
    chunks,
    dtype: "<i4",
    compressor: null,
    fill_value: 0,
    filters: null,
    order: "C",
    ...extra,
  };
}

/** Writes a v2 int32 array chunk by chunk (raw little-endian bytes), as zarr-python would with no compressor. */
async function writeV2(
  store: ShardedStore,
  p: string,
  shape: number[],
  chunks: number[],
  sep: "/" | "." | undefined,
) {
  await store.set(
    `/${p}/.zarray` as AbsolutePath,
    enc(v2meta(shape, chunks, sep ? { dimension_separator: sep } : {})),
  );
  const grid = shape.map((s, d) => Math.ceil(s / chunks[d]!));
  const keys: string[] = [];
  const walk = (prefix: number[]) => {
    if (prefix.length === grid.length) return keys.push(prefix.join(sep ?? "."));
    for (let i = 0; i < grid[prefix.length]!; i++) walk([...prefix, i]);
  };
  walk([]);
  const n = chunks.reduce((a, b) => a * b, 1);
  for (const k of keys) {
    const chunk = new Int32Array(n).fill(Number(k.split(/[./]/).join("")));
    await store.set(`/${p}/${k}` as AbsolutePath, new Uint8Array(chunk.buffer));
  }
  return keys;
}

describe("defects of the Python original that cannot happen here", () => {
  it("chunk indices ≥ 10 are routed to their own index store, never to store 1 or to the filesystem root", async () => {
    const p = `${dir}/ten`;
    const s = new ShardedStore(new DirectoryStore(`${p}/base`), {
      arrayShards: { a: { dims: 1, factory: arrayShardDirectoryStore(`${p}/a`) } },
    });
    await writeV2(s, "a", [12, 2], [1, 2], "/");
    expect(s.resolve("/a/10/0")).toMatchObject({ index: [10], key: "/0" });
    expect(String(s.resolve("/a/11/0").store)).toBe(`DirectoryStore(${p}/a/11.zarr)`);
    expect(await listAll(new DirectoryStore(`${p}/a/1.zarr`))).toEqual(["/.zarray", "/0"]);
    expect(await exists("/0")).toBe(false);
  });

  it("listing includes array-shard chunks (the original's keys()/len skipped them)", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: { a: { dims: 1, factory: () => new MemoryStore() } },
    });
    const keys = await writeV2(s, "a", [3, 4], [1, 2], ".");
    expect(await listAll(s)).toEqual(["/a/.zarray", ...keys.map((k) => `/a/${k}`)].sort());
  });

  it("status methods work once an array shard exists", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      shards: { g: new MemoryStore() },
      arrayShards: { a: { dims: 2, factory: () => new MemoryStore() } },
    });
    await writeV2(s, "a", [2, 3, 4], [1, 1, 4], "/");
    expect(String(s)).toBe("ShardedStore(MemoryStore, 1 group shards, 1 array shards)");
    expect((await s.shards()).length).toBe(1 + 1 + 6);
    expect(s.arrayMounts.get("a")?.stores.size).toBe(6);
    expect((await listAll(s)).length).toBe(7);
  });

  it("mapShards handles array shards and its result keeps them", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: { a: { dims: 1, factory: () => new MemoryStore() } },
    });
    const keys = await writeV2(s, "a", [4, 2], [1, 2], "/");
    const out = await s.mapShards((store) => store);
    expect(out.arrayMounts.get("a")?.stores.size).toBe(4);
    expect(await listAll(out)).toEqual(["/a/.zarray", ...keys.map((k) => `/a/${k}`)].sort());
  });

  it("a sibling whose name starts with a mount path is routed to the base, without error", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      shards: { people: new MemoryStore() },
      arrayShards: { "sim/foo": { dims: 1, factory: () => new MemoryStore() } },
    });
    await s.set("/people2/.zgroup", enc({ zarr_format: 2 }));
    await s.set("/sim/foo2/.zarray", enc(v2meta([2], [1])));
    await s.set("/sim/foo2/1", new Uint8Array(4));
    expect(s.resolve("/sim/foo2/1").store).toBe(s.base);
    expect(await listAll(s)).toEqual(["/people2/.zgroup", "/sim/foo2/.zarray", "/sim/foo2/1"]);
  });

  it("compressor null, filters and string dtypes work in sharded arrays (read back by zarr-python)", async () => {
    const p = `${dir}/codecs`;
    await python(
      `import sys, zarr, numpy as np
from numcodecs import Delta
g = zarr.open_group(zarr.DirectoryStore(sys.argv[1]), mode='w')
g.create_dataset('s', data=np.array([['a','bb'],['ccc','dddd']], dtype='<U4'), chunks=(1,2), compressor=None)
g.create_dataset('f', data=np.arange(8, dtype='i4').reshape(2,4), chunks=(1,4), filters=[Delta(dtype='i4')], compressor=None)`,
      `${p}/single`,
    );
    const s = new ShardedStore(new DirectoryStore(`${p}/base`), {
      arrayShards: {
        s: { dims: 1, factory: arrayShardDirectoryStore(`${p}/s`) },
        f: { dims: 1, factory: arrayShardDirectoryStore(`${p}/f`) },
      },
    });
    const single = new DirectoryStore(`${p}/single`);
    for (const k of (await listAll(single)).sort(
      (a, b) => Number(!a.includes("/.z")) - Number(!b.includes("/.z")),
    )) {
      await s.set(k as AbsolutePath, (await single.get(k as AbsolutePath))!);
    }
    const out = await python(
      `import sys, zarr
print(zarr.open_array(zarr.DirectoryStore(sys.argv[1] + '/s/1.zarr'), mode='r')[...].tolist(), zarr.open_array(zarr.DirectoryStore(sys.argv[1] + '/f/1.zarr'), mode='r')[...].tolist())`,
      p,
    );
    expect(out.trim()).toBe("['ccc', 'dddd'] [4, 5, 6, 7]");
    expect((await readArray(s, "s")).values).toEqual([
      ["a", "bb"],
      ["ccc", "dddd"],
    ]);
  });

  it("with no dimension_separator and 2 sharded dims, chunks go to the index stores, not the base", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: { a: { dims: 2, factory: () => new MemoryStore() } },
    });
    await writeV2(s, "a", [3, 11, 4], [1, 1, 2], undefined);
    expect(await listAll(s.base as MemoryStore)).toEqual(["/a/.zarray"]);
    expect(s.resolve("/a/2.10.1")).toMatchObject({ index: [2, 10], key: "/1" });
  });

  it("rewriting .zarray (resize, append) keeps every shard's chunks", async () => {
    const p = `${dir}/resize`;
    const s = new ShardedStore(new DirectoryStore(`${p}/base`), {
      arrayShards: { a: { dims: 1, factory: arrayShardDirectoryStore(`${p}/a`) } },
    });
    const keys = await writeV2(s, "a", [3, 4], [1, 2], ".");
    const before = new Map<string, Uint8Array | undefined>();
    for (const k of keys) before.set(k, await s.get(`/a/${k}` as AbsolutePath));
    await s.set("/a/.zarray", enc(v2meta([5, 6], [1, 2], { dimension_separator: "." })));
    for (const k of keys) expect(await s.get(`/a/${k}` as AbsolutePath), k).toEqual(before.get(k));
    expect(dec(await new DirectoryStore(`${p}/a/0.zarr`).get("/.zarray")).shape).toEqual([6]);
    // Index stores come into being with their first chunk, with the current metadata.
    expect(await new DirectoryStore(`${p}/a/4.zarr`).get("/.zarray")).toBeUndefined();
    await s.set("/a/4.2", new Uint8Array(new Int32Array([42, 42]).buffer));
    expect(dec(await new DirectoryStore(`${p}/a/4.zarr`).get("/.zarray")).shape).toEqual([6]);
    const out = await python(
      `import sys, zarr
print(zarr.open_array(zarr.DirectoryStore(sys.argv[1]), mode='r')[...].tolist())`,
      `${p}/a/2.zarr`,
    );
    // Chunk "2.0" holds 20s, "2.1" holds 21s; the appended columns read as the fill value.
    expect(out.trim()).toBe("[20, 20, 21, 21, 0, 0]");
  });

  it("a ShardedStore with no shards at all works", async () => {
    const s = new ShardedStore(new MemoryStore());
    const a = await zarr.create(zarr.root(s).resolve("x"), { shape: [3], chunkShape: [2], dtype: "int32" });
    await zarr.set(a, null, { data: new Int32Array([1, 2, 3]), shape: [3], stride: [1] });
    expect((await readArray(s, "x")).values).toEqual([1, 2, 3]);
    expect((await s.shards()).length).toBe(1);
  });

  it("reopening with the constructor finds existing array-shard data", async () => {
    const p = `${dir}/reopen`;
    const make = () =>
      new ShardedStore(new DirectoryStore(`${p}/base`), {
        arrayShards: { a: { dims: 1, factory: arrayShardDirectoryStore(`${p}/a`) } },
      });
    const keys = await writeV2(make(), "a", [11, 2], [1, 2], "/");
    const again = make();
    expect(await listAll(again)).toEqual(["/a/.zarray", ...keys.map((k) => `/a/${k}`)].sort());
    expect(await again.get("/a/10/0")).toEqual(await new DirectoryStore(`${p}/a/10.zarr`).get("/0"));
  });

  it("4 sharded dims work", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: { a: { dims: 4, factory: () => new MemoryStore() } },
    });
    const keys = await writeV2(s, "a", [2, 2, 3, 2, 5], [1, 1, 1, 1, 5], "/");
    expect(s.resolve("/a/1/1/2/1/0")).toMatchObject({ index: [1, 1, 2, 1], key: "/0" });
    expect((await listAll(s)).length).toBe(keys.length + 1);
    expect((await s.shards()).length).toBe(1 + 24);
  });

  it("each index store's .zarray has the shape of the remaining dimensions", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: { a: { dims: 2, factory: () => new MemoryStore() } },
    });
    await writeV2(s, "a", [6, 3, 5], [1, 1, 2], "/");
    const entry = s.arrayMounts.get("a")?.stores.get("5,2");
    expect(dec(await entry?.store.get("/.zarray"))).toMatchObject({
      shape: [5],
      chunks: [2],
      dimension_separator: "/",
    });
  });
});
