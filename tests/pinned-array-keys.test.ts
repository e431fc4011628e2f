// Listing the chunks of a sharded array through ShardedStore.list: every logical chunk key once, in
// index-store order, never an index store's own metadata or a file that does not route back, a few
// index stores at a time, and a failing index store's error surfacing where its keys would be.
import { describe, expect, it } from "vitest";
import { ArrayShardError, isShardedStoreError } from "../src/errors.js";
import { MemoryStore, ShardedStore } from "../src/index.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { v3Array as v3 } from "./helpers/metadata.js";

const bytes = (s: string) => new TextEncoder().encode(s);

async function collect(it: AsyncIterable<string>, stopAfter = Number.POSITIVE_INFINITY): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) {
    out.push(k);
    if (out.length >= stopAfter) break;
  }
  return out;
}

/** An index store whose listing is held until `release`, recording how many lists run at once. */
class SlowList extends MemoryStore {
  static active = 0;
  static most = 0;
  constructor(readonly delayMs: number) {
    super();
  }
  override async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    SlowList.active++;
    SlowList.most = Math.max(SlowList.most, SlowList.active);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      yield* super.list(prefix);
    } finally {
      SlowList.active--;
    }
  }
}

describe("listing a sharded array's chunks", () => {
  it("lists the chunks of every index store in index order, never their own metadata", async () => {
    const index = new Map<number, MemoryStore>();
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: {
        arr: {
          dims: 1,
          // The factory lists its index stores in reverse: the listing still comes in index order.
          factory: Object.assign(
            ([i]: readonly number[]) => {
              const st = index.get(i!) ?? new MemoryStore();
              index.set(i!, st);
              return st;
            },
            {
              listIndices: async function* () {
                for (const i of [...index.keys()].sort((a, b) => b - a)) yield [i];
              },
            },
          ),
        },
      },
    });
    await s.set("/arr/zarr.json", v3([12, 4], [1, 2]));
    for (const i of [11, 2, 10, 0])
      for (const j of [1, 0]) await s.set(`/arr/c/${i}/${j}`, bytes(`${i}.${j}`));
    await s.set("/arr/.zattrs", bytes("{}")); // a v3 array's stray .zattrs goes to the base
    // Each index store holds its standalone metadata too; none of it is a logical key.
    expect(await collect(index.get(2)!.list("/"))).toContain("/zarr.json");
    for (const st of index.values()) {
      await st.set("/.zattrs", bytes("{}"));
      await st.set("/.zgroup", bytes("{}"));
      await st.set("/.zarray", bytes("{}"));
    }
    const listed = await collect(s.list("/arr/c"));
    // Index order (0, 2, 10, 11), each index store's keys as it lists them.
    expect(listed.map((k) => k.split("/")[3])).toEqual(["0", "0", "2", "2", "10", "10", "11", "11"]);
    expect([...listed].sort()).toEqual(
      [0, 2, 10, 11].flatMap((i) => [`/arr/c/${i}/0`, `/arr/c/${i}/1`]).sort(),
    );
    const all = await collect(s.list());
    expect(all.filter((k) => /\/(zarr\.json|\.zattrs|\.zgroup|\.zarray)$/.test(k)).sort()).toEqual([
      "/arr/.zattrs",
      "/arr/zarr.json",
    ]);
    for (const k of listed)
      expect(await s.get(k as AbsolutePath)).toEqual(bytes(k.slice(7).replace("/", ".")));
  });

  it("lists only keys under the prefix, and only those that route back to where they were found", async () => {
    const stores = [new MemoryStore(), new MemoryStore()];
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: {
        arr: {
          dims: 1,
          factory: ([i]) => stores[i!]!,
          stores: [0, 1].map((i) => ({ index: [i], store: stores[i]! })),
        },
      },
    });
    await s.set("/arr/zarr.json", v3([2, 4], [1, 2]));
    for (const i of [0, 1]) for (const j of [0, 1]) await s.set(`/arr/c/${i}/${j}`, bytes("v"));
    // Files in an index store that are not chunks of it: out of the grid, a foreign name, a v2 key.
    await stores[1]!.set("/c/7", bytes("out of the grid"));
    await stores[1]!.set("/notes.txt", bytes("foreign"));
    await stores[1]!.set("/0.0", bytes("v2 spelling"));
    await stores[1]!.set("/c/0/0", bytes("one index too many"));
    expect(await collect(s.list("/arr/c/1"))).toEqual(["/arr/c/1/0", "/arr/c/1/1"]);
    expect(await collect(s.list("/arr/c/0/"))).toEqual(["/arr/c/0/0", "/arr/c/0/1"]);
    expect(await collect(s.list("/arr/c/2"))).toEqual([]);
    expect((await collect(s.list("/arr"))).sort()).toEqual([
      "/arr/c/0/0",
      "/arr/c/0/1",
      "/arr/c/1/0",
      "/arr/c/1/1",
      "/arr/zarr.json",
    ]);
  });

  it("lists nothing of an array whose metadata is absent, and reads the metadata first when it exists", async () => {
    const base = new MemoryStore();
    const made: number[][] = [];
    const store = new MemoryStore();
    await store.set("/c/0", bytes("chunk"));
    const spec = {
      dims: 1,
      factory: (i: readonly number[]) => {
        made.push([...i]);
        return store;
      },
      stores: [{ index: [3], store }],
    };
    expect(await collect(new ShardedStore(base, { arrayShards: { arr: spec } }).list("/arr"))).toEqual([]);
    await base.set("/arr/zarr.json", v3([4, 2], [1, 2]));
    // A fresh composition over the same base: its first call is the listing.
    expect(await collect(new ShardedStore(base, { arrayShards: { arr: spec } }).list("/arr/c"))).toEqual([
      "/arr/c/3/0",
    ]);
    expect(made).toEqual([]);
  });

  it("lists a few index stores at a time, and still in index order when later ones finish first", async () => {
    SlowList.active = 0;
    SlowList.most = 0;
    const n = 24;
    const stores = Array.from({ length: n }, (_, i) => new SlowList((n - i) * 3));
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: {
        arr: {
          dims: 1,
          factory: ([i]) => stores[i!]!,
          stores: stores.map((store, i) => ({ index: [i], store })),
        },
      },
    });
    await s.set("/arr/zarr.json", v3([n, 2], [1, 2]));
    for (let i = 0; i < n; i++) await s.set(`/arr/c/${i}/0`, bytes(String(i)));
    const listed = await collect(s.list("/arr/c"));
    expect(listed).toEqual(Array.from({ length: n }, (_, i) => `/arr/c/${i}/0`));
    // Several at once (not one by one), and never all of them: a bounded number of open listings.
    expect(SlowList.most).toBeGreaterThan(1);
    expect(SlowList.most).toBeLessThanOrEqual(16);
    expect(SlowList.most).toBeLessThan(n);
    expect(SlowList.active).toBe(0);
  });

  it("refuses to list an array whose index stores cannot be found, rather than list some of them", async () => {
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", v3([10, 2], [1, 2]));
    // A factory that cannot list, nothing given, and a grid of 10 index tuples over a probe limit of 3.
    const s = new ShardedStore(base, {
      arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } },
      probeLimit: 3,
    });
    const err = await collect(s.list("/arr")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArrayShardError);
    expect((err as Error).message).toMatch(/cannot find its index stores.*10 index tuples.*probe limit of 3/);
  });

  it("asks each index store for its keys with the prefix '/' (a valid key prefix for any store)", async () => {
    const asked: Array<string | undefined> = [];
    class Recording extends MemoryStore {
      override list(prefix?: AbsolutePath) {
        asked.push(prefix);
        return super.list(prefix);
      }
    }
    const index = new Recording();
    await index.set("/c/0", bytes("v"));
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", v3([2, 2], [1, 2]));
    const s = new ShardedStore(base, {
      arrayShards: { arr: { dims: 1, factory: () => index, stores: [{ index: [1], store: index }] } },
    });
    expect(await collect(s.list("/arr/c"))).toEqual(["/arr/c/1/0"]);
    expect(asked).toEqual(["/"]);
  });

  it("an index store that cannot list: an ArrayShardError naming the array and the index store", async () => {
    const readOnly: Store = { get: () => undefined };
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", v3([2, 3, 2], [1, 1, 2]));
    const s = new ShardedStore(base, {
      arrayShards: {
        arr: { dims: 2, factory: () => readOnly, stores: [{ index: [1, 2], store: readOnly }] },
      },
    });
    const err = await collect(s.list("/arr")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArrayShardError);
    expect((err as Error).message).toMatch(/array shard "arr".*index store \[1, 2\].*cannot list its keys/);
  });

  it("a failing index store fails the listing; keys before the error are a prefix in index order", async () => {
    const good = new SlowList(30);
    await good.set("/c/0", bytes("x"));
    const failing: Store = {
      get: () => undefined,
      // biome-ignore lint/correctness/useYield: fails before its first key
      async *list(): AsyncIterable<AbsolutePath> {
        throw new Error("listing broke");
      },
    };
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", v3([2, 2], [1, 2]));
    const s = new ShardedStore(base, {
      arrayShards: {
        arr: {
          dims: 1,
          factory: ([i]) => (i === 0 ? good : failing),
          stores: [
            { index: [0], store: good },
            { index: [1], store: failing },
          ],
        },
      },
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const k of s.list("/arr/c")) seen.push(k);
    })().catch((e: unknown) => e);
    // Keys come out in batches: whatever came before the error is a prefix of the index order
    // (never a later store's keys ahead of an earlier one's), and the error is not swallowed.
    expect(["/arr/c/0/0"].slice(0, seen.length)).toEqual(seen);
    expect(isShardedStoreError(err) || err instanceof Error).toBe(true);
    expect((err as Error).message).toMatch(/listing broke/);
    // A consumer that stops early leaves no failure unhandled (vitest reports unhandled rejections).
    // (Keys come in batches, so the first key may come with the failing store's error: either is fine,
    // an unhandled rejection is not.)
    const early = await collect(s.list("/arr/c"), 1).catch((e: unknown) => e);
    if (Array.isArray(early)) expect(early).toEqual(["/arr/c/0/0"]);
    else expect((early as Error).message).toMatch(/listing broke/);
    await new Promise((r) => setTimeout(r, 50));
  });
});
