// One pass over every store keeps none of them (issue 11, item 5): `shardsOnDemand()` opens an index
// store only while it is used, `saveShardedStore` describes index stores while it writes the file
// (never the whole config, never a store kept), and `convert` leaves its source holding nothing.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertComposition } from "../src/cli/convert.js";
import { DeferredMembers } from "../src/config/deferred-json.js";
import { writeJson } from "../src/config/json-writer.js";
import { watchedMembers } from "../src/config/python-compat.js";
import { LazyIndexEntry } from "../src/lazy-index-entry.js";
import {
  ArrayShardError,
  arrayShardDirectoryStore,
  DirectoryStore,
  MemoryStore,
  openShardedStore,
  pythonCompatibilityWarnings,
  ShardedStore,
  type Store,
  saveShardedStore,
} from "../src/node.js";
import type { AbsolutePath } from "../src/types.js";
import { v2Array } from "./helpers/metadata.js";

const enc = new TextEncoder();
let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "one-pass-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Each value, or any object in it, possibly turned into DeferredMembers (same members, same order). */
function deferSome(v: unknown, pick: () => boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => deferSome(x, pick));
  if (typeof v !== "object" || v === null) return v;
  const entries = Object.entries(v).map(([k, x]) => [k, deferSome(x, pick)] as const);
  if (!pick()) return Object.fromEntries(entries);
  return new DeferredMembers(() => entries);
}

describe("writeJson", () => {
  it("writes exactly JSON.stringify(value, null, 1), deferred members or not, in pieces of any size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue(),
        fc.infiniteStream(fc.boolean()),
        fc.integer({ min: 1, max: 300 }),
        async (value, bits, pieceSize) => {
          const it = bits[Symbol.iterator]();
          const deferred = deferSome(value, () => it.next().value as boolean);
          const pieces: string[] = [];
          await writeJson(deferred, async (t) => void pieces.push(t), pieceSize);
          const expected = JSON.stringify(value, null, 1);
          expect(pieces.join("")).toBe(expected);
          // Pieces close to the size asked (the last may be shorter; one member may overshoot).
          expect(pieces.slice(0, -1).every((p) => p.length >= pieceSize)).toBe(true);
          // Through toJSON, JSON.stringify reads deferred members the same way.
          expect(JSON.stringify(deferred, null, 1)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("leaves out what JSON.stringify leaves out, and writes null for it in arrays", async () => {
    const v = {
      a: undefined,
      b: () => 1,
      c: [undefined, () => 1, 2],
      d: new DeferredMembers(() => [
        ["x", undefined],
        ["y", 1],
      ]),
    };
    let text = "";
    await writeJson(v, async (t) => {
      text += t;
    });
    expect(text).toBe(JSON.stringify(v, null, 1));
    expect(JSON.parse(text)).toEqual({ c: [null, null, 2], d: { y: 1 } });
  });

  it("writes what toJSON gives and leaves out symbols, as JSON.stringify does", async () => {
    const v = {
      a: { toJSON: () => 5 },
      b: Symbol("b"),
      c: [Symbol("c"), { toJSON: () => ({ d: [1] }) }],
      e: new DeferredMembers(() => [
        ["f", Symbol("f")],
        ["g", { toJSON: () => "g" }],
      ]),
    };
    let text = "";
    await writeJson(v, async (t) => {
      text += t;
    });
    expect(text).toBe(JSON.stringify(v, null, 1));
    expect(JSON.parse(text)).toEqual({ a: 5, c: [null, { d: [1] }], e: { g: "g" } });
  });

  it("never makes a nested deferred member whole (it is written member by member)", async () => {
    class Unwhole extends DeferredMembers {
      override toJSON(): Record<string, unknown> {
        throw new Error("made whole");
      }
    }
    const inner = new Unwhole(() => [["x", 1]]);
    const v = new Unwhole(() => [
      ["inner", inner],
      ["list", [inner]],
    ]);
    let text = "";
    await writeJson({ v }, async (t) => {
      text += t;
    });
    expect(JSON.parse(text)).toEqual({ v: { inner: { x: 1 }, list: [{ x: 1 }] } });
  });

  it("stops at the first failed write and reports it", async () => {
    const big = new DeferredMembers(function* () {
      for (let i = 0; i < 1000; i++) yield [String(i), { i }];
    });
    let calls = 0;
    await expect(
      writeJson(
        { big },
        async () => {
          calls++;
          if (calls === 2) throw new Error("disk full");
        },
        64,
      ),
    ).rejects.toThrow("disk full");
    expect(calls).toBe(2);
  });
});

/** A store that counts how often it was closed. */
class CountingStore extends MemoryStore {
  closed = 0;
  override async close(): Promise<void> {
    this.closed++;
  }
}

/** A composition over memory stores: array "a" (2 dims) whose factory makes counting stores. */
async function memoryComposition(indices: [number, number][]) {
  const made: CountingStore[] = [];
  const base = new MemoryStore();
  await base.set("/.zgroup" as AbsolutePath, enc.encode('{"zarr_format":2}'));
  await base.set("/a/.zarray" as AbsolutePath, v2Array([40, 40], [1, 1]));
  const factory = (_index: readonly number[]) => {
    const s = new CountingStore();
    made.push(s);
    return s as Store;
  };
  const stores = indices.map((index) => new LazyIndexEntry(index, () => factory(index)));
  const sharded = new ShardedStore(base, { arrayShards: { a: { dims: 2, factory, stores } } });
  return { sharded, made, stores };
}

const tuples = fc.uniqueArray(fc.tuple(fc.nat(39), fc.nat(39)), {
  selector: (t) => t.join(","),
  maxLength: 30,
});

describe("ShardedStore.shardsOnDemand", () => {
  it("finds what shards() finds, opens each index store only while it is used, and closes what it opened", async () => {
    await fc.assert(
      fc.asyncProperty(tuples, fc.nat(30), async (indices, openedBefore) => {
        const { sharded, made, stores } = await memoryComposition(indices as [number, number][]);
        // Some index stores are open already (routing opened them): those are the composition's.
        const before = stores.slice(0, openedBefore).map((e) => e.store as CountingStore);
        const visits = [...(await sharded.shardsOnDemand())];
        expect(made.length).toBe(before.length);
        const seen: Store[] = [];
        for (const v of visits) await v.use(async (s) => void seen.push(s));
        const entries = await sharded.shards();
        expect(visits.map((v) => [v.kind, v.mount, v.index])).toEqual(
          entries.map((e) => [e.kind, e.mount, e.index]),
        );
        for (const [i, v] of visits.entries()) {
          if (v.kind !== "array") expect(seen[i]).toBe(entries[i]!.store);
        }
        // The ones opened before were used as they are and left open; every other was closed once.
        for (const s of before) expect([seen.includes(s), s.closed]).toEqual([true, 0]);
        const borrowed = made.slice(before.length, before.length + indices.length - before.length);
        for (const s of borrowed) expect(s.closed).toBe(1);
      }),
      { numRuns: 60 },
    );
  });

  it("keeps no index store: a pass leaves every entry unopened", async () => {
    const { sharded, stores } = await memoryComposition([
      [0, 0],
      [3, 1],
      [2, 7],
    ]);
    for (const v of await sharded.shardsOnDemand())
      await v.use(async (s) => s.get("/.zarray" as AbsolutePath));
    expect(stores.map((e) => e.opened)).toEqual([false, false, false]);
    expect(sharded.arrayMounts.get("a")!.stores.size).toBe(3);
  });

  it("closes a borrowed store when the work on it fails, and reports the work's failure", async () => {
    const { sharded, made } = await memoryComposition([[1, 1]]);
    const visit = [...(await sharded.shardsOnDemand())].find((v) => v.kind === "array")!;
    await expect(visit.use(async () => Promise.reject(new Error("copy failed")))).rejects.toThrow(
      "copy failed",
    );
    expect(made[0]!.closed).toBe(1);
  });

  it("awaits an asynchronous factory, and names the array when a factory fails", async () => {
    // Index stores come from the factory's listing; it makes them asynchronously.
    const factory = Object.assign(
      (index: readonly number[]) => {
        if (index[0] === 9) throw new Error("no such shard");
        return Promise.resolve(new MemoryStore() as Store);
      },
      {
        async *listIndices() {
          yield [1, 2];
          yield [9, 9];
        },
      },
    );
    const base = new MemoryStore();
    await base.set("/a/.zarray" as AbsolutePath, v2Array([40, 40], [1, 1]));
    const listed = new ShardedStore(base, { arrayShards: { a: { dims: 2, factory } } });
    const visits = [...(await listed.shardsOnDemand())].filter((v) => v.kind === "array");
    expect(visits.map((v) => v.index)).toEqual([
      [1, 2],
      [9, 9],
    ]);
    expect(await visits[0]!.use(async (s) => s instanceof MemoryStore)).toBe(true);
    const err = await visits[1]!.use(async () => 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArrayShardError);
    expect(String((err as Error).message)).toMatch(/"a".*factory failed for index \[9, 9\]/);
    expect(listed.arrayMounts.get("a")!.stores.size).toBe(0);
  });
});

describe("ShardVisits", () => {
  /** A composition whose array has `given` index stores and a factory listing `listed`. */
  async function listedComposition(given: number[][], listed: number[][], grid: [number, number]) {
    const base = new MemoryStore();
    await base.set("/a/.zarray" as AbsolutePath, v2Array(grid, [1, 1]));
    const factory = Object.assign((_index: readonly number[]) => new MemoryStore() as Store, {
      async *listIndices() {
        yield* listed;
      },
    });
    const stores = given.map((index) => new LazyIndexEntry(index, () => new MemoryStore()));
    return new ShardedStore(base, { arrayShards: { a: { dims: 2, factory, stores } } });
  }

  const big = 2 ** 40;
  const tuple = fc.tuple(fc.oneof(fc.nat(12), fc.constant(big + 3)), fc.nat(12));

  it("lists the given and listed index stores in index order, once each, inside the grid, recording nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(tuple, { selector: (t) => t.join(","), maxLength: 20 }),
        fc.array(tuple, { maxLength: 40 }),
        async (given, listed) => {
          const grid: [number, number] = [big + 4, 10];
          const sharded = await listedComposition(given, listed, grid);
          const m = sharded.arrayMounts.get("a")!;
          const knownBefore = m.known.size;
          const visits = await sharded.shardsOnDemand();
          expect(m.known.size).toBe(knownBefore);
          const inGrid = (t: number[]) => t[0]! < grid[0] && t[1]! < grid[1];
          const expected = [
            ...new Map([...given, ...listed.filter(inGrid)].map((t) => [t.join(","), t])).values(),
          ].sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
          const got = [...visits].filter((v) => v.kind === "array").map((v) => v.index);
          expect(got).toEqual(expected);
          expect(visits.length).toBe(expected.length + 1);
          // The same as shards() finds, which records them.
          expect((await sharded.shards()).slice(1).map((e) => e.index)).toEqual(expected);
          expect(m.known.size).toBe(expected.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("records what it finds when asked to (for a config that lists them)", async () => {
    const sharded = await listedComposition(
      [[0, 1]],
      [
        [2, 3],
        [0, 1],
        [1, 0],
      ],
      [5, 5],
    );
    await sharded.shardsOnDemand({ record: true });
    expect([...sharded.arrayMounts.get("a")!.known.keys()].sort()).toEqual(["0,1", "1,0", "2,3"]);
  });

  it("refuses a visit outside the list", async () => {
    const visits = await (await listedComposition([[1, 1]], [], [5, 5])).shardsOnDemand();
    expect(visits.at(1).index).toEqual([1, 1]);
    for (const i of [-1, 2, 0.5, Number.NaN]) expect(() => visits.at(i)).toThrow(RangeError);
  });
});

/** A directory composition of `n` index stores of one chunk each, saved expanded. */
async function dirComposition(dir: string, indices: [number, number][]): Promise<string> {
  await mkdir(path.join(dir, "base.zarr/a"), { recursive: true });
  await writeFile(path.join(dir, "base.zarr/.zgroup"), '{"zarr_format":2}');
  await writeFile(path.join(dir, "base.zarr/a/.zarray"), v2Array([20, 20, 4], [1, 1, 4], "."));
  for (const [i, j] of indices) {
    const s = path.join(dir, `a/${i}/${j}.zarr`);
    await mkdir(s, { recursive: true });
    await writeFile(path.join(s, ".zarray"), v2Array([4], [4], "."));
    await writeFile(path.join(s, "0"), Uint8Array.of(i, j, 1, 2));
  }
  const store = new ShardedStore(new DirectoryStore(path.join(dir, "base.zarr")), {
    arrayShards: { a: { dims: 2, factory: arrayShardDirectoryStore(path.join(dir, "a")) } },
  });
  const config = path.join(dir, "composition.json");
  await saveShardedStore(store, config, { form: "expanded" });
  await store.close();
  return config;
}

/** The index stores a composition has made so far (an entry not opened yet, or packed, is none). */
const madeStores = (s: ShardedStore) =>
  [...s.arrayMounts.values()]
    .flatMap((m) => [...m.stores.values()])
    .filter((e) => !(e instanceof LazyIndexEntry) || e.opened);

describe("saveShardedStore", () => {
  it("describes each index store once: warnings come from the pass that writes the file", async () => {
    const dir = path.join(work, "once");
    const indices: [number, number][] = [
      [0, 1],
      [0, 2],
      [11, 3],
      [4, 4],
    ];
    await dirComposition(dir, indices);
    const inner = arrayShardDirectoryStore(path.join(dir, "a"));
    const made: string[] = [];
    const factory = Object.assign(
      (index: readonly number[]) => {
        made.push(index.join(","));
        return inner(index);
      },
      { factorySpec: inner.factorySpec, listIndices: inner.listIndices },
    );
    const store = new ShardedStore(new DirectoryStore(path.join(dir, "base.zarr")), {
      arrayShards: { a: { dims: 2, factory } },
    });
    const warnings = await saveShardedStore(store, path.join(dir, "once.json"), { form: "expanded" });
    expect(made.sort()).toEqual(indices.map((t) => t.join(",")).sort());
    expect(warnings.filter((w) => w.includes('index "11.3" has an index ≥ 10'))).toHaveLength(1);
    await store.close();
  });

  it("writes what toConfig gives, opens none of a config's index stores, and warns the same", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.nat(19), fc.nat(19)), {
          selector: (t) => t.join(","),
          minLength: 1,
          maxLength: 12,
        }),
        async (indices) => {
          const dir = path.join(work, `save-${run++}`);
          const config = await dirComposition(dir, indices as [number, number][]);
          const opened = await openShardedStore(config);
          const again = path.join(dir, "again.json");
          const warnings = await saveShardedStore(opened, again);
          expect(madeStores(opened)).toEqual([]);
          const known = [...opened.arrayMounts.get("a")!.knownIndices()].map((t) => t.join(","));
          expect(known.sort()).toEqual(indices.map((t) => t.join(",")).sort());
          const whole = opened.toConfig({ relativeTo: dir });
          expect(await readFile(again, "utf8")).toBe(`${JSON.stringify(whole, null, 1)}\n`);
          expect(warnings).toEqual(pythonCompatibilityWarnings(whole));
          await opened.close();
        },
      ),
      { numRuns: 8 },
    );
  });

  it("describes the index stores a factory lists, and finds what the Python original would misread", async () => {
    const dir = path.join(work, "listed");
    await dirComposition(dir, [
      [0, 1],
      [12, 3],
    ]);
    const store = new ShardedStore(new DirectoryStore(path.join(dir, "base.zarr")), {
      arrayShards: { a: { dims: 2, factory: arrayShardDirectoryStore(path.join(dir, "a")) } },
    });
    const warnings = await saveShardedStore(store, path.join(dir, "listed.json"), { form: "expanded" });
    const saved = JSON.parse(await readFile(path.join(dir, "listed.json"), "utf8"));
    expect(Object.keys(saved.config.kwargs.array_shards.a)).toEqual(["0.1", "12.3"]);
    // The Python original's misreading of "12.3" is still found while the members are made.
    expect(warnings.some((w) => w.includes('index "12.3" has an index ≥ 10'))).toBe(true);
    await store.close();
  });
});

describe("watchedMembers", () => {
  const dirConfig = (p: string) => ({
    name: "DirectoryStore",
    module: "zarr.storage",
    config: { args: [p], kwargs: {} },
  });
  // A store only shardedstore knows (a warning of its own), and a nested composition whose own
  // index ids may be big.
  const memConfig = { name: "MemoryStore", module: "shardedstore", config: { args: [], kwargs: {} } };
  const nested = (ids: string[]) => ({
    name: "ShardedStore",
    module: "shardedstore",
    config: {
      args: [dirConfig("b")],
      kwargs: { array_shards: { x: Object.fromEntries(ids.map((id) => [id, dirConfig(id)])) } },
    },
  });
  const id = fc.tuple(fc.nat(14), fc.nat(14)).map(([i, j]) => `${i}.${j}`);
  const member = fc.oneof(
    id.map((k) => [k, dirConfig(`a/${k}`)] as const),
    id.map((k) => [k, memConfig] as const),
    fc.tuple(id, fc.array(id, { maxLength: 3 })).map(([k, ids]) => [k, nested(ids)] as const),
  );
  const composition = (arrays: Record<string, unknown>) => ({
    name: "ShardedStore",
    module: "shardedstore",
    config: { args: [dirConfig("base")], kwargs: { array_shards: arrays } },
  });

  it("gives, after one written pass, the warnings of the whole config without making a member again", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(member, { maxLength: 12, selector: (m) => m[0] }), {
          minLength: 1,
          maxLength: 3,
        }),
        async (arrays) => {
          let passes = 0;
          const watched: Record<string, unknown> = {};
          const whole: Record<string, unknown> = {};
          arrays.forEach((members, i) => {
            watched[`m${i}`] = watchedMembers(function* () {
              passes++;
              yield* members;
            });
            whole[`m${i}`] = Object.fromEntries(members);
          });
          const config = composition(watched);
          let text = "";
          await writeJson(config, async (t) => {
            text += t;
          });
          expect(passes).toBe(arrays.length);
          expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(composition(whole))));
          expect(pythonCompatibilityWarnings(config)).toEqual(
            pythonCompatibilityWarnings(composition(whole)),
          );
          expect(passes).toBe(arrays.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("walks again only the members that warn", async () => {
    // A member that gives no warning, counting how often its config is read.
    let reads = 0;
    const quiet = { name: "DirectoryStore", module: "zarr.storage" } as Record<string, unknown>;
    Object.defineProperty(quiet, "config", {
      enumerable: true,
      get: () => {
        reads++;
        return { args: ["a/0.1"], kwargs: {} };
      },
    });
    const watched = watchedMembers(function* () {
      yield ["0.1", quiet] as const;
      yield ["12.3", memConfig] as const;
    });
    const config = composition({ a: watched });
    await writeJson(config, async () => {});
    const afterWrite = reads;
    const warnings = pythonCompatibilityWarnings(config);
    expect(reads).toBe(afterWrite);
    expect(warnings).toEqual([
      'config.kwargs.array_shards.a: index "12.3" has an index ≥ 10; the Python original infers the number of sharded dimensions from the length of index keys, so it misreads this array (its chunks at such indices read as fill values or go to the wrong store)',
      'config.kwargs.array_shards.a."12.3": store type shardedstore.MemoryStore exists only in shardedstore (JS); the Python original cannot open it',
    ]);
  });

  it("makes the members when none was ever written", () => {
    const members = [["3.12", memConfig] as const, ["0.1", dirConfig("a")] as const];
    const watched = watchedMembers(() => members);
    const expected = pythonCompatibilityWarnings(composition({ a: Object.fromEntries(members) }));
    expect(expected.length).toBe(2);
    expect(pythonCompatibilityWarnings(composition({ a: watched }))).toEqual(expected);
  });

  it("makes the members again when no pass finished", () => {
    const members = [["3.12", memConfig] as const, ["0.1", dirConfig("a")] as const];
    let passes = 0;
    const watched = watchedMembers(function* () {
      passes++;
      yield* members;
    });
    // A pass abandoned after its first member notes nothing.
    for (const _ of watched.members()) break;
    const config = composition({ a: watched });
    const expected = pythonCompatibilityWarnings(composition({ a: Object.fromEntries(members) }));
    expect(expected.length).toBe(2);
    expect(pythonCompatibilityWarnings(config)).toEqual(expected);
    expect(passes).toBe(2);
  });
});

describe("convert", () => {
  it("leaves its source holding no index store and the result none open", async () => {
    const dir = path.join(work, "convert");
    const indices: [number, number][] = [
      [0, 0],
      [0, 1],
      [5, 5],
      [11, 2],
    ];
    const config = await dirComposition(dir, indices);
    const source = await openShardedStore(config);
    const r = await convertComposition(source, "zip", path.join(dir, "out"), { progress: false });
    expect(r.stores).toBe(indices.length + 1);
    expect(madeStores(source)).toEqual([]);
    // The new composition holds no store per index store: they were described while the config was written.
    expect(r.result.arrayMounts.get("a")!.stores.size).toBe(0);
    // Its zips open read-only, as mapShards returns them: a converted index store is not written to.
    await expect(r.result.set("/a/0.0.0" as AbsolutePath, Uint8Array.of(9, 9, 9, 9))).rejects.toThrow(
      /read-only|not writable|mode/i,
    );
    // The converted composition reads the same chunks.
    const reopened = await openShardedStore(r.config);
    for (const [i, j] of indices)
      expect([...((await reopened.get(`/a/${i}.${j}.0` as AbsolutePath)) ?? [])]).toEqual([i, j, 1, 2]);
    await Promise.all([source.close(), r.result.close(), reopened.close()]);
  });
});
