// What the Python original would misread, v2 index stores' attributes, and unknown factory kinds.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import {
  arrayShardDirectoryStore,
  DirectoryStore,
  FetchStore,
  MemoryStore,
  pythonCompatibilityWarnings,
  ShardedStore,
  type StoreConfig,
  shardedStoreFromConfig,
} from "../src/node.js";
import type { AbsolutePath } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-compat-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = (b: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(b));
const v2 = (shape: number[], chunks: number[]) => ({
  zarr_format: 2,
  shape,
  chunks,
  dtype: "<i4",
  compressor: null,
  fill_value: 0,
  filters: null,
  order: "C",
  dimension_separator: "/",
});

/** A v2 array `a` of `rows` rows sharded over dim 0 into directories, every chunk written. */
async function v2Composition(p: string, rows: number): Promise<ShardedStore> {
  const s = new ShardedStore(new DirectoryStore(`${p}/base`), {
    arrayShards: { a: { dims: 1, factory: arrayShardDirectoryStore(`${p}/a`) } },
  });
  await s.set("/a/.zarray", enc(v2([rows, 2], [1, 2])));
  for (let i = 0; i < rows; i++) await s.set(`/a/${i}/0`, new Uint8Array(new Int32Array([i, i]).buffer));
  return s;
}

describe("pythonCompatibilityWarnings", () => {
  it("is empty for a v2 composition whose indices are all below 10", async () => {
    const s = await v2Composition(`${dir}/nine`, 10);
    await s.shards();
    const config = s.toConfig();
    expect(Object.keys(config.config.kwargs.array_shards as object)).toEqual(["a"]);
    expect(pythonCompatibilityWarnings(config)).toEqual([]);
  });

  it("names an array with an index ≥ 10 (the original infers dims from key length)", async () => {
    const s = await v2Composition(`${dir}/twelve`, 12);
    await s.shards();
    const warnings = pythonCompatibilityWarnings(s.toConfig());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^config\.kwargs\.array_shards\.a: index "10" has an index ≥ 10; the Python original/,
    );
  });

  it("names the compact form and stores only this package knows (not HTTP: it is fsspec's), each with its member", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      shards: { "web/data": new MemoryStore(), web2: new FetchStore("http://127.0.0.1:9/data") },
      arrayShards: { a: { dims: 1, factory: arrayShardDirectoryStore(`${dir}/compact/a`) } },
    });
    await s.set("/a/.zarray", enc(v2([3, 2], [1, 2])));
    await s.set("/a/1/0", new Uint8Array(8));
    const warnings = pythonCompatibilityWarnings(s.toConfig({ form: "compact" }));
    expect(warnings).toEqual([
      "config.args[0]: store type shardedstore.MemoryStore exists only in shardedstore (JS); the Python original cannot open it",
      'config.kwargs.shards."web/data": store type shardedstore.MemoryStore exists only in shardedstore (JS); the Python original cannot open it',
      'config.kwargs.array_shard_indices.a: compact form; the Python original reads only array_shards, so it sees none of these index stores (the array reads as fill values); save with form "expanded" for it',
    ]);
    expect(pythonCompatibilityWarnings(42)).toEqual([]);
  });
});

describe("v2 index stores carry the array's attributes", () => {
  it("writes .zattrs with _ARRAY_DIMENSIONS sliced, at creation and on update; zarr-python and zarrita read them", async () => {
    const p = `${dir}/attrs`;
    const s = new ShardedStore(new DirectoryStore(`${p}/base`), {
      arrayShards: { t: { dims: 1, factory: arrayShardDirectoryStore(`${p}/t`) } },
    });
    await s.set("/t/.zarray", enc(v2([3, 4], [1, 2])));
    await s.set("/t/.zattrs", enc({ _ARRAY_DIMENSIONS: ["time", "x"], units: "m" }));
    await s.set("/t/0/0", new Uint8Array(new Int32Array([1, 2]).buffer));
    const first = dec(await new DirectoryStore(`${p}/t/0.zarr`).get("/.zattrs"));
    expect(first).toEqual({ _ARRAY_DIMENSIONS: ["x"], units: "m" });
    // Rewriting the attributes reaches the existing index stores; new ones are created with them.
    await s.set("/t/.zattrs", enc({ _ARRAY_DIMENSIONS: ["time", "y"], units: "cm" }));
    await s.set("/t/2/1", new Uint8Array(new Int32Array([5, 6]).buffer));
    for (const i of [0, 2]) {
      const attrs = dec(await new DirectoryStore(`${p}/t/${i}.zarr`).get("/.zattrs"));
      expect(attrs).toEqual({ _ARRAY_DIMENSIONS: ["y"], units: "cm" });
    }
    // The array's own attributes stay whole in the base; the index stores' .zattrs are never listed.
    expect(dec(await s.get("/t/.zattrs"))._ARRAY_DIMENSIONS).toEqual(["time", "y"]);
    expect(await listAll(s)).toEqual(["/t/.zarray", "/t/.zattrs", "/t/0/0", "/t/2/1"]);
    const out = await python(
      `import sys, json, zarr
a = zarr.open_array(zarr.DirectoryStore(sys.argv[1]), mode='r')
print(json.dumps({"attrs": a.attrs.asdict(), "data": a[...].tolist()}))`,
      `${p}/t/2.zarr`,
    );
    expect(JSON.parse(out)).toEqual({ attrs: { _ARRAY_DIMENSIONS: ["y"], units: "cm" }, data: [0, 0, 5, 6] });
    const alone = await zarr.open.v2(zarr.root(new DirectoryStore(`${p}/t/0.zarr`)), { kind: "array" });
    expect(alone.attrs).toEqual({ _ARRAY_DIMENSIONS: ["y"], units: "cm" });
  });
});

describe("array-shard factories of a kind not registered here", () => {
  it("read the config and its data; only growing into a new index store fails, naming the kind", async () => {
    const p = `${dir}/tape`;
    const s = await v2Composition(p, 3);
    await s.shards();
    const config = s.toConfig({ relativeTo: p, form: "expanded" }) as StoreConfig;
    const kwargs = config.config.kwargs as { array_shard_factories: Record<string, { kind: string }> };
    kwargs.array_shard_factories.a!.kind = "tape";
    const again = shardedStoreFromConfig(JSON.parse(JSON.stringify(config)), { baseDir: p });
    expect(await again.get("/a/2/0")).toEqual(new Uint8Array(new Int32Array([2, 2]).buffer));
    expect(await listAll(again)).toEqual(["/a/.zarray", "/a/0/0", "/a/1/0", "/a/2/0"]);
    // Growing the shape creates no index store: fine. New rows read as fill.
    await again.set("/a/.zarray", enc(v2([5, 2], [1, 2])));
    expect(await again.get("/a/4/0")).toBeUndefined();
    await expect(again.set("/a/4/0" as AbsolutePath, new Uint8Array(8))).rejects.toThrow(
      /array shard "a": cannot create index store \[4\]: unknown array-shard factory kind "tape" \(config\.kwargs\.array_shard_factories\.a\.kind; known: directory, zip.*registerFactoryKind\)/,
    );
    // Saving keeps the factory as it was, so a reader that knows the kind can grow the array.
    const saved = again.toConfig({ relativeTo: p }).config.kwargs.array_shard_factories;
    expect(saved).toEqual({ a: { kind: "tape", prefix: "a", separator: "/" } });
  });
});
