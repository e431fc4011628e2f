// ShardedStore routing against a plain reference router written here: split the key on "/", find
// the mount whose path is a prefix of it, split an array's chunk key on its separator. Random
// mounts (group and array shards, v2 and v3, both separators) and random keys, each routed several
// times so remembered routes are checked too.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidKeyError } from "../src/errors.js";
import { MemoryStore, ShardedStore } from "../src/index.js";
import type { AbsolutePath, Resolution, Store } from "../src/types.js";
import { v2Array, v3Array } from "./helpers/metadata.js";

interface ArraySpec {
  format: 2 | 3;
  sep: "/" | ".";
  dims: number;
  grid: number[];
}

function metadata(a: ArraySpec): Uint8Array {
  // Sharded dimensions have chunks of 1 (the composition requires it).
  const chunks = a.grid.map((_, d) => (d < a.dims ? 1 : 2));
  const shape = a.grid.map((g, d) => g * chunks[d]!);
  return a.format === 2 ? v2Array(shape, chunks, a.sep) : v3Array(shape, chunks, a.sep);
}

const badSegment = (s: string) => s === "" || s === "." || s === ".." || s.includes("\\") || s.includes("\0");

/** The key rule, read plainly: "/" then segments, none empty, ".", "..", or holding "\" or NUL. */
function validKey(key: string): boolean {
  return key.startsWith("/") && key !== "/" && !key.slice(1).split("/").some(badSegment);
}

/** A chunk key of the array relative to its path, split plainly: the index and the inner key, or null. */
function chunkRoute(rest: string, a: ArraySpec): { index: number[]; inner: string } | null {
  let tokens = rest.split(a.sep);
  if (a.format === 3) {
    if (tokens[0] !== "c") return null;
    tokens = tokens.slice(1);
  }
  if (tokens.length !== a.grid.length) return null;
  const nums: number[] = [];
  for (const [d, t] of tokens.entries()) {
    if (!/^(0|[1-9][0-9]{0,14})$/.test(t) || Number(t) >= a.grid[d]!) return null;
    nums.push(Number(t));
  }
  const tail = tokens.slice(a.dims).join(a.sep);
  if (a.format === 3)
    return { index: nums.slice(0, a.dims), inner: tail === "" ? "/c" : `/c${a.sep}${tail}` };
  return { index: nums.slice(0, a.dims), inner: tail === "" ? "/0" : `/${tail}` };
}

const seg = fc.constantFrom("a", "b", "ab", "c", "0", "1", "x.y", ".z");
const mountPath = fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => s.join("/"));
const arraySpec = fc
  .record({
    format: fc.constantFrom(2 as const, 3 as const),
    sep: fc.constantFrom("/" as const, "." as const),
    grid: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
    dimsSeed: fc.nat(),
  })
  .map(({ dimsSeed, grid, ...rest }) => ({ ...rest, grid, dims: 1 + (dimsSeed % grid.length) }));

/** Mounts with none inside another: each a group shard or an array shard. */
const mountsArb = fc
  .uniqueArray(fc.tuple(mountPath, fc.option(arraySpec, { freq: 2 })), {
    maxLength: 8,
    selector: ([p]) => p,
  })
  .map((ms) =>
    ms.filter(([p], i) => !ms.some(([q], j) => j < i && (p.startsWith(`${q}/`) || q.startsWith(`${p}/`)))),
  );

/** Keys over the same segments, chunk-like tails, and the characters a key must not hold. */
const keyChar = fc.constantFrom("a", "b", "c", "0", "1", "2", "11", "01", "/", ".", "..", "\\", "\0", "x.y");
const keyArb = fc.oneof(
  fc.array(keyChar, { maxLength: 12 }).map((cs) => cs.join("")),
  fc.array(keyChar, { maxLength: 12 }).map((cs) => `/${cs.join("")}`),
  fc
    .tuple(
      mountPath,
      fc.array(fc.constantFrom("c", "0", "1", "2", "11"), { maxLength: 5 }),
      fc.constantFrom("/", "."),
    )
    .map(([m, rest, sep]) => `/${m}/${rest.join(sep)}`),
);

/** A key under one of the mounts (picked at run time): chunk-like tokens joined by a separator. */
const mountKeyArb = fc.record({
  mount: fc.nat(),
  c: fc.boolean(),
  tokens: fc.array(fc.constantFrom("0", "1", "2", "3", "11", "01", "c"), { minLength: 1, maxLength: 4 }),
  sep: fc.constantFrom("/", ".", "own"),
});

describe("ShardedStore routing equals a plain reference router", () => {
  it("routes every key, every time, as the reference does, and rejects the same keys (property)", async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        mountsArb,
        fc.array(fc.oneof(keyArb, mountKeyArb), { maxLength: 30 }),
        async (mounts, picks) => {
          const keys = picks.map((k) => {
            if (typeof k === "string" || mounts.length === 0) return typeof k === "string" ? k : "/x";
            const [path, spec] = mounts[k.mount % mounts.length]!;
            const sep = k.sep === "own" ? (spec?.sep ?? "/") : k.sep;
            return `/${path}/${[...(k.c ? ["c"] : []), ...k.tokens].join(sep)}`;
          });
          const groups = new Map<string, Store>();
          const arrays = new Map<string, ArraySpec>();
          const indexStores = new Map<string, Store>();
          const shards: Record<string, Store> = {};
          const arrayShards: Record<string, { dims: number; factory: (i: readonly number[]) => Store }> = {};
          for (const [path, spec] of mounts) {
            if (spec === null) {
              groups.set(path, new MemoryStore());
              shards[path] = groups.get(path)!;
            } else {
              arrays.set(path, spec);
              arrayShards[path] = {
                dims: spec.dims,
                factory: (i) => {
                  const id = `${path} ${i.join(",")}`;
                  if (!indexStores.has(id)) indexStores.set(id, new MemoryStore());
                  return indexStores.get(id)!;
                },
              };
            }
          }
          const base = new MemoryStore();
          const s = new ShardedStore(base, { shards, arrayShards });
          for (const [path, a] of arrays)
            await s.set(`/${path}/${a.format === 3 ? "zarr.json" : ".zarray"}` as AbsolutePath, metadata(a));

          const reference = (key: string): Omit<Resolution, "store"> & { store: Store | undefined } => {
            const owner = mounts.find(([p]) => key.startsWith(`/${p}/`));
            if (owner === undefined)
              return { store: base, key: key as AbsolutePath, mount: "", kind: "base" };
            const [path, spec] = owner;
            const rest = key.slice(path.length + 2);
            if (spec === null)
              return { store: groups.get(path), key: `/${rest}` as AbsolutePath, mount: path, kind: "group" };
            const split = chunkRoute(rest, spec);
            if (split === null) return { store: base, key: key as AbsolutePath, mount: "", kind: "base" };
            return {
              store: undefined, // made by the factory on first use: checked by identity below
              key: split.inner as AbsolutePath,
              mount: path,
              kind: "array",
              index: split.index,
            };
          };

          // Each key three times in a row, then all again: first, second and remembered sights.
          for (const key of [...keys.flatMap((k) => [k, k, k]), ...keys]) {
            const want = validKey(key) ? reference(key) : null;
            let got: Resolution | undefined;
            let error: unknown;
            try {
              got = s.resolve(key as AbsolutePath);
            } catch (e) {
              error = e;
            }
            seen.add(want === null ? "invalid" : want.kind);
            if (want === null) {
              expect(error, JSON.stringify(key)).toBeInstanceOf(InvalidKeyError);
              continue;
            }
            expect(error, JSON.stringify(key)).toBeUndefined();
            const { store, ...rest } = want;
            expect({ ...got!, store: undefined }, `${JSON.stringify(mounts)} ${JSON.stringify(key)}`).toEqual(
              {
                ...rest,
                store: undefined,
              },
            );
            if (want.kind === "array")
              expect(got!.store).toBe(indexStores.get(`${want.mount} ${want.index!.join(",")}`));
            else expect(got!.store).toBe(store);
          }
        },
      ),
      { numRuns: 400 },
    );
    // The runs reached every kind of route.
    expect([...seen].sort()).toEqual(["array", "base", "group", "invalid"]);
  });
});
