import { cp, rm } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackedInstall, packedInstall } from "./helpers/packed-install.js";
import { tensorstorePython } from "./helpers/python.js";

// An array with the v3 `sharding_indexed` codec, written by tensorstore (zarrita cannot write one).
const WRITE = `
import sys, numpy as np, tensorstore as ts
path, bump = sys.argv[1], int(sys.argv[2])
spec = {
  "driver": "zarr3",
  "kvstore": {"driver": "file", "path": path + "/arr"},
  "metadata": {
    "shape": [10, 7], "data_type": "int32",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 4]}},
    "codecs": [{"name": "sharding_indexed", "configuration": {
      "chunk_shape": [2, 2],
      "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "gzip", "configuration": {"level": 1}}],
      "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}],
    "fill_value": 0,
  },
  "create": True, "delete_existing": True,
}
a = ts.open(spec).result()
d = np.arange(70, dtype="<i4").reshape(10, 7)
d[9, 6] += bump
a[...] = d
open(path + "/zarr.json", "w").write('{"zarr_format": 3, "node_type": "group", "attributes": {}}')
`;

let pkg: PackedInstall;
let work: string;
beforeAll(async () => {
  pkg = await packedInstall();
  work = await pkg.workDir("verify-sharding");
  await tensorstorePython(WRITE, path.join(work, "a.zarr"), "0");
  await cp(path.join(work, "a.zarr"), path.join(work, "copy.zarr"), { recursive: true });
  await tensorstorePython(WRITE, path.join(work, "b.zarr"), "5");
}, 300_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("verify --arrays on sharding_indexed arrays (tensorstore)", () => {
  it("a store compared with itself and with a copy is identical, the array compared by value", async () => {
    for (const other of ["a.zarr", "copy.zarr"]) {
      const r = await pkg.shardedstore(["verify", "a.zarr", other, "--arrays", "--json"], { cwd: work });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.identical).toBe(true);
      expect(j.arrays).toEqual({ checked: true, compared: 1, differ: [] });
    }
  });

  it("a shard holding one different element is reported, by key and by value", async () => {
    const r = await pkg.shardedstore(["verify", "a.zarr", "b.zarr", "--arrays", "--json"], { cwd: work });
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    // The last shard (2/1) differs as bytes, and as values at element [9, 6] = 69 vs 74.
    expect(j.differ.map((d: { key: string }) => d.key)).toEqual(["/arr/c/2/1"]);
    expect(j.arrays.differ).toHaveLength(1);
    expect(j.arrays.differ[0].path).toBe("/arr");
    expect(j.arrays.differ[0].reason).toMatch(/69 vs 74/);
  });
});
