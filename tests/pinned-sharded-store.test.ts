// ShardedStore's promises to its callers beyond routing itself: failures arrive as rejected promises
// (never synchronous throws), ranges are served from stores without getRange, metadata deletes reach
// the index stores, closing closes each store once and reports a failure only after all are closed,
// and a composition describes itself.
import { describe, expect, it } from "vitest";
import { InvalidKeyError, isShardedStoreError, MountError } from "../src/errors.js";
import { MemoryStore, ShardedStore } from "../src/index.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";
import { v3Array as v3 } from "./helpers/metadata.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Calls `op` without awaiting it, so a synchronous throw is told apart from a rejection. */
async function outcome(op: () => Promise<unknown>): Promise<{ sync: boolean; error: unknown }> {
  let p: Promise<unknown>;
  try {
    p = op();
  } catch (e) {
    return { sync: true, error: e };
  }
  return p.then(
    () => ({ sync: false, error: null }),
    (e: unknown) => ({ sync: false, error: e }),
  );
}

describe("failures are rejected promises", () => {
  it("an invalid key: every operation returns a rejected promise with an InvalidKeyError", async () => {
    const s = new ShardedStore(new MemoryStore(), {
      shards: { g: new MemoryStore() },
      arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } },
    });
    for (const key of ["/a/../b", "/g/./x", "/arr/c//0", "no-slash"]) {
      for (const op of [
        () => s.get(key as AbsolutePath),
        () => s.getRange(key as AbsolutePath, { offset: 0, length: 1 }),
        () => s.set(key as AbsolutePath, bytes("v")),
        () => s.delete(key as AbsolutePath),
      ]) {
        const { sync, error } = await outcome(op);
        expect(sync, key).toBe(false);
        expect(error, key).toBeInstanceOf(InvalidKeyError);
        expect((error as Error).message, key).toMatch(/^ShardedStore/);
      }
      expect(() => s.resolve(key as AbsolutePath)).toThrow(/^ShardedStore/);
    }
  });

  it("a key under an array mount that is no chunk routes to the base store as itself", () => {
    const base = new MemoryStore();
    const s = new ShardedStore(base, { arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } } });
    for (const k of ["/arr/notes.txt", "/arr/c/x/0"] as AbsolutePath[])
      expect(s.resolve(k)).toEqual({ store: base, key: k, mount: "", kind: "base" });
  });

  it("a group cannot be created at an array shard's path; nothing is written", async () => {
    const base = new MemoryStore();
    const s = new ShardedStore(base, { arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } } });
    const { sync, error } = await outcome(() => s.set("/arr/.zgroup", bytes('{"zarr_format":2}')));
    expect(sync).toBe(false);
    expect((error as Error).message).toMatch(/array shard "arr".*a group cannot be created there/);
    expect(await listAll(base)).toEqual([]);
  });

  it("rewriting array metadata reaches the index stores even after the document's route was remembered", async () => {
    const index = new MemoryStore();
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: { arr: { dims: 1, factory: () => index } },
    });
    await s.set("/arr/zarr.json", v3([2, 2], [1, 2]));
    await s.set("/arr/c/1/0", bytes("v"));
    // Read the document a few times (its base route is remembered), then resize the array.
    for (let i = 0; i < 3; i++) await s.get("/arr/zarr.json");
    await s.set("/arr/zarr.json", v3([2, 8], [1, 2]));
    expect(JSON.parse(text(await index.get("/zarr.json"))!).shape).toEqual([8]);
  });

  it("a remembered key is checked no less: a valid key stays valid, repeated reads agree", async () => {
    const g = new MemoryStore();
    const s = new ShardedStore(new MemoryStore(), { shards: { g } });
    await g.set("/k", bytes("v"));
    for (let i = 0; i < 4; i++) expect(text(await s.get("/g/k"))).toBe("v");
    const { sync, error } = await outcome(() => s.get("/g/../k" as AbsolutePath));
    expect([sync, error instanceof InvalidKeyError]).toEqual([false, true]);
  });

  it("unreadable array metadata: a rejected promise naming the array, for reads and writes of its chunks", async () => {
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", bytes("{ not json"));
    const s = new ShardedStore(base, { arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } } });
    for (const op of [() => s.get("/arr/c/0/0"), () => s.set("/arr/c/0/0", bytes("v"))]) {
      const { sync, error } = await outcome(op);
      expect(sync).toBe(false);
      expect(isShardedStoreError(error)).toBe(true);
      expect((error as Error).message).toMatch(/"arr"/);
    }
  });
});

describe("construction", () => {
  it("refuses a base or a shard that is not a store, naming which", () => {
    for (const bad of [null, undefined, 42, "store", {}, { get: "no" }]) {
      expect(() => new ShardedStore(bad as unknown as Store), String(bad)).toThrow(MountError);
      expect(() => new ShardedStore(bad as unknown as Store)).toThrow(
        /base store must be an object with a get\(\) method/,
      );
      expect(
        () => new ShardedStore(new MemoryStore(), { shards: { "x/y": bad as unknown as Store } }),
      ).toThrow(/shard "x\/y" must be a store/);
    }
  });

  it("describes itself and its mounts", () => {
    const g = new MemoryStore();
    const s = new ShardedStore(new MemoryStore(), {
      shards: { "/g/h/": g, k: new MemoryStore() },
      arrayShards: { "a/": { dims: 1, factory: () => new MemoryStore() } },
    });
    expect(String(s)).toBe("ShardedStore(MemoryStore, 2 group shards, 1 array shards)");
    expect([...s.shardMounts.keys()].sort()).toEqual(["g/h", "k"]);
    expect(s.shardMounts.get("g/h")).toBe(g);
    expect([...s.arrayMounts.keys()]).toEqual(["a"]);
    expect(s.arrayMounts.get("a")!.dims).toBe(1);
  });
});

describe("ranges from stores without getRange", () => {
  it("cuts the range from the whole value, and a missing key is undefined", async () => {
    const data = new Map([["/k", bytes("0123456789")]]);
    const s = new ShardedStore({ get: (k: AbsolutePath) => data.get(k) });
    expect(text(await s.getRange("/k", { offset: 2, length: 3 }))).toBe("234");
    expect(text(await s.getRange("/k", { suffixLength: 4 }))).toBe("6789");
    expect(await s.getRange("/missing", { offset: 0, length: 1 })).toBeUndefined();
    expect(await s.getRange("/k", { offset: 20, length: 1 })).toEqual(new Uint8Array(0));
    const { sync, error } = await outcome(() => s.getRange("/k", { offset: -1, length: 1 }));
    expect(sync).toBe(false);
    expect(isShardedStoreError(error)).toBe(true);
    expect((error as Error).message).toMatch(/bad range offset=-1/);
    expect((error as Error).message).toMatch(/Object \/k/); // names the store and the key
  });

  it("uses a store's own getRange when it has one", async () => {
    const asked: string[] = [];
    const inner: Store = {
      get: () => bytes("whole"),
      getRange: (k, r) => {
        asked.push(`${k} ${JSON.stringify(r)}`);
        return bytes("part");
      },
    };
    const s = new ShardedStore(new MemoryStore(), { shards: { g: inner } });
    expect(text(await s.getRange("/g/x", { offset: 1, length: 2 }))).toBe("part");
    expect(asked).toEqual(['/x {"offset":1,"length":2}']);
  });
});

describe("deleting an array's metadata", () => {
  for (const [name, sub] of [
    ["zarr.json", "/zarr.json"],
    [".zarray", "/.zarray"],
  ] as const) {
    it(`deleting ${name} deletes it in every index store too; deleting attributes does not`, async () => {
      const stores = new Map<number, MemoryStore>();
      const factory = ([i]: readonly number[]) => {
        const m = stores.get(i!) ?? new MemoryStore();
        stores.set(i!, m);
        return m;
      };
      const s = new ShardedStore(new MemoryStore(), { arrayShards: { arr: { dims: 1, factory } } });
      const meta =
        name === "zarr.json"
          ? v3([2, 2], [1, 2])
          : bytes(
              JSON.stringify({
                zarr_format: 2,
                shape: [2, 2],
                chunks: [1, 2],
                dtype: "|u1",
                compressor: null,
                fill_value: 0,
                filters: null,
                order: "C",
              }),
            );
      await s.set(`/arr/${name}` as AbsolutePath, meta);
      await s.set((name === "zarr.json" ? "/arr/c/1/0" : "/arr/1.0") as AbsolutePath, bytes("v"));
      await s.set("/arr/.zattrs", bytes("{}"));
      expect(await stores.get(1)!.get(sub)).toBeDefined();
      await s.delete("/arr/.zattrs");
      expect(await stores.get(1)!.get(sub)).toBeDefined();
      await s.delete(`/arr/${name}` as AbsolutePath);
      expect(await stores.get(1)!.get(sub)).toBeUndefined();
      expect(await s.get(`/arr/${name}` as AbsolutePath)).toBeUndefined();
    });
  }
});

describe("closing", () => {
  it("closes each store once, even one mounted twice, and reports the first failure after closing all", async () => {
    const closed: string[] = [];
    const mk = (name: string, fail = false): Store =>
      ({
        get: () => undefined,
        close: async () => {
          closed.push(name);
          if (fail) throw new Error(`${name} failed to close`);
        },
        toString: () => name,
      }) as Store;
    const shared = mk("shared");
    const index = mk("index", true);
    const s = new ShardedStore(mk("base"), {
      shards: { a: shared, b: shared, c: mk("c", true) },
      arrayShards: { arr: { dims: 1, factory: () => index, stores: [{ index: [0], store: index }] } },
    });
    const err = await s.close().catch((e: unknown) => e);
    expect(closed.sort()).toEqual(["base", "c", "index", "shared"]);
    expect((err as Error).message).toMatch(/^(c|index) failed to close$/);
    // Stores without close are fine.
    await new ShardedStore({ get: () => undefined }, { shards: { x: { get: () => undefined } } }).close();
  });
});

describe("the stores of a composition", () => {
  it("shards() lists the base, each group shard and each index store, with the caller's signal", async () => {
    const base = new MemoryStore();
    const g = new MemoryStore();
    const index = new MemoryStore();
    const signals: Array<AbortSignal | undefined> = [];
    const factory = Object.assign(() => index, {
      listIndices: async function* (signal?: AbortSignal) {
        signals.push(signal);
        yield [1];
      },
    });
    await base.set("/arr/zarr.json", v3([2, 2], [1, 2]));
    const s = new ShardedStore(base, { shards: { g }, arrayShards: { arr: { dims: 1, factory } } });
    const signal = new AbortController().signal;
    expect(await s.shards({ signal })).toEqual([
      { kind: "base", mount: "", store: base },
      { kind: "group", mount: "g", store: g },
      { kind: "array", mount: "arr", store: index, index: [1] },
    ]);
    expect(signals).toEqual([signal]);
  });

  it("shards() refuses an array whose index stores cannot be found, rather than leave some out", async () => {
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", v3([10, 2], [1, 2]));
    const s = new ShardedStore(base, {
      arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } },
      probeLimit: 3,
    });
    await expect(s.shards()).rejects.toThrow(/cannot find its index stores/);
  });

  it("toConfig, fromConfig and mapShards reach the config and transform support", async () => {
    const s = new ShardedStore(new MemoryStore(), { shards: { g: new MemoryStore() } });
    const config = s.toConfig();
    expect(JSON.stringify(config)).toMatch(/ShardedStore/);
    expect(ShardedStore.fromConfig(config).shardMounts.has("g")).toBe(true);
    const mapped = await s.mapShards((store) => store);
    expect(mapped).toBeInstanceOf(ShardedStore);
    expect(mapped.shardMounts.has("g")).toBe(true);
  });
});

describe("listing", () => {
  it("lists base keys, group shard keys with their mount path, and array chunks, under any prefix", async () => {
    const base = new MemoryStore();
    const g = new MemoryStore();
    const s = new ShardedStore(base, {
      shards: { "grp/inner": g },
      arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } },
    });
    await s.set("/zarr.json", bytes("{}"));
    await s.set("/grp/zarr.json", bytes("{}"));
    await s.set("/grp/inner/zarr.json", bytes("{}"));
    await s.set("/grp/inner/x/0", bytes("v"));
    await s.set("/arr/zarr.json", v3([2, 2], [1, 2]));
    await s.set("/arr/c/1/0", bytes("v"));
    const all = [
      "/arr/c/1/0",
      "/arr/zarr.json",
      "/grp/inner/x/0",
      "/grp/inner/zarr.json",
      "/grp/zarr.json",
      "/zarr.json",
    ];
    expect(await listAll(s)).toEqual(all);
    expect(await listAll(s, "/")).toEqual(all);
    expect(await listAll(s, "/grp")).toEqual(["/grp/inner/x/0", "/grp/inner/zarr.json", "/grp/zarr.json"]);
    expect(await listAll(s, "/grp/inner")).toEqual(["/grp/inner/x/0", "/grp/inner/zarr.json"]);
    expect(await listAll(s, "/grp/inner/")).toEqual(["/grp/inner/x/0", "/grp/inner/zarr.json"]);
    expect(await listAll(s, "/grp/inner/x")).toEqual(["/grp/inner/x/0"]);
    expect(await listAll(s, "/arr")).toEqual(["/arr/c/1/0", "/arr/zarr.json"]);
    expect(await listAll(s, "/arr/c")).toEqual(["/arr/c/1/0"]);
    expect(await listAll(s, "/nothing")).toEqual([]);
  });

  it("a store that cannot list: a StoreError naming it", async () => {
    const s = new ShardedStore(new MemoryStore(), { shards: { g: { get: () => undefined } } });
    const err = await listAll(s).catch((e: unknown) => e);
    expect(isShardedStoreError(err, "StoreError")).toBe(true);
    expect((err as Error).message).toMatch(
      /ShardedStore shard "g" \(Object\): list "\/" failed: the store cannot list its keys/,
    );
    const noBase = new ShardedStore({ get: () => undefined, toString: () => "B" } as Store);
    const e2 = await listAll(noBase).catch((e: unknown) => e);
    expect((e2 as Error).message).toMatch(/ShardedStore base store \(B\): list "\/" failed/);
  });
});
