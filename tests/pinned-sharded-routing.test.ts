// Two routing guarantees of ShardedStore that our own stores would otherwise hide: a store rebuilt
// over existing data routes its very first write by the array's stored metadata, and a bad key never
// reaches a custom inner store (one that does not check keys itself).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { InvalidKeyError } from "../src/errors.js";
import { assertValidKey } from "../src/keys.js";
import { MemoryStore } from "../src/memory-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath, RangeQuery, Store } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";

const bytes = (s: string) => new TextEncoder().encode(s);

/** A store that checks nothing and records every call it receives. */
class RecordingStore implements Store {
  readonly calls: string[] = [];
  readonly data = new Map<string, Uint8Array>();
  get(key: AbsolutePath) {
    this.calls.push(`get ${key}`);
    return this.data.get(key);
  }
  getRange(key: AbsolutePath, range: RangeQuery) {
    this.calls.push(`getRange ${key} ${JSON.stringify(range)}`);
    return this.data.get(key);
  }
  set(key: AbsolutePath, value: Uint8Array) {
    this.calls.push(`set ${key}`);
    this.data.set(key, value);
  }
  delete(key: AbsolutePath) {
    this.calls.push(`delete ${key}`);
    return this.data.delete(key);
  }
  async *list(prefix?: AbsolutePath) {
    this.calls.push(`list ${prefix}`);
    for (const k of this.data.keys())
      if (prefix === undefined || k.startsWith(prefix)) yield k as AbsolutePath;
  }
}

describe("a ShardedStore rebuilt over existing data", () => {
  async function existing(format: 2 | 3) {
    const base = new MemoryStore();
    const index = new Map<string, MemoryStore>();
    const factory = ([i]: readonly number[]) => {
      const s = index.get(String(i)) ?? new MemoryStore();
      index.set(String(i), s);
      return s;
    };
    const first = new ShardedStore(base, { arrayShards: { arr: { dims: 1, factory } } });
    if (format === 3) {
      const arr = await zarr.create(zarr.root(first as zarr.Mutable).resolve("arr"), {
        shape: [3, 4],
        chunkShape: [1, 2],
        dtype: "int32",
      });
      await zarr.set(arr, null, { data: new Int32Array(12).fill(5), shape: [3, 4], stride: [4, 1] } as never);
    } else {
      const meta = { zarr_format: 2, shape: [3, 4], chunks: [1, 2], dtype: "<i4", compressor: null };
      await first.set(
        "/arr/.zarray",
        bytes(JSON.stringify({ ...meta, fill_value: 0, filters: null, order: "C" })),
      );
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 2; j++) await first.set(`/arr/${i}.${j}` as AbsolutePath, bytes("ch"));
    }
    return { base, index, factory };
  }

  for (const format of [2, 3] as const) {
    const k = (i: number, j: number) =>
      (format === 3 ? `/arr/c/${i}/${j}` : `/arr/${i}.${j}`) as AbsolutePath;
    const inner = format === 3 ? "/c/1" : "/1";
    it(`sends an out-of-grid first write to the base store, not to a new index store (v${format})`, async () => {
      const { base, index, factory } = await existing(format);
      expect([...index.keys()].sort()).toEqual(["0", "1", "2"]);
      const calls: number[][] = [];
      const rebuilt = new ShardedStore(base, {
        arrayShards: {
          arr: {
            dims: 1,
            factory: (idx) => {
              calls.push([...idx]);
              return factory(idx);
            },
          },
        },
      });
      // Row 5 and column chunk 2 are outside the [3, 2] chunk grid: not chunks of the array.
      await rebuilt.set(k(5, 0), bytes("row five"));
      expect(calls).toEqual([]);
      expect(await base.get(k(5, 0))).toEqual(bytes("row five"));
      await rebuilt.set(k(1, 2), bytes("column two"));
      expect(calls).toEqual([]);
      expect(await base.get(k(1, 2))).toEqual(bytes("column two"));
      expect([...index.keys()].sort()).toEqual(["0", "1", "2"]);
      // A chunk inside the grid goes to its index store.
      await rebuilt.set(k(1, 1), bytes("chunk"));
      expect(calls).toEqual([[1]]);
      expect(await index.get("1")!.get(inner as AbsolutePath)).toEqual(bytes("chunk"));
    });

    it(`reads an out-of-grid key from the base store as its first read (v${format})`, async () => {
      const { base, factory } = await existing(format);
      await base.set(k(7, 0), bytes("stray"));
      const calls: number[][] = [];
      const rebuilt = new ShardedStore(base, {
        arrayShards: {
          arr: {
            dims: 1,
            factory: (idx) => {
              calls.push([...idx]);
              return factory(idx);
            },
          },
        },
      });
      expect(await rebuilt.get(k(7, 0))).toEqual(bytes("stray"));
      expect(calls).toEqual([]);
    });
  }
});

describe("bad keys never reach a custom inner store", () => {
  function build() {
    const group = new RecordingStore();
    const base = new RecordingStore();
    const index: RecordingStore[] = [];
    const sharded = new ShardedStore(base, {
      shards: { a: group },
      arrayShards: {
        arr: {
          dims: 1,
          factory: () => {
            const s = new RecordingStore();
            index.push(s);
            return s;
          },
        },
      },
    });
    const seen = () => [...base.calls, ...group.calls, ...index.flatMap((s) => s.calls)];
    return { sharded, seen, base, group };
  }

  async function everyOp(sharded: ShardedStore, key: string): Promise<unknown[]> {
    const k = key as AbsolutePath;
    const ops: (() => unknown)[] = [
      () => sharded.get(k),
      () => sharded.getRange(k, { offset: 0, length: 1 }),
      () => sharded.set(k, bytes("x")),
      () => sharded.delete(k),
      () => sharded.resolve(k),
    ];
    const out: unknown[] = [];
    for (const op of ops) {
      try {
        await op();
        out.push(undefined);
      } catch (e) {
        out.push(e);
      }
    }
    return out;
  }

  it("'/a/../b', '/a/./b', '/a//b' and friends are refused before any store is called", async () => {
    const { sharded, seen } = build();
    for (const key of [
      "/a/../b",
      "/a/./b",
      "/a//b",
      "/a/b/",
      "/a/b\\c",
      "/a/b\0",
      "/a/..",
      "/arr/../a/x",
      "/arr/c/../c/0",
      "/arr/./zarr.json",
      "/arr/../arr/zarr.json",
      "a/b",
    ]) {
      const errors = await everyOp(sharded, key);
      for (const e of errors) expect(e, key).toBeInstanceOf(InvalidKeyError);
      expect(seen(), key).toEqual([]);
    }
  });

  it("any key the key check refuses is refused by every operation, with no store call (property)", async () => {
    const seg = fc.constantFrom("a", "b", "arr", "c", "0", "1", "zarr.json", ".", "..", "", "a\\b", "\0");
    await fc.assert(
      fc.asyncProperty(fc.array(seg, { minLength: 1, maxLength: 5 }), async (segs) => {
        const key = `/${segs.join("/")}`;
        let valid = true;
        try {
          assertValidKey(key, "t");
        } catch {
          valid = false;
        }
        fc.pre(!valid);
        const { sharded, seen } = build();
        for (const e of await everyOp(sharded, key)) expect(e, key).toBeInstanceOf(InvalidKeyError);
        expect(seen(), key).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("a good key reaches the custom store with its inner key", async () => {
    const { sharded, group, base } = build();
    await sharded.set("/a/b/c", bytes("v"));
    expect(group.calls).toEqual(["set /b/c"]);
    expect(await sharded.get("/a/b/c")).toEqual(bytes("v"));
    await sharded.set("/x..y/z", bytes("w"));
    expect(base.calls).toContain("set /x..y/z");
    expect(await listAll(sharded, "/a")).toEqual(["/a/b/c"]);
  });
});

describe("without the config and transform support (this file imports src/sharded-store.js alone)", () => {
  it("toConfig, fromConfig and mapShards say what to import instead of failing obscurely", async () => {
    const s = new ShardedStore(new MemoryStore());
    expect(() => s.toConfig()).toThrow(
      /ShardedStore\.toConfig needs the config support: import ShardedStore from "shardedstore" or "shardedstore\/node"/,
    );
    expect(() => ShardedStore.fromConfig({})).toThrow(/ShardedStore\.fromConfig needs the config support/);
    // A rejected promise, never a synchronous throw (callers chain .catch on it).
    let sync: unknown;
    let p: Promise<unknown> | undefined;
    try {
      p = s.mapShards((x) => x);
    } catch (e) {
      sync = e;
    }
    expect(sync).toBeUndefined();
    await expect(p).rejects.toThrow(/ShardedStore\.mapShards needs the shard transforms/);
  });
});
