import { describe, expect, it } from "vitest";
import { MountError, NotWritableError, StoreError } from "../src/errors.js";
import { MemoryStore } from "../src/memory-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";

const b = (...v: number[]) => new Uint8Array(v);

describe("ShardedStore routing of group shards", () => {
  it("routes by the longest mount path and strips it", () => {
    const base = new MemoryStore();
    const people = new MemoryStore();
    const fine = new MemoryStore();
    const s = new ShardedStore(base, { shards: { people, "simulation/fine": fine } });
    expect(s.resolve("/people/.zarray")).toMatchObject({
      store: people,
      key: "/.zarray",
      mount: "people",
      kind: "group",
    });
    expect(s.resolve("/simulation/fine/foo/c/0/1")).toMatchObject({
      store: fine,
      key: "/foo/c/0/1",
      mount: "simulation/fine",
    });
    expect(s.resolve("/simulation/coarse/foo/zarr.json")).toMatchObject({
      store: base,
      key: "/simulation/coarse/foo/zarr.json",
      mount: "",
    });
    expect(s.resolve("/zarr.json")).toMatchObject({ store: base, key: "/zarr.json", kind: "base" });
  });

  it("does not treat a sibling that starts with the same letters as inside the mount", async () => {
    const base = new MemoryStore();
    const people = new MemoryStore();
    const s = new ShardedStore(base, { shards: { people, a: new MemoryStore() } });
    expect(s.resolve("/people2/x").store).toBe(base);
    expect(s.resolve("/peoplex").store).toBe(base);
    expect(s.resolve("/a2/zarr.json").store).toBe(base);
    await s.set("/people2/x", b(1));
    expect(await base.get("/people2/x")).toEqual(b(1));
    expect(await people.get("/x")).toBeUndefined();
    expect(await listAll(s)).toEqual(["/people2/x"]);
  });

  it("normalises mount paths: 'a/b', '/a/b/' and 'a//b' are the same mount", () => {
    for (const spelling of ["a/b", "/a/b/", "a//b"]) {
      const shard = new MemoryStore();
      const s = new ShardedStore(new MemoryStore(), { shards: { [spelling]: shard } });
      expect(s.resolve("/a/b/k").store).toBe(shard);
      expect([...s.shardMounts.keys()]).toEqual(["a/b"]);
    }
    expect(
      () =>
        new ShardedStore(new MemoryStore(), {
          shards: { "a/b": new MemoryStore(), "/a/b/": new MemoryStore() },
        }),
    ).toThrow(/given twice/);
  });

  it("rejects a mount inside another mount, naming both, in either order", () => {
    const m = () => new MemoryStore();
    expect(() => new ShardedStore(m(), { shards: { a: m(), "a/b": m() } })).toThrow(
      /"a\/b" is inside mount "a"/,
    );
    expect(() => new ShardedStore(m(), { shards: { "a/b/c": m(), a: m() } })).toThrow(
      /"a\/b\/c" is inside mount "a"/,
    );
    expect(
      () =>
        new ShardedStore(m(), {
          shards: { sim: m() },
          arrayShards: { "sim/foo": { dims: 1, factory: () => m() } },
        }),
    ).toThrow(MountError);
    expect(
      () =>
        new ShardedStore(m(), {
          shards: { "sim/foo/x": m() },
          arrayShards: { "sim/foo": { dims: 1, factory: () => m() } },
        }),
    ).toThrow(/inside mount "sim\/foo"/);
  });

  it("rejects bad mount paths and bad shard values", () => {
    const m = () => new MemoryStore();
    expect(() => new ShardedStore(m(), { shards: { "": m() } })).toThrow(/empty/);
    expect(() => new ShardedStore(m(), { shards: { "a/../b": m() } })).toThrow(/invalid segment/);
    expect(() => new ShardedStore(m(), { shards: { a: {} as Store } })).toThrow(/must be a store/);
    expect(() => new ShardedStore({} as Store)).toThrow(/base store/);
    expect(() => new ShardedStore(m(), { arrayShards: { x: { dims: 0, factory: () => m() } } })).toThrow(
      /dims must be a positive integer/,
    );
    expect(() => new ShardedStore(m(), { arrayShards: { x: { dims: 1.5, factory: () => m() } } })).toThrow(
      /dims/,
    );
  });

  it("accepts a shard with only get, and refuses writes to it with a clear error", async () => {
    const data = new Map<string, Uint8Array>([["/x", b(7)]]);
    const ro: Store = { get: (k: AbsolutePath) => data.get(k) };
    const s = new ShardedStore(new MemoryStore(), { shards: { ro } });
    expect(await s.get("/ro/x")).toEqual(b(7));
    expect(await s.get("/ro/y")).toBeUndefined();
    expect(await s.getRange("/ro/x", { offset: 0, length: 1 })).toEqual(b(7));
    await expect(s.set("/ro/x", b(1))).rejects.toThrow(NotWritableError);
    await expect(s.set("/ro/x", b(1))).rejects.toThrow(/shard "ro".*"\/x".*read-only/);
    await expect(s.delete("/ro/x")).rejects.toThrow(/cannot delete/);
    expect(data.get("/x")).toEqual(b(7));
  });

  it("wraps a failing shard's error in StoreError naming the shard and the inner key", async () => {
    const broken: Store = {
      get: async () => {
        throw new Error("disk on fire");
      },
    };
    const s = new ShardedStore(new MemoryStore(), { shards: { "deep/broken": broken } });
    const err = await s.get("/deep/broken/a/b").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/shard "deep\/broken".*"\/a\/b".*disk on fire/);
  });

  it("lists with a prefix that lies inside a shard", async () => {
    const s = new ShardedStore(new MemoryStore(), { shards: { "a/b": new MemoryStore() } });
    for (const k of ["/a/zarr.json", "/a/b/zarr.json", "/a/b/c/zarr.json", "/a/b/c/d", "/a/bc/x"] as const)
      await s.set(k, b(1));
    expect(await listAll(s, "/a/b/c")).toEqual(["/a/b/c/d", "/a/b/c/zarr.json"]);
    expect(await listAll(s, "/a/b")).toEqual(["/a/b/c/d", "/a/b/c/zarr.json", "/a/b/zarr.json"]);
    expect(await listAll(s, "/a")).toEqual([
      "/a/b/c/d",
      "/a/b/c/zarr.json",
      "/a/b/zarr.json",
      "/a/bc/x",
      "/a/zarr.json",
    ]);
  });

  it("never lists a base key that a mount now hides, so every listed key reads back", async () => {
    const base = new MemoryStore();
    await base.set("/people/stale", b(1));
    await base.set("/kept", b(2));
    const s = new ShardedStore(base, { shards: { people: new MemoryStore() } });
    const keys = await listAll(s);
    expect(keys).toEqual(["/kept"]);
    for (const k of keys) expect(await s.get(k as AbsolutePath)).toBeDefined();
  });

  it("routes with 10,000 mounts the same as with one", () => {
    const shards: Record<string, Store> = {};
    for (let i = 0; i < 10_000; i++) shards[`g${i % 100}/s${i}`] = new MemoryStore();
    const s = new ShardedStore(new MemoryStore(), { shards });
    expect(s.resolve("/g42/s9942/x/zarr.json")).toMatchObject({ mount: "g42/s9942", key: "/x/zarr.json" });
    expect(s.resolve("/g42/s42x/zarr.json").mount).toBe("");
    expect(s.resolve("/g42/zarr.json").mount).toBe("");
  });

  it("closes every store it holds", async () => {
    let closed = 0;
    const mk = (): Store => ({ get: () => undefined, close: async () => void closed++ });
    const s = new ShardedStore(mk(), { shards: { a: mk(), b: mk() } });
    await s.close();
    expect(closed).toBe(3);
  });
});
