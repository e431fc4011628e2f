import { describe, expect, it } from "vitest";
import type { ChunkLayout } from "../src/array-metadata.js";
import { joinChunkKey, splitChunkKey } from "../src/chunk-key.js";
import { assertValidKey, normalizeMount, normalizePrefix } from "../src/keys.js";

const layouts: ChunkLayout[] = [
  { format: 3, encoding: "default", separator: "/", ndim: 3, grid: [120, 11, 4] },
  { format: 3, encoding: "default", separator: ".", ndim: 3, grid: [120, 11, 4] },
  { format: 3, encoding: "v2", separator: ".", ndim: 3, grid: [120, 11, 4] },
  { format: 2, encoding: "v2", separator: "/", ndim: 3, grid: [120, 11, 4] },
];

describe("splitChunkKey and joinChunkKey", () => {
  for (const layout of layouts) {
    const sep = layout.separator;
    const name = `${layout.encoding} "${sep}"`;
    for (const dims of [1, 2, 3]) {
      it(`round-trip every chunk of a 120×11×4 grid sharded over ${dims} dims (${name})`, () => {
        let n = 0;
        for (let i = 0; i < 120; i += 7)
          for (let j = 0; j < 11; j++)
            for (let k = 0; k < 4; k++) {
              const idx = [i, j, k];
              const rel = (layout.encoding === "default" ? `c${sep}` : "") + idx.join(sep);
              const split = splitChunkKey(rel, dims, layout);
              expect(split?.index).toEqual(idx.slice(0, dims));
              // The flat index: row-major over the sharded dims of the grid.
              expect(split?.flat).toBe(
                [i, j, k].slice(0, dims).reduce((f, v, d) => f * layout.grid[d]! + v, 0),
              );
              expect(joinChunkKey(split!.index, split!.inner, layout)).toBe(rel);
              // Without the layout (metadata not read yet) the key routes the same way, with no flat index.
              expect(splitChunkKey(rel, dims, null)).toEqual({ ...split, flat: -1 });
              n++;
            }
        expect(n).toBe(18 * 11 * 4);
      });
    }
    it(`refuses what is not a chunk key of the array (${name})`, () => {
      const c = layout.encoding === "default" ? `c${sep}` : "";
      for (const bad of [
        `${c}120${sep}0${sep}0`, // outside the grid
        `${c}1${sep}11${sep}0`,
        `${c}1${sep}0`, // too few indices
        `${c}1${sep}0${sep}0${sep}0`, // too many
        `${c}01${sep}0${sep}0`, // leading zero
        `${c}1${sep}${sep}0`,
        `${c}1${sep}0${sep}`,
        `${c}a${sep}0${sep}0`,
        `${c}-1${sep}0${sep}0`,
        "zarr.json",
        ".zarray",
        `x${sep}1${sep}0${sep}0`,
      ]) {
        expect(splitChunkKey(bad, 1, layout), bad).toBeNull();
      }
    });
  }

  it("maps all-dims sharding to the 0-d chunk key of the sub-array", () => {
    const v3: ChunkLayout = { format: 3, encoding: "default", separator: "/", ndim: 2, grid: [3, 4] };
    const v2: ChunkLayout = { format: 2, encoding: "v2", separator: ".", ndim: 2, grid: [3, 4] };
    expect(splitChunkKey("c/2/3", 2, v3)).toMatchObject({ index: [2, 3], inner: "/c" });
    expect(splitChunkKey("2.3", 2, v2)).toMatchObject({ index: [2, 3], inner: "/0" });
    expect(joinChunkKey([2, 3], "/c", v3)).toBe("c/2/3");
    expect(joinChunkKey([2, 3], "/0", v2)).toBe("2.3");
    expect(joinChunkKey([2, 3], "/1", v2)).toBeNull();
  });
});

describe("key checks", () => {
  it("accepts ordinary zarr keys", () => {
    for (const k of ["/zarr.json", "/.zattrs", "/a/.zarray", "/a/b/c/0/1", "/a.b/..c/x..", "/ü/温度"]) {
      expect(() => assertValidKey(k, "t")).not.toThrow();
    }
  });
  it("rejects each kind of bad key with its reason", () => {
    const cases: [string, RegExp][] = [
      ["", /starting with '\/'/],
      ["a/b", /starting with '\/'/],
      ["/", /root/],
      ["/a//b", /empty path segments/],
      ["/a/", /empty path segments/],
      ["/./a", /'\.' segments/],
      ["/a/.", /'\.' segments/],
      ["/a/../b", /'\.\.' segments/],
      ["/..", /'\.\.' segments/],
      ["/a\\b", /backslashes/],
      ["/a\0b", /NUL/],
    ];
    for (const [k, re] of cases) expect(() => assertValidKey(k, "Where"), JSON.stringify(k)).toThrow(re);
    expect(() => assertValidKey("/a/../b", "MyStore")).toThrow(/^MyStore: invalid key "\/a\/\.\.\/b"/);
  });
  it("normalises mounts and prefixes", () => {
    expect(normalizeMount("/a//b/")).toBe("a/b");
    expect(normalizePrefix("/a//b")).toBe("/a/b/");
    expect(normalizePrefix("/")).toBe("/");
    expect(() => normalizePrefix("/a/../b")).toThrow(/invalid listing prefix/);
  });
});
