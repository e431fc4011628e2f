import { describe, expect, it } from "vitest";
import { MemoryStore } from "../src/memory-store.js";
import { ShardedStore } from "../src/sharded-store.js";

const meta = (shape: number[]) =>
  new TextEncoder().encode(
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape,
      data_type: "uint8",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [1, 2] } },
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
