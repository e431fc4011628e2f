// The done markers of an S3 output: every store's marker name reads back as that store (and size).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { relPathFor } from "../src/cli/layout.js";
import { markerName, parseMarkerName } from "../src/cli/s3-out.js";

const segment = fc
  .string({
    minLength: 1,
    maxLength: 12,
    unit: fc.constantFrom("a", "z", "r", ".", "0", "7", "-", "_", "é", " "),
  })
  .filter((s) => s !== "." && s !== "..");
const mount = fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => p.join("/"));
const index = fc.option(fc.array(fc.nat({ max: 1e6 }), { minLength: 1, maxLength: 4 }), { nil: undefined });

describe("done marker names", () => {
  it("give back the store and the zip size for any mount, index and size", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(""), mount),
        index,
        fc.boolean(),
        fc.nat({ max: 2 ** 40 }),
        (m, i, zip, size) => {
          const rel = relPathFor(m, m === "" ? undefined : i, zip);
          const name = markerName(rel, zip ? size : undefined);
          expect(parseMarkerName(name)).toEqual(zip ? { rel, size } : { rel });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("are told apart from other objects", () => {
    for (const name of [
      "data.zarr",
      "data.zarr.zip",
      "data.zarr.zip.json",
      "x.json",
      "data.zarr.zip.12.jsn",
      "",
    ]) {
      expect(parseMarkerName(name)).toBeUndefined();
    }
  });
});
