import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { copyStore } from "../src/copy-store.js";
import { ShardedStore } from "../src/index.js";
import type { ShardProgress, ShardTransform } from "../src/map-shards.js";
import { MemoryStore } from "../src/memory-store.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { listAll, readArray } from "./helpers/arrays.js";

async function example(): Promise<ShardedStore> {
  const s = new ShardedStore(new MemoryStore(), {
    shards: { people: new MemoryStore(), "sim/fine": new MemoryStore() },
    arrayShards: {
      "sim/coarse/foo": { dims: 1, factory: () => new MemoryStore() },
      "sim/fine2/foo": { dims: 2, factory: () => new MemoryStore() },
    },
  });
  const root = zarr.root(s);
  await zarr.create(root);
  for (const g of ["people", "sim", "sim/fine", "sim/coarse", "sim/fine2"])
    await zarr.create(root.resolve(g));
  const mk = async (p: string, shape: number[], chunks: number[]) => {
    const a = await zarr.create(root.resolve(p), { shape, chunkShape: chunks, dtype: "int32" });
    const n = shape.reduce((x, y) => x * y, 1);
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1));
    await zarr.set(a, null, {
      data: Int32Array.from({ length: n }, (_, i) => i * 3 + 1),
      shape,
      stride,
    } as never);
  };
  await mk("people/age", [5], [2]);
  await mk("sim/fine/bar", [4, 4], [2, 2]);
  await mk("sim/coarse/foo", [11, 3], [1, 2]);
  await mk("sim/fine2/foo", [3, 2, 4], [1, 1, 4]);
  return s;
}

/** Copies each shard into a fresh MemoryStore, reporting bytes. */
const toMemory: ShardTransform = async (store, _mount, _index, ctx) => {
  const out = new MemoryStore();
  await copyStore(store, out, {
    onBytes: (n) => ctx.reportBytes(n),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return out;
};

describe("mapShards", () => {
  it("applies the function to the base, every group shard and every array-shard index store", async () => {
    const src = await example();
    const seen: string[] = [];
    await src.mapShards(async (store, mount, index) => {
      seen.push(`${mount}${index ? `[${index.join(",")}]` : ""}`);
      return store;
    });
    expect(seen.length).toBe(1 + 2 + 11 + 6);
    expect(seen).toContain("");
    expect(seen).toContain("sim/coarse/foo[10]");
    expect(seen).toContain("sim/fine2/foo[2,1]");
  });

  it("returns a composition that reads the same, array shards included, and leaves the source untouched", async () => {
    const src = await example();
    const before = await listAll(src);
    const snapshot = new Map<string, Uint8Array | undefined>();
    for (const k of before) snapshot.set(k, await src.get(k as AbsolutePath));
    const out = await src.mapShards(toMemory, { concurrency: 3 });
    expect(await listAll(out)).toEqual(before);
    for (const a of ["people/age", "sim/fine/bar", "sim/coarse/foo", "sim/fine2/foo"]) {
      expect(await readArray(out, a)).toEqual(await readArray(src, a));
    }
    expect([...out.arrayMounts.keys()].sort()).toEqual(["sim/coarse/foo", "sim/fine2/foo"]);
    expect(out.arrayMounts.get("sim/coarse/foo")?.stores.size).toBe(11);
    // The result holds new stores, the source still has all of its bytes.
    expect(out.base).not.toBe(src.base);
    for (const k of before) expect(await src.get(k as AbsolutePath)).toEqual(snapshot.get(k));
  });

  it("lets a converted array grow: new index stores come from the transform's factory", async () => {
    const src = await example();
    const made: number[][] = [];
    const fn: ShardTransform = Object.assign(toMemory, {
      arrayShardFactory: (_mount: string) => (index: readonly number[]) => {
        made.push([...index]);
        return new MemoryStore();
      },
    });
    const out = await src.mapShards(fn);
    const arr = await zarr.open(zarr.root(out).resolve("sim/coarse/foo"), { kind: "array" });
    const meta = JSON.parse(new TextDecoder().decode(await out.get("/sim/coarse/foo/zarr.json")));
    meta.shape = [13, 3];
    await out.set("/sim/coarse/foo/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
    // Growing creates no index store: the first chunk written to one does.
    expect(made).toEqual([]);
    const grown = await zarr.open(zarr.root(out).resolve("sim/coarse/foo"), { kind: "array" });
    await zarr.set(grown, [12, null], 5);
    expect(made).toEqual([[12]]);
    const got = (await readArray(out, "sim/coarse/foo")).values as number[][];
    expect(got[12]).toEqual([5, 5, 5]);
    expect(got.slice(0, 11)).toEqual((await readArray(src, "sim/coarse/foo")).values);
    expect(arr.shape).toEqual([11, 3]);
  });

  it("reports progress per shard and per byte", async () => {
    const src = await example();
    const events: ShardProgress[] = [];
    await src.mapShards(toMemory, { onProgress: (e) => events.push(e) });
    const dones = events.filter((e) => e.type === "shard-done");
    expect(dones.length).toBe(20);
    expect(dones.at(-1)?.done).toBe(20);
    expect(dones.every((e) => e.total === 20)).toBe(true);
    const bytes = events.filter((e) => e.type === "bytes").reduce((a, e) => a + (e.bytes ?? 0), 0);
    let want = 0;
    for (const k of await listAll(src)) want += (await src.get(k as AbsolutePath))!.byteLength;
    // Index stores also hold their own metadata documents, which the logical listing omits.
    expect(bytes).toBeGreaterThan(want);
    expect(events.at(-1)?.totalBytes).toBe(bytes);
  });

  it("never runs more than `concurrency` shards at once", async () => {
    const src = await example();
    let running = 0;
    let peak = 0;
    await src.mapShards(
      async (store) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        return store;
      },
      { concurrency: 2 },
    );
    expect(peak).toBe(2);
  });

  it("stops when aborted and rejects with a clear error", async () => {
    const src = await example();
    const ctrl = new AbortController();
    let calls = 0;
    const err = await src
      .mapShards(
        async (store) => {
          if (++calls === 3) ctrl.abort(new Error("user pressed ^C"));
          return store;
        },
        { concurrency: 1, signal: ctrl.signal },
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/aborted: Error: user pressed \^C/);
    expect(calls).toBe(3);
  });

  it("rejects with the transformation's error, naming nothing it did not do", async () => {
    const src = await example();
    const err = await src
      .mapShards(async (store: Store, mount) => {
        if (mount === "people") throw new Error("cannot convert people");
        return store;
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe("cannot convert people");
  });

  it("works on a composition with no shards at all", async () => {
    const src = new ShardedStore(new MemoryStore());
    await src.set("/zarr.json", new TextEncoder().encode("{}"));
    const out = await src.mapShards(toMemory);
    expect(await listAll(out)).toEqual(["/zarr.json"]);
  });
});
