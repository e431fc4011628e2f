import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DirectoryStore } from "../src/directory-store.js";
import { readArray } from "./helpers/arrays.js";

const SEED = new URL("./fixtures/python-seed/", import.meta.url).pathname;

for (const flavour of ["slash", "dot"]) {
  describe(`the Python original's ${flavour} fixture`, () => {
    const values = JSON.parse(readFileSync(`${SEED}${flavour}/values.json`, "utf8")) as Record<
      string,
      { dtype: string; shape: number[]; values: unknown }
    >;
    const store = new DirectoryStore(`${SEED}${flavour}/single.zarr`);

    it("has arrays to check", () => {
      expect(Object.keys(values).length).toBeGreaterThanOrEqual(10);
    });

    for (const [name, want] of Object.entries(values)) {
      it(`reads single.zarr/${name} (${want.dtype}, shape ${JSON.stringify(want.shape)}) equal to values.json`, async () => {
        const got = await readArray(store, name);
        expect(got.shape).toEqual(want.shape);
        expect(got.values).toEqual(want.values);
      });
    }
  });
}
