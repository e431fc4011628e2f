// A ZipStore over a zip that is one value of another store ({ store, key }): the source is checked
// and named when the ZipStore is made, and its reads (zip-read.ts storeReader) load with the first
// read. Every way the store can tell the archive's size (size, tail, neither) reads the same
// entries as the same zip given as bytes.
import fc from "fast-check";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { MemoryStore, StoreError, ZipStore } from "../src/index.js";
import type { RangeStore } from "../src/store-byte-source.js";
import type { AbsolutePath } from "../src/types.js";

const KEY = "/a.zip" as AbsolutePath;

/** A MemoryStore holding `zip` at KEY, seen through only the methods named (getRange always). */
async function holding(zip: Uint8Array, methods: readonly ("size" | "tail")[]) {
  const mem = new MemoryStore();
  await mem.set(KEY, zip);
  const calls = { size: 0, tail: 0, getRange: 0 };
  const store: RangeStore = {
    getRange: (key, range, opts) => {
      calls.getRange++;
      return mem.getRange(key, range, opts);
    },
    toString: () => "Held",
  };
  if (methods.includes("size"))
    store.size = async (key) => {
      calls.size++;
      return (await mem.get(key))?.length;
    };
  if (methods.includes("tail"))
    store.tail = async (key, length) => {
      calls.tail++;
      const v = await mem.get(key);
      return v === undefined
        ? undefined
        : { bytes: v.subarray(Math.max(0, v.length - length)), size: v.length };
    };
  return { store, calls };
}

const entries = fc.dictionary(
  fc.stringMatching(/^[a-z]{1,6}(\/[a-z0-9]{1,4}){0,2}$/),
  fc.record({ bytes: fc.uint8Array({ maxLength: 300 }), level: fc.constantFrom(0 as const, 6 as const) }),
  { minKeys: 1, maxKeys: 6 },
);

async function readAll(z: ZipStore): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for await (const k of z.list()) out[k] = [...((await z.get(k)) ?? [])];
  return out;
}

describe("ZipStore over a value of another store", () => {
  it("reads every entry as the same zip given as bytes, whether the store has size, tail or both", async () => {
    await fc.assert(
      fc.asyncProperty(
        entries,
        fc.constantFrom<("size" | "tail")[]>(["size"], ["tail"], ["size", "tail"]),
        async (files, methods) => {
          const zip = zipSync(
            Object.fromEntries(Object.entries(files).map(([n, f]) => [n, [f.bytes, { level: f.level }]])),
          );
          const { store, calls } = await holding(zip, methods);
          const through = new ZipStore({ store, key: KEY });
          const direct = new ZipStore(zip);
          expect(await readAll(through)).toEqual(await readAll(direct));
          const [name] = Object.keys(files);
          const k = `/${name}` as AbsolutePath;
          expect(await through.sizeOf(k)).toBe(files[name as string]?.bytes.length);
          expect(await through.getRange(k, { offset: 0, length: 2 })).toEqual(
            await direct.getRange(k, { offset: 0, length: 2 }),
          );
          // With a tail, the end records come from it in one request and the size is never asked.
          if (methods.includes("tail")) expect(calls.size).toBe(0);
          else expect(calls.tail).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses a source that is no store with getRange, or a key without a leading /, when it is made", async () => {
    expect(() => new ZipStore({ store: {} as RangeStore, key: KEY })).toThrow(
      /needs a store with getRange and a key starting with \//,
    );
    const { store } = await holding(zipSync({ x: new Uint8Array([1]) }), ["size"]);
    expect(() => new ZipStore({ store, key: "a.zip" as AbsolutePath })).toThrow(TypeError);
  });

  it("names the store and the archive: missing, or a store that can tell no size", async () => {
    const zip = zipSync({ x: new Uint8Array([1, 2, 3]) });
    const missing = new ZipStore({
      store: (await holding(zip, ["size"])).store,
      key: "/b.zip" as AbsolutePath,
    });
    const e1 = await missing.get("/x" as AbsolutePath).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(StoreError);
    expect((e1 as Error).message).toMatch(
      /ZipStore\(Held\/b\.zip\).*the archive \/b\.zip does not exist in Held/,
    );

    const sizeless = new ZipStore({ store: (await holding(zip, [])).store, key: KEY });
    const e2 = await sizeless.get("/x" as AbsolutePath).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(StoreError);
    expect((e2 as Error).message).toMatch(/Held can tell no value's size \(it needs a size or tail method\)/);
    expect(String(sizeless)).toBe("ZipStore(Held/a.zip)");
  });
});
