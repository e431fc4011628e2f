// The compact index of a zip's central directory, on both sides of the size where its fields move
// from a plain array (small archives) to a Float64Array.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { centralDirectory, type ZipEntry } from "../src/zip-format.js";
import { ZipIndex } from "../src/zip-index.js";

const entryArb = fc.record({
  size: fc.integer({ min: 0, max: 2 ** 33 }),
  method: fc.constantFrom(0, 8),
  headerOffset: fc.integer({ min: 0, max: 2 ** 40 }),
  delta: fc.integer({ min: 30, max: 300 }),
});

describe("ZipIndex", () => {
  it("gives back every entry's fields, and what learn() recorded, for 0 to 60 entries", () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 60 }), (specs) => {
        const entries: ZipEntry[] = specs.map((s, i) => ({
          name: `c/${i}`,
          method: s.method,
          crc32: 0,
          compressedSize: s.method === 0 ? s.size : Math.floor(s.size / 2),
          size: s.size,
          headerOffset: s.headerOffset,
        }));
        const cd = centralDirectory(entries, 2 ** 41);
        const index = ZipIndex.parse(cd, entries.length, 2 ** 41, "test");
        expect(index.size).toBe(entries.length);
        expect([...index.names()]).toEqual(entries.map((e) => e.name));
        entries.forEach((e, i) => {
          const got = index.get(e.name)!;
          expect(got).toMatchObject({
            name: e.name,
            method: e.method,
            size: e.size,
            compressedSize: e.compressedSize,
            headerOffset: e.headerOffset,
          });
          expect(got.dataOffset).toBeUndefined();
          index.learn({ ...got, dataOffset: e.headerOffset + specs[i]!.delta });
        });
        entries.forEach((e, i) => {
          expect(index.get(e.name)!.dataOffset).toBe(e.headerOffset + specs[i]!.delta);
        });
        expect(index.get("missing")).toBeUndefined();
        expect(index.has("missing")).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});
