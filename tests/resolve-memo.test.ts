import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkedKeyHash } from "../src/keys.js";
import { MemoryStore } from "../src/memory-store.js";
import { RouteMemo } from "../src/route-memo.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath, Resolution } from "../src/types.js";

const meta = (shape: number[], chunkShape = [1, 2]) =>
  new TextEncoder().encode(
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape,
      data_type: "uint8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: chunkShape } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      codecs: [{ name: "bytes" }],
      fill_value: 0,
    }),
  );

describe("remembered routes follow array metadata changes", () => {
  it("routes a key again after a resize brings it into the grid, and after the metadata is deleted", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: { a: { dims: 1, factory: () => new MemoryStore() } },
    });
    await s.set("/a/zarr.json", meta([2, 2]));
    expect(s.resolve("/a/c/3/0").kind).toBe("base");
    expect(s.resolve("/a/c/3/0").kind).toBe("base");
    await s.set("/a/zarr.json", meta([4, 2]));
    expect(s.resolve("/a/c/3/0")).toMatchObject({ kind: "array", index: [3], key: "/c/0" });
    await s.delete("/a/zarr.json");
    // Without metadata, a key is routed by its shape alone: still an index store, never stale.
    expect(s.resolve("/a/c/9/0")).toMatchObject({ kind: "array", index: [9] });
    await s.set("/a/zarr.json", meta([2, 2]));
    expect(s.resolve("/a/c/9/0").kind).toBe("base");
  });

  it("a chunk reaches its own index store across resizes that renumber the grid (property)", async () => {
    // Index stores are found by their row-major position in the grid's sharded dims; a resize changes
    // those positions ([1, 1] is 5 in a 3×4 grid, 4 in a 4×3 one), so nothing found before may stay.
    const grid = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }));
    await fc.assert(
      fc.asyncProperty(fc.array(grid, { minLength: 1, maxLength: 4 }), fc.nat(), async (shapes, seed) => {
        const made = new Map<string, MemoryStore>();
        const s = new ShardedStore(new MemoryStore(), {
          arrayShards: {
            a: {
              dims: 2,
              factory: (i: readonly number[]) => {
                const m = new MemoryStore();
                made.set(i.join(","), m);
                return m;
              },
            },
          },
        });
        for (const [rows, cols] of shapes) {
          await s.set("/a/zarr.json", meta([rows, cols], [1, 1]));
          // Every chunk twice (the second time from what was found the first), in a seeded order.
          const keys: [number, number][] = [];
          for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) keys.push([i, j]);
          for (let pass = 0; pass < 2; pass++)
            for (let n = 0; n < keys.length; n++) {
              const [i, j] = keys[(n * 7 + seed + pass) % keys.length]!;
              const r = s.resolve(`/a/c/${i}/${j}`);
              expect(r).toMatchObject({ kind: "array", index: [i, j], key: "/c" });
              expect(r.store).toBe(made.get(`${i},${j}`));
            }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("still rejects invalid keys on every call", () => {
    const s = new ShardedStore(new MemoryStore());
    for (let i = 0; i < 3; i++) expect(() => s.resolve("/a/../b")).toThrow(/'\.\.' segments/);
  });

  it("returns the same route for a remembered key as for a fresh one", () => {
    const g = new MemoryStore();
    const s = new ShardedStore(new MemoryStore(), { shards: { g } });
    const first = s.resolve("/g/x/zarr.json");
    const again = s.resolve(`/g/x/${"zarr.json"}`);
    expect(again).toEqual(first);
    expect(again.store).toBe(g);
  });
});

describe("the route memo", () => {
  const route = (key: string): Resolution => ({
    store: new MemoryStore(),
    key: key as AbsolutePath,
    mount: "",
    kind: "base",
  });

  it("remembers a route only from a key's second sight, at once when nothing came between, and holds at most its limit (property)", () => {
    const hashes = Array.from({ length: 13 }, (_, k) => checkedKeyHash(`/k${k}`, "test"));
    expect(new Set(hashes).size).toBe(13); // distinct keys, distinct marks
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 8 }),
        (ks, limit) => {
          const memo = new RouteMemo(limit);
          const sights = new Map<number, number>();
          let previous = -1;
          for (const k of ks) {
            const key = `/k${k}`;
            const r = route(key);
            expect(memo.offer(key, hashes[k]!, r)).toBe(r);
            const n = (sights.get(k) ?? 0) + 1;
            sights.set(k, n);
            // A first sight is only marked; a second one right after remembers the route just offered.
            if (n === 1) expect(memo.get(key)).toBeUndefined();
            if (previous === k) expect(memo.get(key)).toBe(r);
            expect(memo.size).toBeLessThanOrEqual(limit);
            previous = k;
          }
        },
      ),
    );
  });

  it("forgets every route when cleared", () => {
    const memo = new RouteMemo();
    const r = route("/a");
    const h = checkedKeyHash("/a", "test");
    memo.offer("/a", h, r);
    expect(memo.get("/a")).toBeUndefined();
    memo.offer("/a", h, r);
    expect(memo.get("/a")).toBe(r);
    memo.clear();
    expect(memo.get("/a")).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it("remembers a whole working set read again and again: keys sharing a slot do not evict each other for ever", () => {
    const memo = new RouteMemo();
    const keys = Array.from({ length: 4096 }, (_, i) => `/g${i % 97}/arr${i % 7}/c/${i}/${i % 13}`);
    for (let pass = 0; pass < 4; pass++)
      for (const k of keys) if (memo.get(k) === undefined) memo.offer(k, checkedKeyHash(k, "test"), route(k));
    expect(memo.size).toBe(4096);
  });

  it("still remembers a new working set after a one-pass scan of far more keys than it marks", () => {
    // A full read of a big array marks every slot; a working set read afterwards must still be
    // admitted (a full bucket gives up one of its marks), not be refused for ever.
    const memo = new RouteMemo();
    for (let i = 0; i < 200_000; i++) {
      const k = `/big/c/${i}/0`;
      memo.offer(k, checkedKeyHash(k, "test"), route(k));
    }
    const keys = Array.from({ length: 2000 }, (_, i) => `/hot/c/${i}/${i % 7}`);
    for (let pass = 0; pass < 6; pass++)
      for (const k of keys) if (memo.get(k) === undefined) memo.offer(k, checkedKeyHash(k, "test"), route(k));
    const remembered = keys.filter((k) => memo.get(k) !== undefined).length;
    expect(remembered).toBeGreaterThan(1800);
  });

  it("remembers a key seen twice with others between, unless another key took its mark", () => {
    const memo = new RouteMemo();
    const keys = Array.from({ length: 1000 }, (_, i) => `/a/c/${i}`);
    for (const k of keys) memo.offer(k, checkedKeyHash(k, "test"), route(k));
    expect(memo.size).toBe(0);
    for (const k of keys) memo.offer(k, checkedKeyHash(k, "test"), route(k));
    // 1,000 marks in 32,768 slots: nearly all survive.
    expect(memo.size).toBeGreaterThan(950);
    expect(memo.size).toBeLessThanOrEqual(1000);
    for (const k of keys) if (memo.get(k) !== undefined) expect(memo.get(k)!.key).toBe(k);
  });
});
