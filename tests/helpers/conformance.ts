import { describe, expect, it } from "vitest";
import type { AbsolutePath, Store } from "../../src/types.js";

/** What a store under test must support; read-only stores skip the write checks by saying so. */
export interface ConformanceOptions {
  /** Makes a fresh, empty, writable store. */
  make: () => Promise<Store> | Store;
  /** Called after each test to release the store. */
  cleanup?: (store: Store) => Promise<void> | void;
}

const bytes = (...v: number[]) => new Uint8Array(v);
const text = (s: string) => new TextEncoder().encode(s);

async function collect(it: AsyncIterable<AbsolutePath>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out.sort();
}

/**
 * The store contract, run against every backend and against ShardedStore itself.
 */
export function storeConformance(name: string, opts: ConformanceOptions): void {
  describe(`${name} conforms to the store contract`, () => {
    const withStore =
      (
        fn: (
          s: Required<Pick<Store, "get" | "getRange" | "set" | "delete" | "list">> & Store,
        ) => Promise<void>,
      ) =>
      async () => {
        const s = await opts.make();
        try {
          await fn(s as never);
        } finally {
          await s.close?.();
          await opts.cleanup?.(s);
        }
      };

    it(
      "returns undefined for a missing key",
      withStore(async (s) => {
        expect(await s.get("/nope")).toBeUndefined();
        expect(await s.get("/a/b/c/missing.json")).toBeUndefined();
        expect(await s.getRange("/nope", { offset: 0, length: 2 })).toBeUndefined();
        expect(await s.getRange("/nope", { suffixLength: 2 })).toBeUndefined();
      }),
    );

    it(
      "reads back what it wrote, byte for byte, including every byte value",
      withStore(async (s) => {
        const all = new Uint8Array(256).map((_, i) => i);
        await s.set("/bin/all", all);
        await s.set("/a/b/c/d/deep.json", text('{"x":1}'));
        expect(await s.get("/bin/all")).toEqual(all);
        expect(new TextDecoder().decode(await s.get("/a/b/c/d/deep.json"))).toBe('{"x":1}');
      }),
    );

    it(
      "keeps its own copy: mutating the written buffer afterwards changes nothing",
      withStore(async (s) => {
        const v = bytes(1, 2, 3);
        await s.set("/copy", v);
        v[0] = 99;
        expect(await s.get("/copy")).toEqual(bytes(1, 2, 3));
      }),
    );

    it(
      "stores an empty value as an empty value, not as missing",
      withStore(async (s) => {
        await s.set("/empty", new Uint8Array(0));
        const v = await s.get("/empty");
        expect(v).toBeInstanceOf(Uint8Array);
        expect(v?.length).toBe(0);
      }),
    );

    it(
      "overwrites an existing key",
      withStore(async (s) => {
        await s.set("/k", bytes(1, 2, 3, 4));
        await s.set("/k", bytes(9));
        expect(await s.get("/k")).toEqual(bytes(9));
      }),
    );

    it(
      "handles unicode keys",
      withStore(async (s) => {
        await s.set("/données/温度/ключ.json", text("ü"));
        expect(await s.get("/données/温度/ключ.json")).toEqual(text("ü"));
        expect(await collect(s.list("/données"))).toEqual(["/données/温度/ключ.json"]);
      }),
    );

    it(
      "deletes a key, and deleting a missing key is not an error",
      withStore(async (s) => {
        await s.set("/x/y", bytes(1));
        await s.delete("/x/y");
        expect(await s.get("/x/y")).toBeUndefined();
        await expect(s.delete("/x/y")).resolves.toBeUndefined();
        await expect(s.delete("/never/was")).resolves.toBeUndefined();
      }),
    );

    it(
      "reads byte ranges: offset/length, past the end, and suffixes",
      withStore(async (s) => {
        const v = new Uint8Array(100).map((_, i) => i);
        await s.set("/r", v);
        expect(await s.getRange("/r", { offset: 10, length: 5 })).toEqual(v.slice(10, 15));
        expect(await s.getRange("/r", { offset: 95, length: 50 })).toEqual(v.slice(95));
        expect(await s.getRange("/r", { offset: 0, length: 0 })).toEqual(new Uint8Array(0));
        expect(await s.getRange("/r", { suffixLength: 7 })).toEqual(v.slice(93));
        expect(await s.getRange("/r", { suffixLength: 500 })).toEqual(v);
      }),
    );

    it(
      "rejects negative or fractional ranges",
      withStore(async (s) => {
        await s.set("/r", bytes(1, 2, 3));
        await expect(s.getRange("/r", { offset: -1, length: 2 })).rejects.toThrow(/range/);
        await expect(s.getRange("/r", { suffixLength: 1.5 })).rejects.toThrow(/suffixLength/);
      }),
    );

    it(
      "lists every key once, and lists under a path prefix only",
      withStore(async (s) => {
        const keys = [
          "/.zgroup",
          "/a/.zgroup",
          "/a/x/.zarray",
          "/a/x/0.0",
          "/a/x/0.1",
          "/ab/.zgroup",
          "/b/c/d",
        ];
        for (const k of keys) await s.set(k as AbsolutePath, bytes(1));
        expect(await collect(s.list())).toEqual([...keys].sort());
        expect(await collect(s.list("/"))).toEqual([...keys].sort());
        expect(await collect(s.list("/a"))).toEqual(["/a/.zgroup", "/a/x/.zarray", "/a/x/0.0", "/a/x/0.1"]);
        expect(await collect(s.list("/a/x/"))).toEqual(["/a/x/.zarray", "/a/x/0.0", "/a/x/0.1"]);
        expect(await collect(s.list("/zzz"))).toEqual([]);
      }),
    );

    it(
      "lands every one of many concurrent writes",
      withStore(async (s) => {
        const n = 200;
        await Promise.all(
          Array.from({ length: n }, (_, i) => s.set(`/c/${i % 7}/${i}` as AbsolutePath, text(`v${i}`))),
        );
        const got = await Promise.all(
          Array.from({ length: n }, (_, i) => s.get(`/c/${i % 7}/${i}` as AbsolutePath)),
        );
        got.forEach((v, i) => {
          expect(new TextDecoder().decode(v)).toBe(`v${i}`);
        });
        expect((await collect(s.list("/c"))).length).toBe(n);
      }),
    );

    it(
      "concurrent writes to one key leave one complete value",
      withStore(async (s) => {
        const values = Array.from({ length: 20 }, (_, i) => new Uint8Array(4096).fill(i));
        await Promise.all(values.map((v) => s.set("/same", v)));
        const got = await s.get("/same");
        expect(got?.length).toBe(4096);
        expect(new Set(got).size).toBe(1);
      }),
    );

    it(
      "rejects keys that could escape or are malformed, naming the key",
      withStore(async (s) => {
        for (const bad of [
          "/a/../b",
          "/../x",
          "/./a",
          "/a/.",
          "/a//b",
          "/a\\b",
          "/a\0b",
          "no-slash",
          "/a/",
        ]) {
          await expect(s.set(bad as AbsolutePath, bytes(1)), bad).rejects.toThrow(/invalid key/);
          await expect(s.get(bad as AbsolutePath), bad).rejects.toThrow(/invalid key/);
        }
        expect(await collect(s.list())).toEqual([]);
      }),
    );
  });
}
