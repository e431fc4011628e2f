// ShardedStore's public behaviour at the edges of listing and reading, checked against stores that
// do less than ours (no list, no getRange): a listing inside a group shard never needs the base, a
// listing that does says which store cannot list, and a range a store cannot serve names the store
// and the key.
import { describe, expect, it } from "vitest";
import { InvalidKeyError, isShardedStoreError } from "../src/errors.js";
import { MemoryStore, ShardedStore } from "../src/index.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";
import { v3Array } from "./helpers/metadata.js";

const bytes = (s: string) => new TextEncoder().encode(s);

/** A store with get only, described as `name`. */
function getOnly(name: string, entries: Record<string, string> = {}): Store {
  const data = new Map(Object.entries(entries).map(([k, v]) => [k, bytes(v)]));
  const store: Store = { get: (k: AbsolutePath) => data.get(k) };
  return Object.assign(store, { toString: () => name });
}

describe("listing", () => {
  async function build() {
    const group = new MemoryStore();
    for (const k of ["/sub/a", "/sub/b", "/other"]) await group.set(k as AbsolutePath, bytes(k));
    const s = new ShardedStore(getOnly("GetOnlyBase", { "/gx/k": "base" }), { shards: { g: group } });
    return s;
  }

  it("inside a group shard, keys come from the shard alone, with the mount path; the base is never asked", async () => {
    const s = await build();
    expect(await listAll(s, "/g/sub")).toEqual(["/g/sub/a", "/g/sub/b"]);
    expect(await listAll(s, "/g/sub/")).toEqual(["/g/sub/a", "/g/sub/b"]);
    expect(await listAll(s, "/g/nothing")).toEqual([]);
  });

  it("a listing that reaches the base of a store that cannot list: a StoreError naming the base", async () => {
    const s = await build();
    for (const prefix of ["/", "/gx"] as const) {
      const err = await listAll(s, prefix).catch((e: unknown) => e);
      expect(isShardedStoreError(err, "StoreError")).toBe(true);
      expect((err as Error).message).toMatch(/base store .*cannot list/);
    }
  });

  it("a mount's keys appear under its own path only, never under a sibling that shares its first letters", async () => {
    const base = new MemoryStore();
    await base.set("/gx/k", bytes("base"));
    await base.set("/g/hidden", bytes("hidden by the mount"));
    const group = new MemoryStore();
    await group.set("/k", bytes("group"));
    const s = new ShardedStore(base, { shards: { g: group } });
    expect(await listAll(s, "/g")).toEqual(["/g/k"]);
    expect(await listAll(s, "/gx")).toEqual(["/gx/k"]);
    expect(await listAll(s, "/")).toEqual(["/g/k", "/gx/k"]);
  });
});

describe("ranges from a store without getRange", () => {
  it("cut from the whole value; a range it cannot serve names the store and the key", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      shards: { ro: getOnly("ReadOnlyShard", { "/x": "abc" }) },
    });
    expect(await s.getRange("/ro/x", { offset: 1, length: 5 })).toEqual(bytes("bc"));
    expect(await s.getRange("/ro/x", { suffixLength: 2 })).toEqual(bytes("bc"));
    expect(await s.getRange("/ro/missing", { offset: 0, length: 1 })).toBeUndefined();
    const err = await s.getRange("/ro/x", { offset: 1, length: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidKeyError);
    expect((err as Error).message).toContain("ReadOnlyShard /x");
  });
});

describe("listing under an array mount and shardKeys()", () => {
  it("a base key under an array that is no chunk is listed under the array's prefix too", async () => {
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", v3Array([2, 2], [1, 2]));
    await base.set("/arr/c/9/0", bytes("stray: out of the grid"));
    const s = new ShardedStore(base, { arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } } });
    await s.set("/arr/c/1/0", bytes("chunk"));
    expect(await listAll(s, "/arr/c")).toEqual(["/arr/c/1/0", "/arr/c/9/0"]);
  });

  it("gives each store with its own keys: a group shard that cannot list has none; index stores resolved", async () => {
    const index = new MemoryStore();
    const s = new ShardedStore(new MemoryStore(), {
      shards: { ro: getOnly("ReadOnlyShard", { "/x": "abc" }), g: new MemoryStore() },
      arrayShards: { arr: { dims: 1, factory: async ([i]) => (i === 1 ? index : new MemoryStore()) } },
    });
    await s.set("/g/k", bytes("v"));
    await s.set("/arr/zarr.json", v3Array([2, 2], [1, 2]));
    await s.set("/arr/c/1/0", bytes("chunk"));
    const got: Array<[string, string, Store, string[]]> = [];
    for await (const e of s.shardKeys()) got.push([e.kind, e.mount, e.store, [...e.keys].sort()]);
    expect(got.map(([k, m, , keys]) => [k, m, keys])).toEqual([
      ["base", "", ["/arr/zarr.json"]],
      ["group", "ro", []],
      ["group", "g", ["/k"]],
      ["array", "arr", ["/c/0", "/zarr.json"]],
    ]);
    expect(got[3]![2]).toBe(index);
  });
});
