// The small parts behind an array shard's index stores, seen through ShardedStore: a factory that
// returns a promise (every operation waits for the store), a factory that cannot create index stores
// (missing ones read as empty, a write says why), a v2 array's attributes sliced for its index
// stores, and finding index stores by asking each tuple of the grid.
import { describe, expect, it } from "vitest";
import { ArrayShardError, NotWritableError } from "../src/errors.js";
import { MemoryStore, ShardedStore } from "../src/index.js";
import { PendingStore } from "../src/index-stores.js";
import { gridTuples, sameBytes, sliceAttributes } from "../src/index-tuples.js";
import type { AbsolutePath, ArrayShardFactory, Store } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";
import { v2Array as v2, v3Array as v3 } from "./helpers/metadata.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** A store with only get and set (no getRange, delete, list or close). */
class GetSet implements Store {
  readonly data = new Map<string, Uint8Array>();
  get(k: AbsolutePath) {
    return this.data.get(k);
  }
  set(k: AbsolutePath, v: Uint8Array) {
    this.data.set(k, v);
  }
  toString() {
    return "GetSet";
  }
}

describe("an index store from a factory that returns a promise", () => {
  it("every operation waits for the store: get, getRange, set, delete, list, close", async () => {
    const made = new Map<string, MemoryStore>();
    let closed = 0;
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: {
        arr: {
          dims: 1,
          factory: async ([i]) => {
            await new Promise((r) => setTimeout(r, 5));
            const m = new MemoryStore();
            m.close = async () => {
              closed++;
            };
            made.set(String(i), m);
            return m;
          },
        },
      },
    });
    await s.set("/arr/zarr.json", v3([3, 8], [1, 4]));
    await s.set("/arr/c/1/1", bytes("abcdef"));
    expect(text(await made.get("1")!.get("/c/1"))).toBe("abcdef");
    expect(text(await s.get("/arr/c/1/1"))).toBe("abcdef");
    expect(text(await s.getRange("/arr/c/1/1", { offset: 2, length: 3 }))).toBe("cde");
    expect(text(await s.getRange("/arr/c/1/1", { suffixLength: 2 }))).toBe("ef");
    expect(await listAll(s, "/arr/c")).toEqual(["/arr/c/1/1"]);
    await s.delete("/arr/c/1/1");
    expect(await made.get("1")!.get("/c/1")).toBeUndefined();
    expect(await s.get("/arr/c/1/1")).toBeUndefined();
    await s.close();
    expect(closed).toBe(1);
  });

  it("a pending store over a store without getRange, delete or list: sliced reads, clear refusals, an empty listing", async () => {
    const inner = new GetSet();
    const p = new PendingStore(Promise.resolve(inner));
    await p.set("/k", bytes("0123456789"));
    expect(text(await p.get("/k"))).toBe("0123456789");
    expect(text(await p.getRange("/k", { suffixLength: 3 }))).toBe("789");
    expect(text(await p.getRange("/k", { offset: 1, length: 2 }))).toBe("12");
    expect(await p.getRange("/missing", { offset: 1, length: 1 })).toBeUndefined();
    const del = await p.delete("/k").catch((e: unknown) => e);
    expect(del).toBeInstanceOf(NotWritableError);
    expect((del as Error).message).toBe('GetSet: cannot delete "/k": the store is read-only');
    expect(inner.data.has("/k")).toBe(true);
    expect(await listAll(p)).toEqual([]);
    await p.close(); // nothing to close: resolves
    expect(await p.resolved()).toBe(inner);
    const ro = new PendingStore(Promise.resolve({ get: () => undefined, toString: () => "RO" } as Store));
    const set = await ro.set("/k", bytes("v")).catch((e: unknown) => e);
    expect(set).toBeInstanceOf(NotWritableError);
    expect((set as Error).message).toBe('RO: cannot set "/k": the store is read-only');
  });

  it("a pending store over a full store: delete, list and close reach it", async () => {
    const inner = new MemoryStore();
    let closed = 0;
    inner.close = async () => {
      closed++;
    };
    const p = new PendingStore(Promise.resolve(inner));
    await p.set("/a/1", bytes("1"));
    await p.set("/b", bytes("2"));
    expect(await listAll(p)).toEqual(["/a/1", "/b"]);
    expect(await listAll(p, "/a")).toEqual(["/a/1"]);
    await p.delete("/b");
    expect(await inner.get("/b")).toBeUndefined();
    await p.close();
    expect(closed).toBe(1);
  });

  it("a factory that gives no store (undefined, null, a number, a non-store): an ArrayShardError naming the index", async () => {
    for (const made of [undefined, null, 42, {}]) {
      const s = new ShardedStore(new MemoryStore(), {
        arrayShards: { arr: { dims: 1, factory: () => made as unknown as Store } },
      });
      const err = await s.get("/arr/c/3/0").catch((e: unknown) => e);
      expect(err, String(made)).toBeInstanceOf(ArrayShardError);
      expect((err as Error).message).toMatch(/factory for index \[3\] did not return a store/);
    }
  });

  it("writing a chunk to a read-only index store names the array, the index and the store's class", async () => {
    class ReadOnlyShard implements Store {
      get(): undefined {
        return undefined;
      }
    }
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", v3([8, 2], [1, 2]));
    const s = new ShardedStore(base, {
      arrayShards: { arr: { dims: 1, factory: () => new ReadOnlyShard() } },
    });
    const err = await s.set("/arr/c/3/0", bytes("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotWritableError);
    expect((err as Error).message).toContain('array shard "arr" [3] (ReadOnlyShard)');
    expect((err as Error).message).not.toContain("[object Object]");
  });

  it("a pending store over a store with getRange uses it (the range is not cut from a whole read)", async () => {
    const asked: string[] = [];
    const inner: Store = {
      get: () => {
        asked.push("get");
        return bytes("whole");
      },
      getRange: (_k, r) => {
        asked.push(`getRange ${JSON.stringify(r)}`);
        return bytes("part");
      },
    };
    const p = new PendingStore(Promise.resolve(inner));
    expect(text(await p.getRange("/k", { offset: 1, length: 2 }))).toBe("part");
    expect(asked).toEqual(['getRange {"offset":1,"length":2}']);
  });
});

describe("a factory that cannot create index stores", () => {
  function build() {
    const existing = new MemoryStore();
    const calls: number[][] = [];
    const factory: ArrayShardFactory = Object.assign(
      (i: readonly number[]) => {
        calls.push([...i]);
        return existing;
      },
      { cannotCreate: 'kind "zip+ftp" is not registered' },
    );
    const base = new MemoryStore();
    const s = new ShardedStore(base, {
      arrayShards: { arr: { dims: 1, factory, stores: [{ index: [0], store: existing }] } },
    });
    return { s, base, existing, calls };
  }

  it("reads a missing index store as empty and lists nothing of it; the existing one still works", async () => {
    const { s, base, existing, calls } = build();
    await base.set("/arr/zarr.json", v3([3, 2], [1, 2]));
    await existing.set("/zarr.json", v3([2], [2]));
    await existing.set("/c/0", bytes("row 0"));
    expect(text(await s.get("/arr/c/0/0"))).toBe("row 0");
    expect(await s.get("/arr/c/2/0")).toBeUndefined();
    expect(await s.getRange("/arr/c/2/0", { offset: 0, length: 1 })).toBeUndefined();
    expect(await listAll(s, "/arr/c")).toEqual(["/arr/c/0/0"]);
    expect(String(s.resolve("/arr/c/2/0").store)).toBe("missing index store");
    expect(calls).toEqual([]);
  });

  it("a write to a missing index store is an ArrayShardError with the reason; nothing is written anywhere", async () => {
    const { s, base, existing } = build();
    await base.set("/arr/zarr.json", v3([3, 2], [1, 2]));
    const err = await s.set("/arr/c/2/0", bytes("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArrayShardError);
    expect((err as Error).message).toMatch(
      /array shard "arr".*cannot create index store \[2\]: kind "zip\+ftp" is not registered/,
    );
    expect(await listAll(base)).toEqual(["/arr/zarr.json"]);
    expect(await listAll(existing)).toEqual([]);
    // Deleting a key of a missing index store is a no-op, not a failure.
    await s.delete("/arr/c/2/0");
  });
});

describe("a v2 array's attributes in its index stores", () => {
  it("slices _ARRAY_DIMENSIONS by the sharded dims and keeps every other attribute", async () => {
    const stores = new Map<number, MemoryStore>();
    const s = new ShardedStore(new MemoryStore(), {
      arrayShards: {
        arr: {
          dims: 2,
          factory: ([i, j]) => {
            const k = i! * 10 + j!;
            const m = stores.get(k) ?? new MemoryStore();
            stores.set(k, m);
            return m;
          },
        },
      },
    });
    await s.set("/arr/.zarray", v2([2, 2, 6], [1, 1, 3]));
    const attrs = { _ARRAY_DIMENSIONS: ["t", "z", "x"], units: "m", nested: { a: [1, 2] } };
    await s.set("/arr/.zattrs", bytes(JSON.stringify(attrs)));
    await s.set("/arr/1.0.1", bytes("chunk"));
    const sub = text(await stores.get(10)!.get("/.zattrs"))!;
    expect(JSON.parse(sub)).toEqual({ _ARRAY_DIMENSIONS: ["x"], units: "m", nested: { a: [1, 2] } });
    // Written as zarr-python writes attributes: 4-space indented JSON.
    expect(sub).toBe(JSON.stringify({ ...attrs, _ARRAY_DIMENSIONS: ["x"] }, null, 4));
    // The array's own attributes in the base stay whole.
    expect(JSON.parse(text(await s.get("/arr/.zattrs"))!)).toEqual(attrs);
  });

  it("keeps attributes without _ARRAY_DIMENSIONS (or with a non-list one) as they are", () => {
    expect(JSON.parse(text(sliceAttributes("a", bytes('{"units":"m"}'), 1))!)).toEqual({ units: "m" });
    expect(JSON.parse(text(sliceAttributes("a", bytes('{"_ARRAY_DIMENSIONS":"x"}'), 1))!)).toEqual({
      _ARRAY_DIMENSIONS: "x",
    });
    expect(JSON.parse(text(sliceAttributes("a", bytes('{"_ARRAY_DIMENSIONS":["t","y","x"]}'), 2))!)).toEqual({
      _ARRAY_DIMENSIONS: ["x"],
    });
  });

  it("refuses .zattrs that is not a JSON object, naming the array, with the parser's error as cause", async () => {
    for (const bad of ["[1, 2]", "null", '"text"', "7"]) {
      const err = (() => {
        try {
          sliceAttributes("sim/arr", bytes(bad), 1);
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(ArrayShardError);
      expect((err as Error).message).toMatch(/array shard "sim\/arr".*\.zattrs must be a JSON object/);
    }
    const err = (() => {
      try {
        sliceAttributes("sim/arr", bytes("{not json"), 1);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ArrayShardError);
    expect((err as Error).message).toMatch(/\.zattrs is not valid JSON/);
    expect((err as Error).cause).toBeInstanceOf(SyntaxError);
    // Through the composition: the write is refused and the base keeps what it had.
    const base = new MemoryStore();
    const s = new ShardedStore(base, { arrayShards: { arr: { dims: 1, factory: () => new MemoryStore() } } });
    await s.set("/arr/.zarray", v2([2, 2], [1, 2]));
    await expect(s.set("/arr/.zattrs", bytes("[1]"))).rejects.toThrow(ArrayShardError);
    expect(await base.get("/arr/.zattrs")).toBeUndefined();
  });
});

describe("walking the grid", () => {
  it("gridTuples gives every tuple of the first dims in C order, none when a dim is empty", () => {
    expect([...gridTuples([2, 3, 7], 2)]).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    expect([...gridTuples([3], 1)]).toEqual([[0], [1], [2]]);
    expect([...gridTuples([1, 1, 1], 3)]).toEqual([[0, 0, 0]]);
    expect([...gridTuples([2, 0, 4], 2)]).toEqual([]);
    expect([...gridTuples([0, 5], 1)]).toEqual([]);
    // A zero-length dimension beyond the sharded ones does not empty the walk.
    expect([...gridTuples([2, 0], 1)]).toEqual([[0], [1]]);
    // Tuples are fresh arrays: keeping one does not see the walk continue.
    const kept = [...gridTuples([2, 2], 2)];
    expect(new Set(kept).size).toBe(4);
  });

  it("finds the index stores that exist by asking each grid tuple, and lists their chunks in index order", async () => {
    const stores = new Map<string, MemoryStore>();
    const factory = ([i, j]: readonly number[]) => {
      const id = `${i},${j}`;
      const m = stores.get(id) ?? new MemoryStore();
      stores.set(id, m);
      return m;
    };
    const base = new MemoryStore();
    const first = new ShardedStore(base, { arrayShards: { arr: { dims: 2, factory } } });
    await first.set("/arr/zarr.json", v3([3, 2, 4], [1, 1, 4]));
    for (const [i, j] of [
      [2, 1],
      [0, 1],
      [1, 0],
    ])
      await first.set(`/arr/c/${i}/${j}/0` as AbsolutePath, bytes(`${i}${j}`));
    const again = new ShardedStore(base, { arrayShards: { arr: { dims: 2, factory } } });
    const found = (await again.shards()).filter((e) => e.kind === "array").map((e) => e.index);
    expect(found).toEqual([
      [0, 1],
      [1, 0],
      [2, 1],
    ]);
    const keys: string[] = [];
    for await (const k of again.list("/arr/c")) keys.push(k);
    expect(keys).toEqual(["/arr/c/0/1/0", "/arr/c/1/0/0", "/arr/c/2/1/0"]);
  });

  it("orders index stores by every index, not the first alone", async () => {
    const listed = [
      [1, 2],
      [0, 5],
      [1, 0],
      [1, 1],
    ];
    const stores = new Map<string, MemoryStore>();
    const factory = Object.assign(
      (i: readonly number[]) => {
        const m = stores.get(i.join()) ?? new MemoryStore();
        stores.set(i.join(), m);
        return m;
      },
      {
        listIndices: async function* () {
          yield* listed;
        },
      },
    );
    const base = new MemoryStore();
    await base.set("/arr/zarr.json", v3([2, 6, 2], [1, 1, 2]));
    const s = new ShardedStore(base, { arrayShards: { arr: { dims: 2, factory } } });
    const found = (await s.shards()).filter((e) => e.kind === "array").map((e) => e.index);
    expect(found).toEqual([
      [0, 5],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
  });

  it("sameBytes compares lengths and every byte", () => {
    expect(sameBytes(bytes("abc"), bytes("abc"))).toBe(true);
    expect(sameBytes(bytes("abc"), bytes("abd"))).toBe(false);
    expect(sameBytes(bytes("abc"), bytes("ab"))).toBe(false);
    expect(sameBytes(bytes("ab"), bytes("abc"))).toBe(false);
    expect(sameBytes(bytes("xbc"), bytes("abc"))).toBe(false);
    expect(sameBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
