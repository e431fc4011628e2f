// Huge and sparse sharded dimensions: nothing costs O(grid), only O(index stores that exist).
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { DirectoryStore } from "../src/directory-store.js";
import { MemoryStore } from "../src/memory-store.js";
import { ShardedStore, shardedStoreFromConfig } from "../src/node.js";
import type { AbsolutePath, ArrayShardFactory, Store } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-scale-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const enc = new TextEncoder();
const dec = (b: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(b));

function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Writes `value` into row `at` (a leading index tuple) of an int32 array through zarrita. */
async function writeRow(arr: zarr.Array<"int32", zarr.Mutable>, at: number[], value: number) {
  await zarr.set(arr, [...at.map((i) => zarr.slice(i, i + 1)), null], value);
}

async function readRow(store: Store, p: string, at: number[]): Promise<number[]> {
  const arr = await zarr.open(zarr.root(store as zarr.Readable).resolve(p), { kind: "array" });
  const got = await zarr.get(arr, [...at, null]);
  return Array.from((got as { data: Int32Array }).data);
}

describe("huge sparse sharded dimensions", () => {
  for (const { name, shape, chunks, dims, rows } of [
    {
      name: "[1e15, 4] sharded over dim 0",
      shape: [1e15, 4],
      chunks: [1, 4],
      dims: 1,
      rows: [[0], [123_456_789_012], [1e15 - 1]],
    },
    {
      name: "[1e12, 1e6, 4] sharded over dims 0 and 1",
      shape: [1e12, 1e6, 4],
      chunks: [1, 1, 4],
      dims: 2,
      rows: [
        [0, 0],
        [999_999_999_999, 999_999],
        [5, 77],
      ],
    },
  ]) {
    it(`${name}: write, read, list, shards, toConfig, mapShards and resize cost the index stores that exist`, async () => {
      const p = `${dir}/${dims}`;
      const heapBefore = heapMiB();
      const make = () =>
        new ShardedStore(new DirectoryStore(`${p}/base`), {
          arrayShards: { a: { dims, factory: arrayShardDirectoryStore(`${p}/a`) } },
        });
      const s = make();
      const arr = await zarr.create(zarr.root(s).resolve("a"), { shape, chunkShape: chunks, dtype: "int32" });
      // Writing the metadata created no index store.
      expect(await readdir(`${p}/a`).catch(() => [])).toEqual([]);
      for (const [i, at] of rows.entries()) await writeRow(arr, at, i + 1);
      for (const [i, at] of rows.entries())
        expect(await readRow(s, "a", at)).toEqual([i + 1, i + 1, i + 1, i + 1]);
      // An unwritten row reads as the fill value.
      expect(
        await readRow(
          s,
          "a",
          rows[0]!.map((i) => i + 1),
        ),
      ).toEqual([0, 0, 0, 0]);
      const chunkKeys = rows.map((at) => `/a/c/${[...at, 0].join("/")}`).sort();
      // A fresh store over the same folders finds exactly the written index stores by listing.
      const again = make();
      expect(await listAll(again)).toEqual(["/a/zarr.json", ...chunkKeys].sort());
      const shards = await again.shards();
      const sorted = [...rows].sort((x, y) => x[0]! - y[0]! || (x[1] ?? 0) - (y[1] ?? 0));
      expect(shards.filter((e) => e.kind === "array").map((e) => e.index)).toEqual(sorted);
      // The compact config names the three index tuples; it reopens with the same data.
      const config = again.toConfig({ form: "compact" });
      const boxes = (config.config.kwargs.array_shard_indices as Record<string, unknown>).a;
      expect(boxes).toEqual(sorted);
      expect(JSON.stringify(config).length).toBeLessThan(2000);
      const reopened = shardedStoreFromConfig(JSON.parse(JSON.stringify(config)));
      expect(await listAll(reopened)).toEqual(await listAll(again));
      // mapShards visits the base and the three index stores.
      const visited: (readonly number[] | undefined)[] = [];
      const mapped = await again.mapShards((store, _m, index) => {
        visited.push(index);
        return store;
      });
      expect(visited.filter(Boolean).length).toBe(3);
      expect(await readRow(mapped, "a", rows[1]!)).toEqual([2, 2, 2, 2]);
      // Resize along the non-sharded dimension: the three index stores' metadata follow.
      const meta = dec(await again.get("/a/zarr.json"));
      meta.shape = [...shape.slice(0, -1), 6];
      await again.set("/a/zarr.json", enc.encode(JSON.stringify(meta)));
      for (const at of rows) {
        const sub = dec(await new DirectoryStore(`${p}/a/${at.join("/")}.zarr`).get("/zarr.json"));
        expect(sub.shape).toEqual([6]);
      }
      expect(await readRow(again, "a", rows[2]!)).toEqual([3, 3, 3, 3, 0, 0]);
      expect(heapMiB() - heapBefore).toBeLessThan(64);
    });
  }

  it("a factory that cannot list is probed up to the bound; past it, a clear error, never the heap", async () => {
    const made = new Map<string, MemoryStore>();
    const factory: ArrayShardFactory = (index) => {
      const id = index.join(",");
      const m = made.get(id) ?? new MemoryStore();
      made.set(id, m);
      return m;
    };
    const s = new ShardedStore(new MemoryStore(), { arrayShards: { a: { dims: 1, factory } } });
    const arr = await zarr.create(zarr.root(s).resolve("a"), {
      shape: [1e15, 2],
      chunkShape: [1, 2],
      dtype: "int32",
    });
    // Writing metadata and chunks works at any grid size.
    await writeRow(arr, [7], 1);
    expect(await readRow(s, "a", [7])).toEqual([1, 1]);
    // Finding every index store cannot: the factory cannot say which exist (others may have made
    // some), and the grid is past the probe limit.
    const again = new ShardedStore(s.base, { arrayShards: { a: { dims: 1, factory } } });
    const err = await listAll(again).catch((e: Error) => e);
    expect(String(err)).toMatch(
      /ArrayShardError: array shard "a": cannot find its index stores: the factory cannot list them \(no listIndices\) and the grid has 1000000000000000 index tuples, more than the probe limit of 100000/,
    );
    await expect(again.shards()).rejects.toThrow(/probe limit of 100000/);
    // Within the bound it probes: a small grid finds the written index store.
    const small = new ShardedStore(new MemoryStore(), { arrayShards: { b: { dims: 1, factory } } });
    const b = await zarr.create(zarr.root(small).resolve("b"), {
      shape: [50, 2],
      chunkShape: [1, 2],
      dtype: "int32",
    });
    await writeRow(b, [7], 1);
    const probed = new ShardedStore(small.base, { arrayShards: { b: { dims: 1, factory } }, probeLimit: 50 });
    expect((await probed.shards()).map((e) => e.index)).toEqual([undefined, [7]]);
    const refused = new ShardedStore(small.base, {
      arrayShards: { b: { dims: 1, factory } },
      probeLimit: 49,
    });
    await expect(refused.shards()).rejects.toThrow(
      /grid has 50 index tuples, more than the probe limit of 49/,
    );
  });

  it("concurrent first writes to one index store create it once, metadata before any chunk", async () => {
    const events: string[] = [];
    class Recording extends MemoryStore {
      override async set(key: AbsolutePath, value: Uint8Array) {
        events.push(key);
        await new Promise((r) => setTimeout(r, 1));
        return super.set(key, value);
      }
    }
    let created = 0;
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: {
        a: {
          dims: 1,
          factory: () => {
            created++;
            return new Recording();
          },
        },
      },
    });
    await zarr.create(zarr.root(s).resolve("a"), { shape: [10, 64], chunkShape: [1, 1], dtype: "uint8" });
    await Promise.all(
      Array.from({ length: 64 }, (_, j) => s.set(`/a/c/3/${j}` as AbsolutePath, new Uint8Array([j]))),
    );
    expect(created).toBe(1);
    expect(events.filter((k) => k === "/zarr.json")).toEqual(["/zarr.json"]);
    expect(events[0]).toBe("/zarr.json");
    expect(events.length).toBe(65);
  });
});

/** zarr.json of a uint8 array with chunk 1 on the sharded dims and `tail` elements per chunk. */
function meta(grid: number[], tail: number): Uint8Array {
  return enc.encode(
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape: [...grid, tail],
      data_type: "uint8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [...grid.map(() => 1), tail] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      codecs: [{ name: "bytes" }],
      fill_value: 0,
      attributes: {},
    }),
  );
}

describe("index stores exist only when written (property)", () => {
  it("list() equals one store's list, and only written index stores exist, over random shapes and writes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }).chain((grid) =>
          fc.record({
            grid: fc.constant(grid),
            dims: fc.integer({ min: 1, max: grid.length }),
            written: fc.uniqueArray(fc.tuple(...grid.map((n) => fc.integer({ min: 0, max: n - 1 }))), {
              maxLength: 8,
              selector: (t) => t.join(","),
            }),
          }),
        ),
        async ({ grid, dims, written }) => {
          const stores = new Map<string, MemoryStore>();
          const listing = Object.assign(
            (index: readonly number[]) => {
              const id = index.join(",");
              const m = stores.get(id) ?? new MemoryStore();
              stores.set(id, m);
              return m;
            },
            {
              // A user factory that lists: only stores holding metadata exist.
              listIndices: async function* () {
                for (const [id, m] of stores) if (await m.get("/zarr.json")) yield id.split(",").map(Number);
              },
            },
          );
          const single = new MemoryStore();
          const sharded = new ShardedStore(new MemoryStore(), {
            arrayShards: { x: { dims, factory: listing } },
          });
          const doc = meta(grid, 2);
          for (const s of [single, sharded]) {
            await s.set("/x/zarr.json", doc);
            for (const t of written)
              await s.set(`/x/c/${t.join("/")}/0` as AbsolutePath, new Uint8Array([1, 2]));
          }
          expect(await listAll(sharded)).toEqual(await listAll(single));
          const want = [...new Set(written.map((t) => t.slice(0, dims).join(",")))].sort();
          const fresh = new ShardedStore(sharded.base, { arrayShards: { x: { dims, factory: listing } } });
          const found = (await fresh.shards())
            .filter((e) => e.kind === "array")
            .map((e) => e.index!.join(","));
          expect([...found].sort()).toEqual(want);
          expect(await listAll(fresh)).toEqual(await listAll(single));
          // A factory that cannot list finds the same by probing (the grid is small).
          const probing = new ShardedStore(sharded.base, {
            arrayShards: { x: { dims, factory: (i) => listing(i) } },
          });
          const probed = (await probing.shards())
            .filter((e) => e.kind === "array")
            .map((e) => e.index!.join(","));
          expect([...probed].sort()).toEqual(want);
          // The compact config round-trips the same index set.
          const again = shardedStoreFromConfig(sharded.toConfig({ form: "compact" }));
          expect(again.arrayMounts.get("x")!.knownCount).toBe(want.length);
        },
      ),
      { numRuns: 60 },
    );
  });
});
