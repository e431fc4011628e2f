import { cp, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import "../src/config/node-types.js";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { openShardedStore, saveShardedStore } from "../src/config/node-io.js";
import type { StoreConfig } from "../src/config/registry.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ShardedStore } from "../src/index.js";
import { MemoryStore } from "../src/memory-store.js";
import { arrayShardZipStore } from "../src/zip-shards.js";
import { ZipStore } from "../src/zip-store-node.js";
import { readArray } from "./helpers/arrays.js";
import { expectSchemaValid, produce, reload, writeArray } from "./helpers/config-common.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-config-paths-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function composition(p: string, outside: string): Promise<ShardedStore> {
  const store = new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
    shards: {
      people: new DirectoryStore(`${p}/people.zarr`),
      far: new DirectoryStore(`${outside}/far.zarr`),
      zipped: new ZipStore(`${p}/zips/z.zip`, { mode: "a" }),
    },
    arrayShards: {
      foo: { dims: 1, factory: arrayShardDirectoryStore(`${p}/shards/foo`) },
      bar: { dims: 1, factory: arrayShardZipStore(`${p}/shards/bar`) },
    },
  });
  await zarr.create(zarr.root(store).resolve("people"));
  await zarr.create(zarr.root(store).resolve("far"));
  await zarr.create(zarr.root(store).resolve("zipped"));
  await writeArray(store, "people/h", [4], [2]);
  await writeArray(store, "foo", [3, 2], [1, 2]);
  await writeArray(store, "bar", [2, 2], [1, 2], 3);
  await store.close();
  return store;
}

describe("portable configs", () => {
  it("saveShardedStore writes paths below the config's folder relative to it, others absolute, atomically", async () => {
    const p = `${dir}/save/comp`;
    const outside = `${dir}/save/elsewhere`;
    const store = await composition(p, outside);
    // The store is reopened from scratch first: saving must find the index stores it never touched.
    const fresh = reload(produce(store));
    await saveShardedStore(fresh, `${p}/store.json`);
    expect(await readdir(p)).not.toContain(expect.stringMatching(/\.tmp$/));
    const config = JSON.parse(await readFile(`${p}/store.json`, "utf8")) as StoreConfig;
    expectSchemaValid(config);
    const shards = config.config.kwargs.shards as Record<string, StoreConfig>;
    expect((config.config.args[0] as StoreConfig).config).toEqual({
      args: ["base.zarr"],
      kwargs: {},
      path_relative_to: "config_dir",
    });
    expect(shards.people?.config.args).toEqual(["people.zarr"]);
    expect(shards.far?.config).toEqual({ args: [`${outside}/far.zarr`], kwargs: {} });
    expect(shards.zipped?.config).toEqual({
      args: ["zips/z.zip"],
      kwargs: { mode: "r" },
      shardedstore: { mode: "a" },
      path_relative_to: "config_dir",
    });
    expect(config.config.kwargs.array_shard_factories).toEqual({
      foo: { kind: "directory", prefix: "shards/foo", separator: "/" },
      bar: { kind: "zip", prefix: "shards/bar", separator: "/" },
    });
    // v3 arrays (which the Python original cannot read) are saved compact: the factory and the
    // index ranges that exist; the expanded form lists each index store.
    expect(config.config.kwargs.array_shards).toEqual({ foo: {}, bar: {} });
    expect(config.config.kwargs.array_shard_indices).toEqual({ foo: [[[0, 3]]], bar: [[[0, 2]]] });
    const expanded = fresh.toConfig({ relativeTo: p, form: "expanded" });
    const arrays = expanded.config.kwargs.array_shards as Record<string, Record<string, StoreConfig>>;
    expect(Object.values(arrays.foo!).map((c) => c.config.args[0])).toEqual([
      "shards/foo/0.zarr",
      "shards/foo/1.zarr",
      "shards/foo/2.zarr",
    ]);
    expect(Object.values(arrays.bar!).map((c) => c.config.args[0])).toEqual([
      "shards/bar/0.zarr.zip",
      "shards/bar/1.zarr.zip",
    ]);
  });

  it("a copied or moved folder opens from its new place, reads the same, and grows there", async () => {
    const p = `${dir}/move/orig`;
    const outside = `${dir}/move/elsewhere`;
    const store = await composition(p, outside);
    await saveShardedStore(store, `${p}/store.json`);
    const before = {
      foo: await readArray(store, "foo"),
      bar: await readArray(store, "bar"),
      h: await readArray(store, "people/h"),
    };
    await cp(p, `${dir}/move/copied`, { recursive: true });
    await cp(p, `${dir}/move/moved`, { recursive: true });
    await rm(p, { recursive: true });
    for (const where of ["copied", "moved"]) {
      const root = `${dir}/move/${where}`;
      const again = await openShardedStore(`${root}/store.json`);
      expect(String(again.resolve("/foo/c/2/0").store)).toBe(`DirectoryStore(${root}/shards/foo/2.zarr)`);
      expect(await readArray(again, "foo")).toEqual(before.foo);
      expect(await readArray(again, "bar")).toEqual(before.bar);
      expect(await readArray(again, "people/h")).toEqual(before.h);
      expect(await again.get("/far/zarr.json")).toBeDefined();
      const meta = JSON.parse(new TextDecoder().decode(await again.get("/foo/zarr.json")));
      meta.shape = [4, 2];
      await again.set("/foo/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
      await again.set("/zipped/extra", new Uint8Array([1]));
      await zarr.set(await zarr.open(zarr.root(again).resolve("foo"), { kind: "array" }), [3, null], 2);
      await again.close();
      expect((await readdir(`${root}/shards/foo`)).sort()).toEqual(["0.zarr", "1.zarr", "2.zarr", "3.zarr"]);
      expect(await new ZipStore(`${root}/zips/z.zip`).get("/extra")).toEqual(new Uint8Array([1]));
    }
  });

  it("fromConfig resolves relative paths against baseDir, and against the working directory without one", async () => {
    const p = `${dir}/base-dir`;
    await mkdir(p, { recursive: true });
    const config = {
      name: "ShardedStore",
      module: "shardedstore",
      config: {
        args: [
          {
            name: "NestedDirectoryStore",
            module: "zarr.storage",
            config: { args: ["a/../b.zarr"], kwargs: {} },
          },
        ],
        kwargs: {
          shards: {
            s: {
              name: "FSStore",
              module: "zarr.storage",
              config: { args: ["file:///x/s.zarr"], kwargs: {} },
            },
          },
        },
      },
    } as StoreConfig;
    expectSchemaValid(config);
    const withBase = reload(config, { baseDir: p });
    expect((withBase.base as DirectoryStore).root).toBe(`${p}/b.zarr`);
    expect((withBase.shardMounts.get("s") as DirectoryStore).root).toBe("/x/s.zarr");
    expect(produce(withBase, { relativeTo: p }).config.args[0]).toEqual({
      name: "DirectoryStore",
      module: "zarr.storage",
      config: { args: ["b.zarr"], kwargs: {}, path_relative_to: "config_dir" },
    });
    expect((reload(config).base as DirectoryStore).root).toBe(path.resolve("b.zarr"));
    expect(await readdir(p)).toEqual([]);
  });

  it("keeps in-memory shards inline, so a saved config holds their contents", async () => {
    const mem = new MemoryStore();
    await mem.set("/zarr.json", new TextEncoder().encode('{"zarr_format":3,"node_type":"group"}'));
    const store = new ShardedStore(new DirectoryStore(`${dir}/inline/base.zarr`), { shards: { m: mem } });
    await saveShardedStore(store, `${dir}/inline/c.json`);
    const again = await openShardedStore(`${dir}/inline/c.json`);
    expect(await again.get("/m/zarr.json")).toEqual(await mem.get("/zarr.json"));
  });
});
