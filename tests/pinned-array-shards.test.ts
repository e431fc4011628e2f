// What an array shard's spec promises, seen through ShardedStore: which specs are refused (and how
// the error names the array), which index stores count as existing (given, declared, created), how
// the factory is called and what a failing one says, and reading the array's metadata once.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArrayShardError, isShardedStoreError, MountError } from "../src/errors.js";
import { MemoryStore, ShardedStore } from "../src/index.js";
import type { AbsolutePath, ArrayShardFactory, ArrayShardSpec, Store } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";
import { v3Array as v3 } from "./helpers/metadata.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const open = (spec: ArrayShardSpec, base: Store = new MemoryStore()) =>
  new ShardedStore(base, { arrayShards: { "img/arr": spec } });
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
};

/** Anything that is not a positive safe integer. */
const badDims = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ noInteger: true }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "2", null, undefined, [2], true),
);

describe("an array shard's spec", () => {
  it("dims must be a positive integer: anything else is a MountError naming the array and the value", () => {
    fc.assert(
      fc.property(badDims, (dims) => {
        const err = thrown(() =>
          open({ dims, factory: () => new MemoryStore() } as unknown as ArrayShardSpec),
        );
        expect(isShardedStoreError(err, "MountError")).toBe(true);
        expect((err as Error).message).toBe(
          `array shard "img/arr": dims must be a positive integer, got ${JSON.stringify(dims)}`,
        );
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), (dims) => {
        expect(open({ dims, factory: () => new MemoryStore() }).arrayMounts.get("img/arr")?.dims).toBe(dims);
      }),
    );
  });

  it("a factory that is not a function is a MountError naming the array", () => {
    for (const factory of [undefined, null, {}, "directory", new MemoryStore()]) {
      const err = thrown(() => open({ dims: 1, factory } as unknown as ArrayShardSpec));
      expect(err).toBeInstanceOf(MountError);
      expect((err as Error).message).toBe('array shard "img/arr": factory must be a function');
    }
  });

  it("a given index store's index must be dims non-negative integers: else an ArrayShardError naming it", () => {
    const bad = fc.oneof(
      fc.array(fc.nat(), { minLength: 0, maxLength: 4 }).filter((a) => a.length !== 2),
      fc.tuple(fc.integer({ max: -1 }), fc.nat()),
      fc.tuple(fc.nat(), fc.double({ noInteger: true })),
      fc.tuple(fc.nat(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53)),
    );
    fc.assert(
      fc.property(bad, (index) => {
        const spec = {
          dims: 2,
          factory: () => new MemoryStore(),
          stores: [{ index, store: new MemoryStore() }],
        };
        const err = thrown(() => open(spec));
        expect(err).toBeInstanceOf(ArrayShardError);
        expect((err as Error).message).toBe(
          `array shard "img/arr": index ${JSON.stringify(index)} is not 2 non-negative integers`,
        );
      }),
    );
  });

  it("an index box that is not dims indices or [start, stop) ranges is a MountError naming the box", () => {
    for (const box of [[1], [1, 2, 3], [[2, 2], 0], [[3, 1], 0], [-1, 0], [0, 1.5], "0,1", [[0], 1]]) {
      const err = thrown(() => open({ dims: 2, factory: () => new MemoryStore(), indices: [box as never] }));
      expect(err).toBeInstanceOf(MountError);
      expect((err as Error).message).toBe(
        `array shard "img/arr": index box ${JSON.stringify(box)} is not 2 indices or [start, stop) ranges`,
      );
    }
  });
});

describe("which index stores exist", () => {
  /** A factory that can open stores but not create new ones, counting what it was asked for. */
  function cannotCreate(stores: Map<string, MemoryStore>) {
    const asked: string[] = [];
    const factory: ArrayShardFactory = Object.assign(
      (i: readonly number[]) => {
        asked.push(i.join(","));
        const s = stores.get(i.join(",")) ?? new MemoryStore();
        stores.set(i.join(","), s);
        return s;
      },
      { cannotCreate: "read-only archive" },
    );
    return { factory, asked };
  }

  it("declared indices are opened through the factory; undeclared ones are missing, never created", async () => {
    const stores = new Map<string, MemoryStore>();
    const { factory, asked } = cannotCreate(stores);
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([6, 2], [1, 2]));
    const s = open({ dims: 1, factory, indices: [[[1, 3]], [5]] }, base);
    for (const i of [1, 2, 5]) {
      const st = new MemoryStore();
      await st.set("/c/0", bytes(`row ${i}`));
      stores.set(String(i), st);
    }
    for (const i of [1, 2, 5])
      expect(text(await s.get(`/img/arr/c/${i}/0` as AbsolutePath))).toBe(`row ${i}`);
    for (const i of [0, 3, 4]) expect(await s.get(`/img/arr/c/${i}/0` as AbsolutePath)).toBeUndefined();
    expect(asked.sort()).toEqual(["1", "2", "5"]);
    const err = await s.set("/img/arr/c/3/0", bytes("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArrayShardError);
    expect((err as Error).message).toMatch(/cannot create index store \[3\]: read-only archive/);
    expect(await listAll(s, "/img/arr/c")).toEqual(["/img/arr/c/1/0", "/img/arr/c/2/0", "/img/arr/c/5/0"]);
  });

  it("an index store given by the caller is used as it is: no metadata written into it before a chunk", async () => {
    const given = new MemoryStore();
    const made = new Map<string, MemoryStore>();
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([2, 2], [1, 2]));
    const s = open(
      {
        dims: 1,
        factory: ([i]) => {
          const m = new MemoryStore();
          made.set(String(i), m);
          return m;
        },
        stores: [{ index: [0], store: given }],
      },
      base,
    );
    await s.set("/img/arr/c/0/0", bytes("zero"));
    await s.set("/img/arr/c/1/0", bytes("one"));
    expect(await listAll(given)).toEqual(["/c/0"]);
    // A new index store gets the array's standalone metadata with (before) its first chunk.
    expect(await listAll(made.get("1")!)).toEqual(["/c/0", "/zarr.json"]);
    expect(made.has("0")).toBe(false);
  });

  it("given and declared index stores are every one there is: no probing of the grid for others", async () => {
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([4, 2], [1, 2]));
    const asked: string[] = [];
    const other = new MemoryStore();
    await other.set("/zarr.json", v3([2], [2]));
    await other.set("/c/0", bytes("found by probing"));
    const factory = ([i]: readonly number[]) => {
      asked.push(String(i));
      return i === 3 ? other : new MemoryStore();
    };
    const given = new MemoryStore();
    await given.set("/c/0", bytes("given"));
    const s = open({ dims: 1, factory, stores: [{ index: [0], store: given }] }, base);
    expect(await listAll(s, "/img/arr/c")).toEqual(["/img/arr/c/0/0"]);
    expect(asked).toEqual([]);
    // Without stores or indices, the grid is probed and index store 3 is found.
    const probed = open({ dims: 1, factory }, base);
    expect(await listAll(probed, "/img/arr/c")).toEqual(["/img/arr/c/3/0"]);
  });
});

describe("the factory", () => {
  it("a factory that throws: an ArrayShardError naming the array and the index, the error as cause", async () => {
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([4, 3, 2], [1, 1, 2]));
    const boom = new Error("disk on fire");
    const s = open(
      {
        dims: 2,
        factory: () => {
          throw boom;
        },
      },
      base,
    );
    const ops: Array<() => Promise<unknown>> = [
      () => s.get("/img/arr/c/2/1/0"),
      () => s.set("/img/arr/c/2/1/0", bytes("x")),
    ];
    for (const op of ops) {
      const err = await Promise.resolve()
        .then(op)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArrayShardError);
      expect((err as Error).message).toBe('array shard "img/arr": factory failed for index [2, 1]');
      expect((err as Error).cause).toBe(boom);
    }
    expect(await listAll(base)).toEqual(["/img/arr/zarr.json"]);
  });

  it("is called once per index store, however many chunks of it are read or written", async () => {
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([3, 4], [1, 1]));
    const calls: string[] = [];
    const s = open(
      {
        dims: 1,
        factory: ([i]) => {
          calls.push(String(i));
          return new MemoryStore();
        },
      },
      base,
    );
    await Promise.all([0, 1, 2, 3].map((j) => s.set(`/img/arr/c/1/${j}` as AbsolutePath, bytes(`${j}`))));
    for (let j = 0; j < 4; j++) expect(text(await s.get(`/img/arr/c/1/${j}` as AbsolutePath))).toBe(`${j}`);
    await s.get("/img/arr/c/2/0");
    expect(calls).toEqual(["1", "2"]);
  });
});

describe("the array's metadata", () => {
  it("is read from the base once for many concurrent first reads, and again after it is rewritten", async () => {
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([2, 2], [1, 2]));
    let reads = 0;
    const counting: Store = {
      get: (k: AbsolutePath) => {
        if (k === "/img/arr/zarr.json") reads++;
        return base.get(k);
      },
      set: (k: AbsolutePath, v: Uint8Array) => base.set(k, v),
      list: (p?: AbsolutePath) => base.list(p),
    };
    const index = new MemoryStore();
    await index.set("/c/0", bytes("r1"));
    const s = open(
      { dims: 1, factory: () => new MemoryStore(), stores: [{ index: [1], store: index }] },
      counting,
    );
    const got = await Promise.all(Array.from({ length: 8 }, () => s.get("/img/arr/c/1/0")));
    expect(got.map(text)).toEqual(Array(8).fill("r1"));
    expect(reads).toBe(1);
    // Out of the grid of a shape [2, 2] array: row 2 is not a chunk, it is the base's key.
    await base.set("/img/arr/c/2/0", bytes("base"));
    expect(text(await s.get("/img/arr/c/2/0"))).toBe("base");
    // Growing the array through the composition: row 2 becomes a chunk of index store 2.
    await s.set("/img/arr/zarr.json", v3([3, 2], [1, 2]));
    expect(await s.get("/img/arr/c/2/0")).toBeUndefined();
  });
});

describe("shardKeys(): each index store with its own keys", () => {
  it("lists every index store that exists, its own metadata included, and hands the caller's signal on", async () => {
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([3, 2], [1, 2]));
    const made = new Map<string, MemoryStore>();
    const signals: Array<AbortSignal | undefined> = [];
    const factory: ArrayShardFactory = Object.assign(
      ([i]: readonly number[]) => {
        let m = made.get(String(i));
        if (m === undefined) {
          m = new MemoryStore();
          made.set(String(i), m);
        }
        return m;
      },
      {
        listIndices: async function* (signal?: AbortSignal) {
          signals.push(signal);
          for (const id of made.keys()) yield [Number(id)];
        },
      },
    );
    const s = open({ dims: 1, factory }, base);
    await s.set("/img/arr/c/2/0", bytes("two"));
    await s.set("/img/arr/c/0/0", bytes("zero"));
    const signal = new AbortController().signal;
    const got: Array<[string, string, string, string[]]> = [];
    for await (const e of s.shardKeys({ signal }))
      got.push([e.kind, e.mount, String(e.index ?? ""), [...e.keys].sort()]);
    expect(got).toEqual([
      ["base", "", "", ["/img/arr/zarr.json"]],
      ["array", "img/arr", "0", ["/c/0", "/zarr.json"]],
      ["array", "img/arr", "2", ["/c/0", "/zarr.json"]],
    ]);
    expect(signals).toContain(signal);
  });
});

describe("more of the spec's promises", () => {
  it("a missing spec (undefined or null) is a MountError, not a TypeError", () => {
    for (const spec of [undefined, null]) {
      const err = thrown(() => open(spec as unknown as ArrayShardSpec));
      expect(err).toBeInstanceOf(MountError);
      expect((err as Error).message).toBe(
        'array shard "img/arr": dims must be a positive integer, got undefined',
      );
    }
  });

  it("declared indices alone are every index store there is (no probing); a given one inside them is listed once", async () => {
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([6, 2], [1, 2]));
    const asked: string[] = [];
    const stores = new Map<string, MemoryStore>();
    for (const i of [1, 2, 4]) {
      const st = new MemoryStore();
      await st.set("/zarr.json", v3([2], [2]));
      await st.set("/c/0", bytes(`row ${i}`));
      stores.set(String(i), st);
    }
    const factory = ([i]: readonly number[]) => {
      asked.push(String(i));
      return stores.get(String(i)) ?? new MemoryStore();
    };
    const s = open(
      { dims: 1, factory, indices: [[[1, 3]]], stores: [{ index: [1], store: stores.get("1")! }] },
      base,
    );
    expect(await listAll(s, "/img/arr/c")).toEqual(["/img/arr/c/1/0", "/img/arr/c/2/0"]);
    expect(asked).toEqual(["2"]);
    const shards = (await s.shards()).filter((e) => e.kind === "array");
    expect(shards.map((e) => e.index)).toEqual([[1], [2]]);
    expect(shards[0]!.store).toBe(stores.get("1"));
  });

  it("a declared index set too big to enumerate: listing, shards() and metadata writes refuse, naming the count", async () => {
    const s = open({ dims: 1, factory: () => new MemoryStore(), indices: [[[0, 10_000_001]]] });
    const err = await s.set("/img/arr/zarr.json", v3([20_000_000, 2], [1, 2])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArrayShardError);
    expect((err as Error).message).toBe(
      'array shard "img/arr": its index set declares 10000001 index stores, more than 10000000 can be enumerated',
    );
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([20_000_000, 2], [1, 2]));
    const over = open({ dims: 1, factory: () => new MemoryStore(), indices: [[[0, 10_000_001]]] }, base);
    await expect(over.shards()).rejects.toThrow(/declares 10000001 index stores/);
    await expect(listAll(over, "/img/arr/c")).rejects.toThrow(/declares 10000001 index stores/);
    // Within the bound, a declared set is not enumerated for routing: one read costs one store.
    const within = open({ dims: 1, factory: () => new MemoryStore(), indices: [[[0, 10_000_000]]] }, base);
    expect(await within.get("/img/arr/c/9999999/0")).toBeUndefined();
  });

  it("a metadata read that fails once is not remembered: the next read tries again", async () => {
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([2, 2], [1, 2]));
    let failures = 1;
    const flaky: Store = {
      get: (k: AbsolutePath) => {
        if (k === "/img/arr/zarr.json" && failures-- > 0) throw new Error("connection reset");
        return base.get(k);
      },
    };
    const index = new MemoryStore();
    await index.set("/c/0", bytes("row 1"));
    const s = open({ dims: 1, factory: () => index, stores: [{ index: [1], store: index }] }, flaky);
    await expect(s.get("/img/arr/c/1/0")).rejects.toThrow(/connection reset/);
    expect(text(await s.get("/img/arr/c/1/0"))).toBe("row 1");
  });
});

describe("index stores of an array sharded over two dims", () => {
  it("a given index store [1, 12] serves its chunks as it is; messages name the index as [i, j]", async () => {
    const base = new MemoryStore();
    await base.set("/img/arr/zarr.json", v3([3, 13, 2], [1, 1, 2]));
    const given = new MemoryStore();
    await given.set("/c/0", bytes("given 1,12"));
    const made: string[] = [];
    const factory: ArrayShardFactory = Object.assign(
      (i: readonly number[]) => {
        made.push(i.join(","));
        return new MemoryStore();
      },
      { cannotCreate: "no room" },
    );
    const s = open({ dims: 2, factory, stores: [{ index: [1, 12], store: given }] }, base);
    expect(text(await s.get("/img/arr/c/1/12/0"))).toBe("given 1,12");
    await s.set("/img/arr/c/1/12/0", bytes("new"));
    expect(await listAll(given)).toEqual(["/c/0"]); // no metadata written into a given store
    expect(made).toEqual([]);
    const err = await s.set("/img/arr/c/2/11/0", bytes("x")).catch((e: unknown) => e);
    expect((err as Error).message).toBe('array shard "img/arr": cannot create index store [2, 11]: no room');
    const bad = open({ dims: 2, factory: () => 42 as unknown as Store }, base);
    const err2 = await bad.get("/img/arr/c/2/11/0").catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ArrayShardError);
    expect((err2 as Error).message).toBe(
      'array shard "img/arr": factory for index [2, 11] did not return a store',
    );
  });
});

describe("a resize through a composition rebuilt over existing data", () => {
  it("reaches every existing index store, found by asking each index of the grid", async () => {
    const base = new MemoryStore();
    const stores = new Map<string, MemoryStore>();
    const factory = ([i]: readonly number[]) => {
      const st = stores.get(String(i)) ?? new MemoryStore();
      stores.set(String(i), st);
      return st;
    };
    const first = open({ dims: 1, factory }, base);
    await first.set("/img/arr/zarr.json", v3([3, 2], [1, 2]));
    await first.set("/img/arr/c/0/0", bytes("row 0"));
    await first.set("/img/arr/c/2/0", bytes("row 2"));
    const shape = async (i: string) =>
      JSON.parse(text(await stores.get(i)!.get("/zarr.json"))!).shape as number[];
    expect([await shape("0"), await shape("2")]).toEqual([[2], [2]]);
    // Rebuilt: nothing says which index stores exist; the factory cannot list them.
    const rebuilt = open({ dims: 1, factory }, base);
    expect(text(await rebuilt.get("/img/arr/c/2/0"))).toBe("row 2");
    await rebuilt.set("/img/arr/zarr.json", v3([3, 6], [1, 2]));
    expect([await shape("0"), await shape("2")]).toEqual([[6], [6]]);
    expect(stores.has("1")).toBe(true); // asked, and left without metadata
    expect(await stores.get("1")!.get("/zarr.json")).toBeUndefined();
  });
});
