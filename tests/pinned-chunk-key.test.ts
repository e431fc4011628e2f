// Which array-relative keys are chunk keys of a sharded array, and where they go. A chunk must have
// exactly one name: any other spelling (leading zeros, a mixed separator, a missing or extra index,
// an index outside the grid) is not a chunk key and belongs to the base store. The reference below
// is the Zarr key grammar written as regular expressions, independent of the parser under test.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChunkLayout } from "../src/array-metadata.js";
import { joinChunkKey, type SplitChunkKey, splitChunkKey } from "../src/chunk-key.js";

const INDEX = "(0|[1-9][0-9]{0,14})";
const esc = (sep: string) => (sep === "." ? "\\." : "/");

/** What a key means per the Zarr spec: every index, or `null` when it is not a chunk key. */
function specIndices(key: string, layout: ChunkLayout): number[] | null {
  const s = esc(layout.separator);
  const body = Array.from({ length: layout.ndim }, () => INDEX).join(s);
  const re = new RegExp(`^${layout.encoding === "default" ? `c${s}` : ""}${body}$`);
  const m = re.exec(key);
  if (m === null) return null;
  const idx = m.slice(1).map(Number);
  return idx.every((v, d) => v < (layout.grid[d] ?? 0)) ? idx : null;
}

/** The expected split: the sharded indices, and the key of the rest inside the index store. */
function expected(
  indices: number[],
  dims: number,
  encoding: "default" | "v2",
  sep: string,
  grid?: readonly number[],
): SplitChunkKey {
  const index = indices.slice(0, dims);
  const rest = indices.slice(dims);
  let inner: string;
  if (encoding === "default") inner = rest.length === 0 ? "/c" : `/c${sep}${rest.join(sep)}`;
  else inner = rest.length === 0 ? "/0" : `/${rest.join(sep)}`;
  // Row-major position among the grid's leading `dims` (exact below 2^53), or -1 with no layout.
  let flat = grid === undefined ? -1 : index.reduce((f, v, d) => f * grid[d]! + v, 0);
  if (flat > Number.MAX_SAFE_INTEGER) flat = -1;
  return { index, flat, inner: inner as SplitChunkKey["inner"] };
}

/** Before the metadata is read: the encoding is inferred, any number of trailing indices, no grid. */
function specUnread(key: string, dims: number): SplitChunkKey | null {
  const m =
    /^c([./])(.*)$/.exec(key) ?? (key.startsWith("c") ? null : /^[0-9]*([./])?(.*)$/.exec(key) && [key]);
  if (m === null) return null;
  const encoding = key.startsWith("c") ? "default" : "v2";
  const body = encoding === "default" ? (m[2] as string) : key;
  const sep = encoding === "default" ? (m[1] as string) : (/[^0-9]/.exec(key)?.[0] ?? ".");
  if (sep !== "/" && sep !== ".") return null;
  const re = new RegExp(`^${INDEX}(${esc(sep)}${INDEX})*$`);
  if (!re.test(body)) return null;
  const indices = body.split(sep).map(Number);
  if (indices.length < dims) return null;
  return expected(indices, dims, encoding, sep);
}

const layoutArb: fc.Arbitrary<ChunkLayout> = fc
  .record({
    encoding: fc.constantFrom("default" as const, "v2" as const),
    separator: fc.constantFrom("/" as const, "." as const),
    grid: fc.array(fc.constantFrom(0, 1, 2, 3, 10, 11, 12, 100, 1000, 99999), { minLength: 1, maxLength: 4 }),
  })
  .map(({ encoding, separator, grid }) => ({
    format: encoding === "default" ? 3 : (2 as 2 | 3),
    encoding,
    separator,
    ndim: grid.length,
    grid,
  }));

/** A layout, a number of sharded dims, and a well-formed chunk key of it (when the grid is not empty). */
const caseArb = layoutArb.chain((layout) =>
  fc.record({
    layout: fc.constant(layout),
    dims: fc.integer({ min: 1, max: layout.ndim }),
    indices: fc.tuple(...layout.grid.map((g) => fc.integer({ min: 0, max: Math.max(0, g - 1) }))),
  }),
);

function keyOf(indices: number[], layout: ChunkLayout): string {
  return (layout.encoding === "default" ? `c${layout.separator}` : "") + indices.join(layout.separator);
}

type Edit = { kind: "insert" | "replace" | "delete" | "duplicate"; at: number; ch: string };
const editArb: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom("insert", "replace", "delete", "duplicate"),
  at: fc.nat(),
  ch: fc.constantFrom("0", "1", "9", ".", "/", "c", "-", "+", "e", " ", "x"),
});

function applyEdits(key: string, edits: Edit[]): string {
  let k = key;
  for (const e of edits) {
    const at = k.length === 0 ? 0 : e.at % (k.length + 1);
    if (e.kind === "insert") k = k.slice(0, at) + e.ch + k.slice(at);
    else if (e.kind === "replace") k = k.slice(0, at) + e.ch + k.slice(at + 1);
    else if (e.kind === "delete") k = k.slice(0, at) + k.slice(at + 1);
    else k = k.slice(0, at) + k.slice(at, at + 3) + k.slice(at);
  }
  return k;
}

describe("chunk keys of a known layout", () => {
  it("every chunk key round-trips and goes to the index store of its leading indices (property)", () => {
    fc.assert(
      fc.property(caseArb, ({ layout, dims, indices }) => {
        fc.pre(layout.grid.every((g) => g > 0));
        const key = keyOf(indices, layout);
        const split = splitChunkKey(key, dims, layout);
        expect(split).toEqual(expected(indices, dims, layout.encoding, layout.separator, layout.grid));
        expect(joinChunkKey(split!.index, split!.inner, layout)).toBe(key);
        // Before the metadata is read, the key is routed the same way.
        expect(splitChunkKey(key, dims, null)).toEqual({ ...split, flat: -1 });
      }),
      { numRuns: 1000 },
    );
  });

  it("an edited key is either the canonical key of a chunk or refused: never a second name (property)", () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.array(editArb, { minLength: 1, maxLength: 3 }),
        ({ layout, dims, indices }, edits) => {
          const key = applyEdits(keyOf(indices, layout), edits);
          const split = splitChunkKey(key, dims, layout);
          const spec = specIndices(key, layout);
          expect(split, `${JSON.stringify(layout)} dims=${dims} ${JSON.stringify(key)}`).toEqual(
            spec === null ? null : expected(spec, dims, layout.encoding, layout.separator, layout.grid),
          );
          if (split !== null) expect(joinChunkKey(split.index, split.inner, layout)).toBe(key);
        },
      ),
      { numRuns: 4000 },
    );
  });

  it("random strings over the key alphabet: same rule (property)", () => {
    fc.assert(
      fc.property(
        layoutArb,
        fc.nat(),
        fc.array(fc.constantFrom("0", "1", "2", "10", ".", "/", "c", "-", "00"), { maxLength: 12 }),
        (layout, d, parts) => {
          const dims = 1 + (d % layout.ndim);
          const key = parts.join("");
          const spec = specIndices(key, layout);
          expect(splitChunkKey(key, dims, layout), `${JSON.stringify(layout)} dims=${dims} ${key}`).toEqual(
            spec === null ? null : expected(spec, dims, layout.encoding, layout.separator, layout.grid),
          );
        },
      ),
      { numRuns: 4000 },
    );
  });

  it("a key split at an offset inside a longer string is split as the key alone, known layout or not (property)", () => {
    fc.assert(
      fc.property(
        layoutArb,
        fc.nat(),
        fc.array(fc.constantFrom("0", "1", "2", "10", ".", "/", "c", "-", "00"), { maxLength: 12 }),
        fc.constantFrom("", "/", "/a/b/", "/arr/c/", "/x.1/", "/9/"),
        (layout, d, parts, prefix) => {
          const dims = 1 + (d % layout.ndim);
          const key = parts.join("");
          for (const l of [layout, null]) {
            expect(
              splitChunkKey(prefix + key, dims, l, prefix.length),
              `${prefix}|${key} dims=${dims}`,
            ).toEqual(splitChunkKey(key, dims, l));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  const L3: ChunkLayout = { format: 3, encoding: "default", separator: "/", ndim: 3, grid: [4, 5, 6] };
  const L3dot: ChunkLayout = { format: 3, encoding: "default", separator: ".", ndim: 3, grid: [4, 5, 6] };
  const V2: ChunkLayout = { format: 2, encoding: "v2", separator: ".", ndim: 3, grid: [4, 5, 6] };

  it("refuses the malformed keys found by mutation testing, with 1, 2 and 3 sharded dims", () => {
    for (const dims of [1, 2, 3]) {
      for (const key of [
        "c/1", // too few indices for a 3-D array
        "c/1/0",
        "c/1/00/0", // leading zero on a trailing index
        "c/1/0/00",
        "c/01/0/0",
        "c/1/0/-", // not a number
        "c/1/-/0",
        "c/1/0/0/0", // too many
        "c/1/0/0/",
        "c/1//0/0",
        "c.1/0/0", // the other separator: would be a second name for c/1/0/0
        "c/1.0/0",
        "c/1/0.0",
        "c//1/0/0",
        "c/4/0/0", // outside the grid on each dimension
        "c/1/5/0",
        "c/1/0/6",
        "c/1/0/1e0",
        "c/1/0/ 1",
        "/c/1/0/0",
        "C/1/0/0",
      ]) {
        expect(splitChunkKey(key, dims, L3), `${key} dims=${dims}`).toBeNull();
      }
      for (const key of [
        "c..0.0",
        "c.1..0",
        "c.1.0.",
        "c.1/0.0",
        "c.1.0/0",
        "c.1.05.0",
        "c.1.0.6",
        "c/1.0.0",
      ]) {
        expect(splitChunkKey(key, dims, L3dot), `${key} dims=${dims}`).toBeNull();
      }
      for (const key of [
        "1.0",
        "1..0",
        "1.0.0.0",
        "1.00.0",
        "1.0.-",
        "1/0.0",
        "1.0/0",
        "4.0.0",
        "1.5.0",
        "1.0.6",
        "c.1.0.0",
      ]) {
        expect(splitChunkKey(key, dims, V2), `${key} dims=${dims}`).toBeNull();
      }
      // …and the one true name of each of those chunks is accepted.
      expect(splitChunkKey("c/1/0/0", dims, L3)?.index).toEqual([1, 0, 0].slice(0, dims));
      expect(splitChunkKey("c.3.4.5", dims, L3dot)?.index).toEqual([3, 4, 5].slice(0, dims));
      expect(splitChunkKey("3.4.5", dims, V2)?.index).toEqual([3, 4, 5].slice(0, dims));
    }
  });

  it("a 1-D array sharded over its only dimension", () => {
    const L1: ChunkLayout = { format: 3, encoding: "default", separator: "/", ndim: 1, grid: [12] };
    const V1: ChunkLayout = { format: 2, encoding: "v2", separator: ".", ndim: 1, grid: [12] };
    expect(splitChunkKey("c/11", 1, L1)).toEqual({ index: [11], flat: 11, inner: "/c" });
    expect(splitChunkKey("11", 1, V1)).toEqual({ index: [11], flat: 11, inner: "/0" });
    for (const k of ["c/12", "c/011", "c/11/0", "c/", "c", "c.11"])
      expect(splitChunkKey(k, 1, L1), k).toBeNull();
    for (const k of ["12", "011", "11.0", "", "1/1"]) expect(splitChunkKey(k, 1, V1), k).toBeNull();
  });
});

describe("chunk keys before the array's metadata is read", () => {
  it("are routed by the key's own shape, with one name per chunk (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.constantFrom("0", "1", "7", "10", ".", "/", "c", "-", "00", "x"), { maxLength: 12 }),
        (dims, parts) => {
          const key = parts.join("");
          expect(splitChunkKey(key, dims, null), `dims=${dims} ${key}`).toEqual(specUnread(key, dims));
        },
      ),
      { numRuns: 4000 },
    );
  });

  it("refuse indices too long to be exact numbers, which would alias another chunk", () => {
    // 2^53 + 1 is not a double: parsed as a number it would be chunk 2^53.
    for (const key of [
      "c/9007199254740993/0",
      "9007199254740993.0",
      "c/1234567890123456",
      "c/0/1234567890123456",
    ]) {
      expect(splitChunkKey(key, 1, null), key).toBeNull();
    }
    expect(splitChunkKey("c/123456789012345/0", 1, null)?.index).toEqual([123456789012345]);
    expect(splitChunkKey("c/0/123456789012345", 1, null)?.inner).toBe("/c/123456789012345");
  });

  it("infer the separator and encoding from the key", () => {
    expect(splitChunkKey("c.2.3", 1, null)).toEqual({ index: [2], flat: -1, inner: "/c.3" });
    expect(splitChunkKey("2/3/4", 2, null)).toEqual({ index: [2, 3], flat: -1, inner: "/4" });
    expect(splitChunkKey("2", 1, null)).toEqual({ index: [2], flat: -1, inner: "/0" });
    expect(splitChunkKey("c/2", 1, null)).toEqual({ index: [2], flat: -1, inner: "/c" });
    for (const k of ["c-2.3", "c", "2-3", "2.3/4", "c/2.3", ".zarray", "zarr.json", "c/2/", "2."]) {
      expect(splitChunkKey(k, 1, null), k).toBeNull();
    }
  });
});

describe("joinChunkKey", () => {
  it("gives null for an index store key outside the v3 chunk namespace", () => {
    const L: ChunkLayout = { format: 3, encoding: "default", separator: "/", ndim: 2, grid: [4, 5] };
    const Ldot: ChunkLayout = { ...L, separator: "." };
    for (const inner of ["/zarr.json", "/.zattrs", "/cx/1", "/c.1", "/d/1", "/0"]) {
      expect(joinChunkKey([1], inner, L), inner).toBeNull();
    }
    for (const inner of ["/zarr.json", "/c/1", "/cc.1"])
      expect(joinChunkKey([1], inner, Ldot), inner).toBeNull();
    expect(joinChunkKey([1], "/c/3", L)).toBe("c/1/3");
    expect(joinChunkKey([1], "/c.3", Ldot)).toBe("c.1.3");
  });
});
